// Standard OTLP exporter settings (OTEL_EXPORTER_OTLP_*), with command-line flags on top.

export type Protocol = 'http/protobuf' | 'http/json';

export interface OtlpConfig {
  url: string;
  protocol: Protocol;
  headers: Record<string, string>;
  compression: 'gzip' | 'none';
  timeoutMillis: number;
}

export interface OtlpFlags {
  endpoint?: string;
  protocol?: string;
  headers?: string[];
  compression?: string;
  timeout?: string;
}

export class ConfigError extends Error {}

const DEFAULT_URL = 'http://localhost:4318/v1/traces';

export function resolveOtlpConfig(flags: OtlpFlags, env: NodeJS.ProcessEnv = process.env): OtlpConfig {
  const url = flags.endpoint
    ? signalUrl(flags.endpoint)
    : env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim() || (env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() ? signalUrl(env.OTEL_EXPORTER_OTLP_ENDPOINT.trim()) : DEFAULT_URL);
  try {
    new URL(url);
  } catch {
    throw new ConfigError(`invalid OTLP endpoint URL: ${url}`);
  }
  const protocol = (flags.protocol ?? env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/protobuf').trim();
  if (protocol === 'grpc') throw new ConfigError('protocol grpc is not supported; use http/protobuf (port 4318) or http/json');
  if (protocol !== 'http/protobuf' && protocol !== 'http/json') throw new ConfigError(`unknown OTLP protocol "${protocol}" (use http/protobuf or http/json)`);
  const compression = (flags.compression ?? env.OTEL_EXPORTER_OTLP_TRACES_COMPRESSION ?? env.OTEL_EXPORTER_OTLP_COMPRESSION ?? 'none').trim();
  if (compression !== 'gzip' && compression !== 'none') throw new ConfigError(`unknown compression "${compression}" (use gzip or none)`);
  const timeoutText = flags.timeout ?? env.OTEL_EXPORTER_OTLP_TRACES_TIMEOUT ?? env.OTEL_EXPORTER_OTLP_TIMEOUT ?? '10000';
  const timeoutMillis = Number(timeoutText);
  if (!Number.isFinite(timeoutMillis) || timeoutMillis <= 0) throw new ConfigError(`invalid timeout "${timeoutText}" (milliseconds > 0)`);
  const headers = {
    ...parseHeaderList(env.OTEL_EXPORTER_OTLP_HEADERS),
    ...parseHeaderList(env.OTEL_EXPORTER_OTLP_TRACES_HEADERS),
  };
  for (const h of flags.headers ?? []) Object.assign(headers, parseHeaderList(h, true));
  return { url, protocol, headers, compression, timeoutMillis };
}

/** The generic endpoint is a base URL: traces go to `<base>/v1/traces`. */
export function signalUrl(base: string): string {
  if (/\/v1\/traces\/?$/.test(base)) return base;
  return `${base.replace(/\/+$/, '')}/v1/traces`;
}

function parseHeaderList(text: string | undefined, strict = false): Record<string, string> {
  const out: Record<string, string> = {};
  if (!text) return out;
  for (const pair of text.split(',')) {
    if (!pair.trim()) continue;
    const eq = pair.indexOf('=');
    if (eq <= 0) {
      if (strict) throw new ConfigError(`invalid header "${pair}" (expected key=value)`);
      continue;
    }
    out[decodeURIComponent(pair.slice(0, eq).trim())] = decodeURIComponent(pair.slice(eq + 1).trim());
  }
  return out;
}
