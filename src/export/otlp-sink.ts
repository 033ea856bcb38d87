import { createRequire } from 'node:module';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { OtlpConfig } from './config.js';
import { OtlpHttpTransport } from './http-transport.js';
import { TraceRequestBuilder } from './otlp-proto.js';
import { BatchingSink, DEFAULT_LIMITS, type BatchLimits, type Refusal } from './sink.js';

// Loaded only when needed: startup is a noticeable part of a short export, and the protobuf path
// does not need the JSON serializer.
const require = createRequire(import.meta.url);

/** Consecutive failed batches after which the collector is taken to be down for this run. */
const GIVE_UP_AFTER = 3;

/**
 * Sends awaited batches over OTLP/HTTP (no BatchSpanProcessor: it drops spans when its queue
 * overflows). 429/502/503/504 and network errors are retried within the timeout; a request counts
 * as delivered only when the collector answered it as OTLP and refused none of its spans.
 */
export class OtlpSink extends BatchingSink<OtlpBatch> {
  readonly target: string;
  private readonly transport: OtlpHttpTransport;
  /** protobuf only: spans are encoded as they are added */
  private readonly request: TraceRequestBuilder | undefined;
  private consecutiveFailures = 0;
  onStatus?: (message: string) => void;

  /** `giveUp: false` keeps trying every batch (live mode, where the files are re-read after an outage) */
  constructor(readonly config: OtlpConfig, limits: BatchLimits = DEFAULT_LIMITS, private readonly giveUp = true) {
    super(limits);
    this.target = config.url;
    const json = config.protocol === 'http/json';
    this.transport = new OtlpHttpTransport(config, json ? 'application/json' : 'application/x-protobuf');
    if (!json) this.request = new TraceRequestBuilder();
  }

  protected override stage(span: ReadableSpan): number {
    return this.request ? this.request.add(span) : super.stage(span);
  }

  protected override seal(): OtlpBatch {
    if (!this.request) return super.seal();
    const spans = this.request.spanCount;
    return { body: this.request.build(), spans };
  }

  get collectorDown(): boolean {
    return this.consecutiveFailures >= GIVE_UP_AFTER;
  }

  protected async send(batch: OtlpBatch): Promise<Refusal | undefined> {
    if (this.giveUp && this.collectorDown) return { message: `not sent: the collector at ${this.target} failed ${GIVE_UP_AFTER} times in a row` };
    const body = Array.isArray(batch) ? jsonRequest(batch) : batch.body;
    const result = await this.transport.send(body);
    if (!result.ok) {
      this.consecutiveFailures++;
      if (this.giveUp && this.consecutiveFailures === GIVE_UP_AFTER) this.onStatus?.(`collector at ${this.target} looks down (${result.message}); not sending more in this run`);
      return { message: result.message };
    }
    // Only a request the collector answered is reused: after a failure, compression may still be reading it.
    if (this.request && !Array.isArray(batch)) this.request.release(batch.body);
    if (this.consecutiveFailures >= 1) this.onStatus?.(`collector at ${this.target} is accepting spans again`);
    this.consecutiveFailures = 0;
    if (!('rejected' in result)) return undefined;
    const message = `the collector refused ${result.rejected} of ${Array.isArray(batch) ? batch.length : batch.spans} spans in a request: ${result.message}`;
    if (result.rejected === 0) {
      // a partial success that refused nothing is a warning from the collector
      this.onStatus?.(`collector at ${this.target} warns: ${result.message}`);
      return undefined;
    }
    return { message, spans: result.rejected };
  }

  override async close(): Promise<void> {
    await super.close();
    this.transport.close();
  }
}

/** A protobuf request already encoded, and how many spans it carries. */
interface EncodedRequest {
  body: Uint8Array;
  spans: number;
}

type OtlpBatch = ReadableSpan[] | EncodedRequest;

function jsonRequest(spans: ReadableSpan[]): Uint8Array {
  const { JsonTraceSerializer } = require('@opentelemetry/otlp-transformer') as typeof import('@opentelemetry/otlp-transformer');
  const body = JsonTraceSerializer.serializeRequest(spans);
  if (!body) throw new Error('the spans could not be serialized');
  return body;
}
