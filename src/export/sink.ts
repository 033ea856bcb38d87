import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';

/** Per-session delivery counters, updated as batches succeed or fail. */
export interface Delivery {
  delivered: number;
  failed: number;
}

export interface SinkStats {
  delivered: number;
  failed: number;
  requests: number;
  failedRequests: number;
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

interface Entry {
  span: ReadableSpan;
  owner: Delivery;
}

export interface BatchLimits {
  maxSpans: number;
  /** estimated encoded bytes per request: well under the collector's 20 MiB HTTP limit */
  maxBytes: number;
  maxInFlight: number;
}

export const DEFAULT_LIMITS: BatchLimits = { maxSpans: 512, maxBytes: 4 * 1024 * 1024, maxInFlight: 2 };

/**
 * Groups spans into size-bounded batches and hands each to `send`, with at most `maxInFlight`
 * outstanding; `add` waits when the limit is reached, so memory stays bounded.
 */
export abstract class BatchingSink implements SpanSink {
  readonly stats: SinkStats = { delivered: 0, failed: 0, requests: 0, failedRequests: 0 };
  abstract readonly target: string;
  private buffer: Entry[] = [];
  private bufferBytes = 0;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly limits: BatchLimits = DEFAULT_LIMITS) {}

  /** Delivers one batch; resolves with an error message when it was not delivered. */
  protected abstract send(spans: ReadableSpan[]): Promise<string | undefined>;

  async add(spans: ReadableSpan[], owner: Delivery): Promise<void> {
    for (const span of spans) {
      const bytes = estimateBytes(span);
      if (this.buffer.length > 0 && (this.buffer.length >= this.limits.maxSpans || this.bufferBytes + bytes > this.limits.maxBytes)) {
        await this.dispatch();
      }
      this.buffer.push({ span, owner });
      this.bufferBytes += bytes;
    }
  }

  async flush(): Promise<void> {
    if (this.buffer.length > 0) await this.dispatch();
    await Promise.all(this.inFlight);
  }

  async close(): Promise<void> {
    await this.flush();
  }

  private async dispatch(): Promise<void> {
    while (this.inFlight.size >= this.limits.maxInFlight) await Promise.race(this.inFlight);
    const batch = this.buffer;
    this.buffer = [];
    this.bufferBytes = 0;
    const p = this.deliver(batch).finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
  }

  private async deliver(batch: Entry[]): Promise<void> {
    let error: string | undefined;
    try {
      error = await this.send(batch.map((e) => e.span));
    } catch (err) {
      error = (err as Error).message ?? String(err);
    }
    this.stats.requests++;
    if (error === undefined) {
      this.stats.delivered += batch.length;
      for (const e of batch) e.owner.delivered++;
    } else {
      this.stats.failedRequests++;
      this.stats.failed += batch.length;
      this.stats.lastError = error;
      for (const e of batch) e.owner.failed++;
    }
  }
}

function estimateBytes(span: ReadableSpan): number {
  let n = 160 + span.name.length;
  for (const [k, v] of Object.entries(span.attributes)) n += k.length + (typeof v === 'string' ? v.length : 12) + 8;
  for (const e of span.events) n += 40 + e.name.length + JSON.stringify(e.attributes ?? {}).length;
  return n;
}
