import { setTimeout as sleep } from 'node:timers/promises';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { CompressionAlgorithm } from '@opentelemetry/otlp-exporter-base';
import { createEmptyMetadata, createInsecureCredentials, createSslCredentials } from '@opentelemetry/otlp-grpc-exporter-base';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { ConfigError, type OtlpConfig } from './config.js';

// Loaded only for --protocol grpc: @grpc/grpc-js is large and most exports go over HTTP.

/** Status codes the OTLP spec calls retryable (CANCELLED, DEADLINE_EXCEEDED, ABORTED, OUT_OF_RANGE, UNAVAILABLE, DATA_LOSS). */
const RETRYABLE = new Set([1, 4, 10, 11, 14, 15]);
// the schedule of the OTLP/HTTP exporter's retries, so both transports wait alike
const MAX_ATTEMPTS = 6;
const INITIAL_BACKOFF_MS = 1000;
const MAX_BACKOFF_MS = 5000;

export interface GrpcExporter {
  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void;
  shutdown(): Promise<void>;
}

/**
 * The OpenTelemetry OTLP/gRPC trace exporter, configured from our settings alone (no second
 * reading of process.env). It does not retry by itself, so retryable failures are retried here
 * within the request's deadline, as OTLP/HTTP's 503s are.
 */
export function grpcExporter(config: OtlpConfig): GrpcExporter {
  const metadata = createEmptyMetadata();
  for (const [k, v] of Object.entries(config.headers)) metadata.set(k, v);
  const exporter = new OTLPTraceExporter({
    url: config.url,
    metadata,
    credentials: credentials(config),
    compression: config.compression === 'gzip' ? CompressionAlgorithm.GZIP : CompressionAlgorithm.NONE,
    timeoutMillis: config.timeoutMillis,
  });
  const once = (spans: ReadableSpan[]) => new Promise<ExportResult>((resolve) => exporter.export(spans, resolve));
  const withRetries = async (spans: ReadableSpan[]): Promise<ExportResult> => {
    const deadline = Date.now() + config.timeoutMillis;
    let backoff = INITIAL_BACKOFF_MS;
    let result = await once(spans);
    for (let attempt = 1; attempt < MAX_ATTEMPTS && result.code !== ExportResultCode.SUCCESS && retryable(result.error); attempt++) {
      const wait = Math.min(backoff * (0.8 + Math.random() * 0.4), MAX_BACKOFF_MS);
      if (Date.now() + wait >= deadline) break;
      await sleep(wait);
      backoff *= 1.5;
      result = await once(spans);
    }
    return result;
  };
  return {
    export: (spans, done) => void withRetries(spans).then(done, (error: Error) => done({ code: ExportResultCode.FAILED, error })),
    shutdown: () => exporter.shutdown(),
  };
}

const retryable = (err: Error | undefined) => RETRYABLE.has((err as { code?: unknown } | undefined)?.code as number);

/** As the OTLP exporter spec has it: http:// is plaintext, https:// is TLS, no scheme is TLS unless INSECURE. */
function credentials(config: OtlpConfig) {
  const tls = config.tls ?? {};
  if (config.url.startsWith('http://') || (!/^https:\/\//i.test(config.url) && tls.insecure)) return createInsecureCredentials();
  const pem = (text: string | undefined) => (text === undefined ? undefined : Buffer.from(text));
  try {
    return createSslCredentials(pem(tls.ca), pem(tls.key), pem(tls.cert));
  } catch (err) {
    throw new ConfigError(`the TLS files from OTEL_EXPORTER_OTLP_[TRACES_]CERTIFICATE / CLIENT_KEY / CLIENT_CERTIFICATE cannot be used: ${(err as Error).message}`);
  }
}
