import { createRequire } from 'node:module';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { endpointHint, type OtlpConfig } from './config.js';
import type { GrpcExporter } from './grpc.js';
import { OtlpHttpTransport, type SendResult } from './http-transport.js';
import { TraceRequestBuilder } from './otlp-proto.js';
import { withResourceAttributes } from './resource-attributes.js';
import { BatchingSink, DEFAULT_LIMITS, type BatchLimits, type Delivery, type Refusal } from './sink.js';

// Loaded only when needed: startup is a noticeable part of a short export, and the protobuf path
// needs neither the JSON serializer nor gRPC.
const require = createRequire(import.meta.url);

/** Estimated bytes at which a gRPC request is sent: well under the 4 MiB receivers take by default. */
const GRPC_MAX_BYTES = 3 * 1024 * 1024;

/** Consecutive failed batches after which the collector is taken to be down for this run. */
const GIVE_UP_AFTER = 3;

/**
 * Sends awaited batches over OTLP (no BatchSpanProcessor: it drops spans when its queue
 * overflows). 429/502/503/504 and network errors are retried within the timeout; a request counts
 * as delivered only when the collector answered it as OTLP and refused none of its spans.
 */
export class OtlpSink extends BatchingSink<OtlpBatch> {
  readonly target: string;
  private readonly transport: OtlpHttpTransport | undefined;
  private readonly grpc: GrpcExporter | undefined;
  /** protobuf only: spans are encoded as they are added */
  private readonly request: TraceRequestBuilder | undefined;
  private consecutiveFailures = 0;
  /** OTEL_RESOURCE_ATTRIBUTES merged into each span's resource */
  private readonly overlay: ((span: ReadableSpan) => ReadableSpan) | undefined;
  /** said with every failure: the endpoint looks like a mistake */
  private readonly hint: string | undefined;
  onStatus?: (message: string) => void;

  /** `giveUp: false` keeps trying every batch (live mode, where the files are re-read after an outage) */
  constructor(readonly config: OtlpConfig, limits: BatchLimits = DEFAULT_LIMITS, private readonly giveUp = true) {
    // gRPC receivers refuse messages over 4 MiB by default, and gRPC requests are sized by estimate
    super(config.protocol === 'grpc' ? { ...limits, maxBytes: Math.min(limits.maxBytes, GRPC_MAX_BYTES) } : limits);
    this.target = config.url;
    this.hint = endpointHint(config);
    this.overlay = config.resourceAttributes && withResourceAttributes(config.resourceAttributes);
    if (config.protocol === 'grpc') {
      this.grpc = (require('./grpc.js') as typeof import('./grpc.js')).grpcExporter(config);
    } else {
      const json = config.protocol === 'http/json';
      this.transport = new OtlpHttpTransport(config, json ? 'application/json' : 'application/x-protobuf');
      if (!json) this.request = new TraceRequestBuilder();
    }
  }

  override add(spans: ReadableSpan[], owner: Delivery): Promise<void> {
    return super.add(this.overlay ? spans.map(this.overlay) : spans, owner);
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
    const result = await this.post(batch);
    if (!result.ok) {
      this.consecutiveFailures++;
      const message = withHint(result.message, this.hint);
      if (this.giveUp && this.consecutiveFailures === GIVE_UP_AFTER) this.onStatus?.(`collector at ${this.target} looks down (${message}); not sending more in this run`);
      return { message };
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

  private async post(batch: OtlpBatch): Promise<SendResult> {
    if (this.grpc) {
      const grpc = this.grpc;
      const result = await new Promise<ExportResult>((resolve) => grpc.export(batch as ReadableSpan[], resolve));
      return result.code === ExportResultCode.SUCCESS ? { ok: true } : { ok: false, message: describeGrpcError(result.error) };
    }
    const body = Array.isArray(batch) ? jsonRequest(batch) : batch.body;
    return (this.transport as OtlpHttpTransport).send(body);
  }

  override async close(): Promise<void> {
    await super.close();
    this.transport?.close();
    await this.grpc?.shutdown();
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

/** grpc-js errors read "14 UNAVAILABLE: No connection established. Last error: …": the status code and its name lead */
function describeGrpcError(err: Error | undefined): string {
  let text = err?.message?.split('\n')[0]?.trim() || 'export failed';
  if (/ECONNREFUSED/.test(text)) text = text.replace(/:.*$/, ': connection refused');
  text = text.replace(/\s*Resolution note:.*$/, '').replace('Last error: Error: ', 'last error: ');
  return `gRPC ${text.slice(0, 300)}`;
}

const withHint = (text: string, hint: string | undefined) => (hint ? `${text}; hint: ${hint}` : text);
