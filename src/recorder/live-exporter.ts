import { existsSync, readFileSync, statSync } from 'node:fs';
import { deliveryConfig, type DeliveryOptions } from '../export/config.js';
import { DeliveryLedger } from '../export/ledger.js';
import { OtlpSink } from '../export/otlp-sink.js';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { Delivery, SpanSink } from '../export/sink.js';
import { lineDialect } from '../formats/registry.js';
import { contentPolicyOf, type ContentOptions } from '../otel/content.js';
import { defaultStateDir } from '../pipeline/state-dir.js';
import { inSegment, planAfter, type InputPlan } from '../pipeline/export-input.js';
import { contentChangeNote } from '../pipeline/delivery-plan.js';
import { newReport, type ExportReport } from '../pipeline/report.js';
import { defaultPlacement, exportSession, RolloutSession, stableSourcePath, type SessionOptions } from '../pipeline/session.js';
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
  /**
   * Where the delivery ledger is kept, shared with `rollout-otel export` and `watch` (their
   * `--state`): what this exporter delivered they do not send again, what it could not deliver they
   * send, and a session recorded on after it was closed goes on in a trace of its own. Default: the
   * CLI's default state directory. `false`: no ledger (a later export sends the whole session again).
   * Only a session written to a file (a recorder's) has an entry.
   */
  stateDir?: string | false;
}

/** the longest wait between two re-sends from the file while the collector refuses spans */
const MAX_BACKOFF_MS = 30_000;
/** re-sends tried at the session's end (waiting 1 s, 2 s, 4 s between them) before the rest is left to an export */
const FINAL_TRIES = 4;

export interface LiveExportReport extends ExportReport {
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
        // once a line is dropped every later one is too: the session read so far stays whole, and
        // the delivery ledger stays where it was for the export that fills in the rest
        if (this.dropped > 0 || this.queue.length >= max) {
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
    await this.planned();
    const session = new RolloutSession(path, {
      ...this.reading(),
      mtimeMs: Date.now(),
      emit: (spans, closedAt, thread): Promise<void> => this.deliver(spans, closedAt, thread === true),
    });
    this.session = session;
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
    return { ...report, spans: report.spans - this.skipped, delivered: this.delivery.delivered, notDelivered: this.delivery.failed, droppedLines: this.dropped };
  }

  private file: string | undefined;
  private session: RolloutSession | undefined;
  /** what the ledger says was delivered before: only the rest is sent */
  private plan: InputPlan = planAfter(undefined);
  private ledger: DeliveryLedger | undefined;
  /** the session's name in the ledger, and its file's inode */
  private key = '';
  private ino: number | undefined;
  /** every turn closed by a line up to this one was delivered */
  private through = 0;
  /** the collector refused spans: until it takes them again, what is new is sent from the file */
  private holding = false;
  /** spans of turns the ledger says were delivered before */
  private skipped = 0;

  /** What the ledger says this session's backend has. */
  private async planned(): Promise<void> {
    const dir = this.opts.stateDir ?? defaultStateDir();
    if (!this.file || dir === false) return;
    this.ledger = await new DeliveryLedger(dir, this.sink.target).load();
    this.key = stableSourcePath(this.file);
    this.ino = statSync(this.file, { throwIfNoEntry: false })?.ino;
    const saved = this.ledger.get(this.key);
    const note = contentChangeNote(this.file, saved, contentPolicyOf(this.opts).capture);
    if (note) this.opts.onStatus?.(note);
    this.through = saved?.through ?? 0;
    this.plan = planAfter(saved);
  }

