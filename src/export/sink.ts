import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';

/**
 * Per-session delivery counters, updated as batches succeed or fail. A span is counted delivered
 * only when its request was accepted whole: when a collector refuses some spans of a request
 * (OTLP partial success) it does not say which, so every span of that request counts as failed
 * for its session, while the sink's totals keep the collector's exact count.
 */
export interface Delivery {
  delivered: number;
  failed: number;
}

/** A batch not delivered, or not wholly: why, and how many of its spans were refused (all when absent). */
export interface Refusal {
  message: string;
  spans?: number;
}

export interface SinkStats {
  delivered: number;
  failed: number;
  requests: number;
  /** requests none of whose spans were delivered */
  failedRequests: number;
  /** requests the collector accepted but for some spans (OTLP partial success) */
  partialRequests: number;
  lastError?: string;
}

export interface SpanSink {
  readonly stats: SinkStats;
  /** Resolves once the spans are buffered; waits while too many batches are in flight. */
  add(spans: ReadableSpan[], owner: Delivery): Promise<void>;
  /** Sends what is buffered and waits for every batch in flight. */
  flush(): Promise<void>;
  close(): Promise<void>;
  /** where spans go, for the summary */
  readonly target: string;
}

export interface BatchLimits {
  maxSpans: number;
  /** encoded bytes (exact for protobuf, else estimated) at which a request is sent: well under the collector's 20 MiB HTTP limit */
  maxBytes: number;
  maxInFlight: number;
}

export const DEFAULT_LIMITS: BatchLimits = { maxSpans: 512, maxBytes: 4 * 1024 * 1024, maxInFlight: 2 };

/**
 * Groups spans into size-bounded batches and hands each to `send`, with at most `maxInFlight`
 * outstanding; `add` waits when the limit is reached, so memory stays bounded.
 *
 * A batch is whatever `stage` makes of its spans and `seal` hands over: by default the spans
 * themselves; a sink may instead serialize each span as it comes, so that span objects do not
 * outlive their turn.
 */
export abstract class BatchingSink<Batch = ReadableSpan[]> implements SpanSink {
  readonly stats: SinkStats = { delivered: 0, failed: 0, requests: 0, failedRequests: 0, partialRequests: 0 };
  abstract readonly target: string;
  /** the owner of each staged span, in order */
  private owners: Delivery[] = [];
  private stagedBytes = 0;
  private staged: ReadableSpan[] = [];
  /** a span that could not be staged fails its whole batch, as a request that cannot be serialized would */
  private stageError: string | undefined;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly limits: BatchLimits = DEFAULT_LIMITS) {}

  /** Delivers one batch; resolves with what was refused, if anything. */
  protected abstract send(batch: Batch): Promise<Refusal | undefined>;

  /** Takes a span into the batch being gathered; returns what it adds to the request, in bytes (estimated here). */
  protected stage(span: ReadableSpan): number {
    this.staged.push(span);
    return estimateBytes(span);
  }

  /** The batch gathered since the last one. */
  protected seal(): Batch {
    const spans = this.staged;
    this.staged = [];
    return spans as Batch;
  }

  async add(spans: ReadableSpan[], owner: Delivery): Promise<void> {
    for (const span of spans) {
      try {
        this.stagedBytes += this.stage(span);
      } catch (err) {
        this.stageError ??= messageOf(err);
      }
      this.owners.push(owner);
      if (this.owners.length >= this.limits.maxSpans || this.stagedBytes >= this.limits.maxBytes) await this.dispatch();
    }
  }

  async flush(): Promise<void> {
    if (this.owners.length > 0) await this.dispatch();
    await Promise.all(this.inFlight);
  }

  async close(): Promise<void> {
    await this.flush();
  }

  private async dispatch(): Promise<void> {
    while (this.inFlight.size >= this.limits.maxInFlight) await Promise.race(this.inFlight);
    const owners = this.owners;
    this.owners = [];
    this.stagedBytes = 0;
    let sealed: { batch: Batch } | { error: Refusal };
    try {
      const batch = this.seal();
      sealed = this.stageError === undefined ? { batch } : { error: { message: this.stageError } };
    } catch (err) {
      sealed = { error: { message: messageOf(err) } };
    }
    this.stageError = undefined;
    const p = this.deliver(sealed, owners).finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
  }

  private async deliver(sealed: { batch: Batch } | { error: Refusal }, owners: Delivery[]): Promise<void> {
    let refusal: Refusal | undefined;
    try {
      refusal = 'error' in sealed ? sealed.error : await this.send(sealed.batch);
    } catch (err) {
      refusal = { message: messageOf(err) };
    }
    this.stats.requests++;
    if (refusal === undefined) {
      this.stats.delivered += owners.length;
      for (const o of owners) o.delivered++;
      return;
    }
    const refused = Math.min(owners.length, refusal.spans ?? owners.length);
    if (refused === owners.length) this.stats.failedRequests++;
    else this.stats.partialRequests++;
    this.stats.delivered += owners.length - refused;
    this.stats.failed += refused;
    this.stats.lastError = refusal.message;
    for (const o of owners) o.failed++;
  }
}

function messageOf(err: unknown): string {
  return (err as Error).message ?? String(err);
}

function estimateBytes(span: ReadableSpan): number {
  let n = 160 + span.name.length;
  const attrs = span.attributes;
  for (const k in attrs) {
    if (!Object.prototype.hasOwnProperty.call(attrs, k)) continue;
    const v = attrs[k];
    n += k.length + (typeof v === 'string' ? v.length : 12) + 8;
  }
  for (const e of span.events) n += 40 + e.name.length + JSON.stringify(e.attributes ?? {}).length;
  return n;
}
