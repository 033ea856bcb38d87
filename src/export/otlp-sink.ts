import { createRequire } from 'node:module';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { CompressionAlgorithm, OTLPExporterBase, type OTLPExporterNodeConfigBase } from '@opentelemetry/otlp-exporter-base';
import { convertLegacyHttpOptions, createOtlpHttpExportDelegate } from '@opentelemetry/otlp-exporter-base/node-http';
import type { IExporterMetricsHelper, IExportTraceServiceResponse, ISerializer } from '@opentelemetry/otlp-transformer';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { endpointHint, type OtlpConfig } from './config.js';
import { TraceRequestBuilder } from './otlp-proto.js';
import { withResourceAttributes } from './resource-attributes.js';
import { BatchingSink, DEFAULT_LIMITS, type BatchLimits, type Delivery } from './sink.js';

// Loaded only when needed: startup is a noticeable part of a short export, and the protobuf path
// needs neither the JSON exporter nor, for the empty answers collectors give, the response decoder.
const require = createRequire(import.meta.url);

/** Estimated bytes at which a gRPC request is sent: well under the 4 MiB receivers take by default. */
const GRPC_MAX_BYTES = 3 * 1024 * 1024;

/** Consecutive failed batches after which the collector is taken to be down for this run. */
const GIVE_UP_AFTER = 3;

/**
 * Sends awaited batches straight to the OTLP exporter (no BatchSpanProcessor: it drops spans
 * when its queue overflows). The exporter retries 429/502/503/504 and network errors itself.
 */
export class OtlpSink extends BatchingSink<OtlpBatch> {
  readonly target: string;
  private readonly exporter: BatchExporter<OtlpBatch>;
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
    const tls = config.tls;
    const options = {
      url: config.url,
      headers: config.headers,
      compression: config.compression === 'gzip' ? CompressionAlgorithm.GZIP : CompressionAlgorithm.NONE,
      timeoutMillis: config.timeoutMillis,
      // given explicitly, so that the exporter does not read the files again from process.env
      ...(tls && (tls.ca || tls.cert) ? { httpAgentOptions: { keepAlive: true, ca: tls.ca, cert: tls.cert, key: tls.key } } : {}),
    };
    if (config.protocol === 'grpc') {
      this.exporter = (require('./grpc.js') as typeof import('./grpc.js')).grpcExporter(config) as BatchExporter<OtlpBatch>;
    } else if (config.protocol === 'http/json') {
      const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-http') as typeof import('@opentelemetry/exporter-trace-otlp-http');
      this.exporter = new OTLPTraceExporter(options) as BatchExporter<OtlpBatch>;
    } else {
      this.request = new TraceRequestBuilder();
      this.exporter = protobufExporter(options) as BatchExporter<OtlpBatch>;
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

  protected async send(batch: OtlpBatch): Promise<string | undefined> {
    if (this.giveUp && this.collectorDown) return `not sent: the collector at ${this.target} failed ${GIVE_UP_AFTER} times in a row`;
    const result = await new Promise<ExportResult>((resolve) => this.exporter.export(batch, resolve));
    if (result.code === ExportResultCode.SUCCESS) {
      // Only a delivered request is reused: after a failure, compression may still be reading it.
      if (this.request && !Array.isArray(batch)) this.request.release(batch.body);
      if (this.consecutiveFailures >= 1) this.onStatus?.(`collector at ${this.target} is accepting spans again`);
      this.consecutiveFailures = 0;
      return undefined;
    }
    this.consecutiveFailures++;
    const message = this.config.protocol === 'grpc' ? describeGrpcError(result.error, this.hint) : describeExportError(result.error, this.hint);
    if (this.giveUp && this.consecutiveFailures === GIVE_UP_AFTER) this.onStatus?.(`collector at ${this.target} looks down (${message}); not sending more in this run`);
    return message;
  }

  override async close(): Promise<void> {
    await super.close();
    await this.exporter.shutdown();
  }
}

/** A protobuf request already encoded, and how many spans it carries. */
interface EncodedRequest {
  body: Uint8Array;
  spans: number;
}

type OtlpBatch = ReadableSpan[] | EncodedRequest;

interface BatchExporter<B> {
  export(batch: B, done: (result: ExportResult) => void): void;
  shutdown(): Promise<void>;
}

const encoded: ISerializer<EncodedRequest, IExportTraceServiceResponse> = {
  serializeRequest: (r) => r.body,
  deserializeResponse: (data) =>
    data.length === 0 ? {} : (require('@opentelemetry/otlp-transformer') as typeof import('@opentelemetry/otlp-transformer')).ProtobufTraceSerializer.deserializeResponse(data),
};

const encodedMetrics: IExporterMetricsHelper<EncodedRequest> = { name: 'span', countItems: (r) => r.spans };

/**
 * The OTLP/HTTP protobuf exporter as @opentelemetry/exporter-trace-otlp-proto builds it (same
 * configuration, environment, retries, compression), sending requests we encode ourselves:
 * serialization was the largest cost of an export after JSON.parse.
 */
function protobufExporter(options: OTLPExporterNodeConfigBase): BatchExporter<EncodedRequest> {
  const http = convertLegacyHttpOptions(options, 'TRACES', 'v1/traces', { 'Content-Type': 'application/x-protobuf' });
  return new OTLPExporterBase(createOtlpHttpExportDelegate(http, encoded, 'otlp_http_span_exporter', encodedMetrics, undefined));
}

export function describeExportError(err: Error | undefined, hint?: string): string {
  return withHint(httpErrorText(err), hint);
}

function httpErrorText(err: Error | undefined): string {
  if (!err) return 'export failed';
  const e = err as Error & { code?: string | number; data?: string };
  if (e.code === 'ECONNREFUSED') return 'connection refused';
  if (typeof e.code === 'number') return `HTTP ${e.code}${e.message ? ` ${e.message}` : ''}${e.data ? `: ${String(e.data).slice(0, 200)}` : ''}`;
  if (typeof e.code === 'string') return `${e.code}: ${e.message}`;
  return e.message || 'export failed';
}

/** grpc-js errors read "14 UNAVAILABLE: No connection established. Last error: …": the status code and its name lead */
function describeGrpcError(err: Error | undefined, hint?: string): string {
  let text = err?.message?.split('\n')[0]?.trim() || 'export failed';
  if (/ECONNREFUSED/.test(text)) text = text.replace(/:.*$/, ': connection refused');
  text = text.replace(/\s*Resolution note:.*$/, '').replace('Last error: Error: ', 'last error: ');
  return withHint(`gRPC ${text.slice(0, 300)}`, hint);
}

const withHint = (text: string, hint: string | undefined) => (hint ? `${text}; hint: ${hint}` : text);