  /**
   * Sends the spans of a turn that closed at line `closedAt` (Infinity: the session's end; `thread`:
   * the thread span, last). After a refusal, sends from the file instead, with backoff.
   */
  private async deliver(spans: ReadableSpan[], closedAt: number, thread: boolean): Promise<void> {
    if (closedAt <= this.plan.skipThrough) {
      this.skipped += spans.length;
      return;
    }
    // lines were dropped: the session's end is not known here, the export of the file sends it
    if (this.dropped > 0 && closedAt === Infinity) {
      this.delivery.failed += spans.length;
      this.reported = this.delivery.failed;
      return;
    }
    if (this.holding && this.file) {
      // not delivered until a re-send from the file takes them
      this.delivery.failed += spans.length;
      this.reported = this.delivery.failed;
      if (closedAt !== Infinity && Date.now() < this.retryAt) return;
      await this.resend(this.file, closedAt, thread);
      if (thread) await this.lastTries(this.file);
      return;
    }
    const failedBefore = this.delivery.failed;
    await this.sink.add(spans, this.delivery);
    // A turn just closed: send it now rather than when a batch fills.
    await this.sink.flush();
    this.reportFailures();
    if (this.delivery.failed <= failedBefore) return this.advance(closedAt, thread);
    this.refused();
    if (thread && this.file) await this.lastTries(this.file);
  }

  /** The thread span is the last chance in this process: a few more tries, after their backoff. */
  private async lastTries(file: string): Promise<void> {
    for (let tries = 1; this.holding && tries < FINAL_TRIES; tries++) {
      await new Promise((resolve) => setTimeout(resolve, this.backoffMs));
      await this.resend(file, Infinity, true);
    }
  }

  private refused(): void {
    this.holding = true;
    this.backoffMs = Math.min(MAX_BACKOFF_MS, Math.max(1000, this.backoffMs * 2));
    this.retryAt = Date.now() + this.backoffMs;
  }
  private backoffMs = 0;
  private retryAt = 0;

  /**
   * Sends again from the file every span after what was delivered, up to the turn that just closed
   * (the thread span only when it is the one being sent: the live session sends its own after).
   */
  private async resend(file: string, upTo: number, thread: boolean): Promise<void> {
    const from = Math.max(this.through, this.plan.skipThrough);
    const retry: Delivery = { delivered: 0, failed: 0 };
    await exportSession(file, {
      ...this.reading(),
      emit: async (spans, closedAt, isThread) => {
        if (closedAt > from && closedAt <= upTo && (thread || !isThread)) await this.sink.add(spans, retry);
      },
    });
    await this.sink.flush();
    if (retry.failed > 0) return this.refused();
    this.holding = false;
    this.backoffMs = 0;
    this.delivery.delivered += retry.delivered;
    this.delivery.failed -= Math.min(this.delivery.failed, retry.delivered);
    this.reported = this.delivery.failed;
    this.opts.onStatus?.(`collector at ${this.sink.target} is back: re-sent ${retry.delivered} spans from ${file}`);
    await this.advance(upTo, thread);
  }

  /**
   * Notes in the ledger that every turn closed up to line `closedAt` was delivered (at the end:
   * every turn closed by a line); the segment is closed only once its thread span was.
   */
  private async advance(closedAt: number, thread: boolean): Promise<void> {
    const report = this.session?.report;
    if (!report) return;
    this.through = closedAt === Infinity ? report.through ?? report.lines : closedAt;
    if (!this.ledger || !report.traceId) return;
    this.ledger.set(this.key, {
      traceId: report.traceId, segment: this.plan.segment, through: this.through, size: report.bytes ?? 0,
      closed: thread, content: contentPolicyOf(this.opts).capture, ino: this.ino,
    });
    try {
      await this.ledger.save();
    } catch (err) {
      this.onError(new Error(`cannot save the delivery ledger ${this.ledger.file} (${(err as Error).message}); a later rollout-otel export sends this session again`));
    }
  }

  /** How lines become spans: the same for the live session and for a re-read of its file. */
  private reading(): Pick<SessionOptions, 'serviceName' | 'content' | 'dialect' | 'sourcePath' | 'closedThrough' | 'place'> {
    const plan = this.plan;
    return {
      closedThrough: plan.closedThrough,
      place: (meta) => inSegment(defaultPlacement(meta), plan.segment),
      // a path given is used as given; a recorder's file is named as any file is (pipeline/session.ts)
      sourcePath: this.opts.path ?? (this.file ? undefined : 'in-process'),
      serviceName: this.opts.serviceName,
      content: contentPolicyOf(this.opts),
      dialect: lineDialect(this.opts.format),
    };
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
