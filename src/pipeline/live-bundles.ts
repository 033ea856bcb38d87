import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { BundleDialect } from '../formats/dialect.js';
import type { Delivery, SpanSink } from '../export/sink.js';
import { exportBundle, type BundleOptions } from './bundle.js';
import type { FileCheckpoint } from './checkpoints.js';

// A bundle is exported whole once its event log has been still this long after growing.
const SETTLE_MS = 1000;

/**
 * Follows one trace bundle. A bundle's spans only make sense together (threads, edges, payloads),
 * so each time its event log settles the whole bundle is read again and only the spans that are
 * new or changed since the last read are sent.
 */
export class BundleFollower {
  readonly delivery: Delivery = { delivered: 0, failed: 0 };
  reported = 0;
  ino: number | undefined;
  /** event log size covered by the last export */
  exportedSize = -1;
  traceId: string | undefined;
  private sent = new Map<string, string>();
  private pending = new Map<string, string>();

  constructor(private readonly dialect: BundleDialect, readonly dir: string, saved: FileCheckpoint | undefined) {
    if (saved?.closed) {
      this.ino = saved.ino;
      this.exportedSize = saved.offset;
    }
  }

  /** Exports the bundle again when its log changed and has settled; returns whether it did. */
  async check(sink: SpanSink, opts: Omit<BundleOptions, 'emit'>, log: (m: string, problem?: boolean) => void): Promise<boolean> {
    const trace = this.dialect.logOf(this.dir);
    const s = await stat(trace).catch(() => undefined);
    if (!s) return false;
    if (this.ino !== undefined && s.ino !== this.ino) this.exportedSize = -1;
    this.ino = s.ino;
    if (s.size === this.exportedSize || Date.now() - s.mtimeMs < SETTLE_MS) return false;
    const report = await exportBundle(this.dialect, this.dir, {
      ...opts,
      emit: async (spans: ReadableSpan[]) => {
        const fresh = spans.filter((span) => this.isNew(span));
        if (fresh.length) await sink.add(fresh, this.delivery);
      },
    });
    this.exportedSize = s.size;
    this.traceId = report.traceId;
    if (report.error) log(`${this.dir}: ${report.error}`, true);
    return true;
  }

  /** After a flush: what was sent is delivered (true) or must be sent again (false). */
  settle(delivered: boolean): void {
    if (delivered) for (const [k, v] of this.pending) this.sent.set(k, v);
    else this.exportedSize = -1;
    this.pending.clear();
  }

  private isNew(span: ReadableSpan): boolean {
    const id = span.spanContext().spanId;
    // everything that can change as a bundle grows, values included; hashed, as captured content can be long
    const digest = createHash('sha256').update(JSON.stringify([span.endTime, span.status, span.attributes, span.events, span.links])).digest('base64');
    if (this.sent.get(id) === digest || this.pending.get(id) === digest) return false;
    this.pending.set(id, digest);
    return true;
  }
}
