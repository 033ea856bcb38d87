import { existsSync, readFileSync } from 'node:fs';
import { deliveryConfig, type DeliveryOptions } from '../export/config.js';
import { OtlpSink } from '../export/otlp-sink.js';
import type { Delivery, SpanSink } from '../export/sink.js';
import { lineDialect } from '../formats/registry.js';
import { contentPolicyOf, type ContentOptions } from '../otel/content.js';
import { newReport, type SessionReport } from '../pipeline/report.js';
import { exportSession, RolloutSession, type SessionOptions } from '../pipeline/session.js';
import type { SourceLine } from '../sources/lines.js';
import { RolloutRecorder } from './recorder.js';

export interface LiveExportOptions extends ContentOptions, DeliveryOptions {
  serviceName?: string;
  /** `rollout.source.path` of the spans; the recorder's file by default */
  path?: string;
  /** the dialect of the recorded lines (its name, e.g. codex or generic); recognised from the first line when absent */
  format?: string;
  /** where problems go (never thrown into the recorder); default: one console.warn per kind */
  onError?: (error: Error) => void;
  /** news that is not a problem (the collector came back) */
  onStatus?: (message: string) => void;
  /** deliver somewhere else than OTLP/HTTP */
  sink?: SpanSink;
  /** lines held while the exporter catches up; beyond this they are counted and left to a later backfill */
  maxQueuedLines?: number;
}

export interface LiveExportReport extends SessionReport {
  delivered: number;
  notDelivered: number;
  /** lines not traced because the queue was full */
  droppedLines: number;
}

/**
 * Sends a rollout's spans while it is being written: from a RolloutRecorder in the same process,
 * or from any async iterable of lines. Runs beside the writer: it never throws into it, never
 * makes it wait, and reports its own problems through `onError`.
 */
export class LiveExporter {
  readonly done: Promise<LiveExportReport>;
  private readonly queue: string[] = [];
  private wake: (() => void) | undefined;
  private ended = false;
  private dropped = 0;
  private unsubscribe: (() => void) | undefined;
  private readonly sink: SpanSink;
  private readonly delivery: Delivery = { delivered: 0, failed: 0 };
  private readonly onError: (error: Error) => void;

  constructor(source: RolloutRecorder | AsyncIterable<string | SourceLine>, private readonly opts: LiveExportOptions = {}) {
    this.onError = opts.onError ?? warnOnce();
    this.sink = opts.sink ?? new OtlpSink(deliveryConfig(this.opts), undefined, false);
    const path = opts.path ?? (source instanceof RolloutRecorder ? source.path : 'in-process');
    if (source instanceof RolloutRecorder) this.file = source.path;
    this.done = this.run(path, source instanceof RolloutRecorder ? this.attach(source) : source).catch((err: unknown) => {
      this.onError(err instanceof Error ? err : new Error(String(err)));
      return { ...newReport(path, String(err)), delivered: 0, notDelivered: 0, droppedLines: this.dropped };
    });
  }

  /** Stops listening, closes the session (its thread span) and waits until everything was sent. */
  async close(): Promise<LiveExportReport> {
    this.unsubscribe?.();
    this.end();
    return this.done;
  }

  /** What the file holds already, then every line the recorder writes, with no gap between. */
  private attach(recorder: RolloutRecorder): AsyncIterable<string> {
    if (existsSync(recorder.path)) {
      const text = readFileSync(recorder.path, 'utf8');
      for (const l of text.split('\n').slice(0, -1)) this.queue.push(l);
    }
    const max = this.opts.maxQueuedLines ?? 100_000;
    this.unsubscribe = recorder.subscribe({
      line: (text) => {
        if (this.ended) return;
        if (this.queue.length >= max) {
          if (this.dropped++ === 0) this.onError(new Error(`exporter fell ${max} lines behind ${recorder.path}; later lines are not traced live (rollout-otel export ${recorder.path} fills them in)`));
          return;
        }
        this.queue.push(text.endsWith('\n') ? text.slice(0, -1) : text);
        this.wake?.();
      },
      close: () => this.end(),
    });
    return this.drain();
  }

  private end(): void {
    this.ended = true;
    this.wake?.();
    this.stop?.();
  }
  private stop: (() => void) | undefined;

