import { stat } from 'node:fs/promises';
import type { BundleDialect } from '../formats/dialect.js';
import type { LedgerEntry } from '../export/ledger.js';
import type { Delivery, SpanSink } from '../export/sink.js';
import { exportBundle, type BundleOptions } from './bundle.js';

/**
 * Follows one trace bundle. A bundle's spans only make sense together (threads, edges, payloads),
 * so it is exported whole once its event log has been still for the idle timeout; one that grows
 * after it was delivered is exported whole again into a trace of its own (the next segment), so no
 * delivered span is ever sent again in another version.
 */
export class BundleFollower {
  readonly delivery: Delivery = { delivered: 0, failed: 0 };
  reported = 0;
  traceId: string | undefined;
  /** exported, not yet known delivered */
  private pending: LedgerEntry | undefined;
  /** a size that could not be exported (not a bundle yet, or broken): tried again when it changes */
  private unusable = -1;
  /** when a bundle that changed will have been still for the idle timeout: worth a look then */
  dueAt: number | undefined;

  constructor(private readonly dialect: BundleDialect, readonly dir: string, readonly key: string, private saved: LedgerEntry | undefined, private readonly idleMs: number) {}

  async check(sink: SpanSink, opts: Omit<BundleOptions, 'emit' | 'segment'>, log: (m: string, problem?: boolean) => void): Promise<void> {
    const s = await stat(this.dialect.logOf(this.dir)).catch(() => undefined);
    if (!s || this.pending || s.size === this.unusable) return;
    this.dueAt = undefined;
    if (this.saved?.closed && this.saved.size === s.size) return;
    if (Date.now() - s.mtimeMs < this.idleMs) {
      this.dueAt = s.mtimeMs + this.idleMs;
      return;
    }
    const segment = this.saved ? this.saved.segment + 1 : 0;
    const report = await exportBundle(this.dialect, this.dir, { ...opts, segment, emit: (spans) => sink.add(spans, this.delivery) });
    if (report.error || !report.traceId) {
      this.unusable = s.size;
      if (report.error) log(`${this.dir}: ${report.error}`, true);
      return;
    }
    this.traceId = report.traceId;
    this.pending = { traceId: report.traceId, segment, through: report.lines, size: s.size, closed: true, content: opts.content.capture, ino: s.ino };
  }

  /** After a flush: what was sent is delivered (the entry to record), or is to be sent again. */
  settle(delivered: boolean): LedgerEntry | undefined {
    const entry = delivered ? this.pending : undefined;
    if (entry) this.saved = entry;
    this.pending = undefined;
    return entry;
  }
}