  private async *drain(): AsyncGenerator<string> {
    for (;;) {
      while (this.queue.length > 0) yield this.queue.shift() as string;
      if (this.ended) return;
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
  }

  private async run(path: string, lines: AsyncIterable<string | SourceLine>): Promise<LiveExportReport> {
    const session = new RolloutSession(path, {
      ...this.reading(),
      mtimeMs: Date.now(),
      emit: async (spans, closedAt) => {
        const failedBefore = this.delivery.failed;
        await this.sink.add(spans, this.delivery);
        // A turn just closed: send it now rather than when a batch fills.
        await this.sink.flush();
        this.reportFailures();
        if (this.delivery.failed > failedBefore) this.lost.add(closedAt);
        else if (this.lost.size > 0 && this.file) await this.refill(this.file);
      },
    });
    let n = 0;
    let offset = 0;
    const it = lines[Symbol.asyncIterator]();
    // close() ends a recorder's queue after draining it; an iterable of our caller's is left where it is.
    const stopped = new Promise<IteratorResult<string | SourceLine>>((resolve) => (this.stop = () => resolve({ done: true, value: undefined })));
    for (;;) {
      const next = this.unsubscribe ? await it.next() : await Promise.race([it.next(), stopped]);
      if (next.done) break;
      const item = next.value;
      const l: SourceLine = typeof item === 'string' ? { text: item, line: ++n, offset, bytes: Buffer.byteLength(item) + 1, complete: true } : item;
      n = l.line;
      offset = l.offset + l.bytes;
      try {
        await session.push(l);
      } catch (err) {
        this.onError(err as Error);
      }
    }
    if (!this.unsubscribe) void it.return?.();
    const report = await session.finish();
    await this.sink.close();
    this.reportFailures();
    if (report.error) this.onError(new Error(`${path}: ${report.error}`));
    return { ...report, delivered: this.delivery.delivered, notDelivered: this.delivery.failed, droppedLines: this.dropped };
  }

  /** lines whose turns' spans the collector refused: sent again from the file once it takes spans */
  private readonly lost = new Set<number>();
  private file: string | undefined;

  /** How lines become spans: the same for the live session and for a re-read of its file. */
  private reading(): Pick<SessionOptions, 'serviceName' | 'content' | 'dialect' | 'sourcePath'> {
    return {
      // a path given is used as given; a recorder's file is named as any file is (pipeline/session.ts)
      sourcePath: this.opts.path ?? (this.file ? undefined : 'in-process'),
      serviceName: this.opts.serviceName,
      content: contentPolicyOf(this.opts),
      dialect: lineDialect(this.opts.format),
    };
  }

  private async refill(file: string): Promise<void> {
    const lost = new Set(this.lost);
    this.lost.clear();
    const retry: Delivery = { delivered: 0, failed: 0 };
    await exportSession(file, {
      ...this.reading(),
      emit: async (spans, closedAt) => {
        if (lost.has(closedAt)) await this.sink.add(spans, retry);
      },
    });
    await this.sink.flush();
    if (retry.failed > 0) for (const l of lost) this.lost.add(l);
    else {
      this.delivery.delivered += retry.delivered;
      this.delivery.failed -= Math.min(this.delivery.failed, retry.delivered);
      this.reported = this.delivery.failed;
      this.opts.onStatus?.(`collector at ${this.sink.target} is back: re-sent ${retry.delivered} spans from ${file}`);
    }
  }

  private reported = 0;
  private reportFailures(): void {
    if (this.delivery.failed > this.reported) {
      this.onError(new Error(`${this.delivery.failed - this.reported} spans not delivered to ${this.sink.target} (${this.sink.stats.lastError}); the rollout file keeps everything for a later rollout-otel export`));
      this.reported = this.delivery.failed;
    }
  }
}

/** Starts a live export beside `source`; `await exporter.close()` when the session is over. */
export function exportLive(source: RolloutRecorder | AsyncIterable<string | SourceLine>, opts?: LiveExportOptions): LiveExporter {
  return new LiveExporter(source, opts);
}

function warnOnce(): (error: Error) => void {
  const seen = new Set<string>();
  return (error) => {
    const key = error.message.replace(/\d+/g, '#');
    if (seen.has(key)) return;
    seen.add(key);
    console.warn(`rollout-otel: ${error.message}`);
  };
}
