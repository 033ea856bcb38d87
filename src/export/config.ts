// Standard OTLP exporter settings (OTEL_EXPORTER_OTLP_*), with command-line flags on top.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

export type Protocol = 'http/protobuf' | 'http/json' | 'grpc';

export interface OtlpConfig {
  /** http/*: the full traces URL; grpc: the endpoint as given (scheme optional) */
  url: string;
  protocol: Protocol;
  headers: Record<string, string>;
  compression: 'gzip' | 'none';
  timeoutMillis: number;
  /** PEM contents from the OTEL_EXPORTER_OTLP_[TRACES_]CERTIFICATE / CLIENT_KEY / CLIENT_CERTIFICATE files */
  tls?: Tls;
  /** OTEL_RESOURCE_ATTRIBUTES, added to every span's resource where it does not set the key itself */
  resourceAttributes?: Record<string, string>;
}

export interface Tls {
  ca?: string;
  key?: string;
  cert?: string;
  /** grpc, endpoint without a scheme: plaintext instead of TLS (OTEL_EXPORTER_OTLP_[TRACES_]INSECURE) */
  insecure?: boolean;
}

/** Where the library's exporters send, given in code; each falls back to OTEL_EXPORTER_OTLP_* and the defaults. */
export interface DeliveryOptions {
  /** base URL (OTLP/HTTP: traces go to <url>/v1/traces); default from OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT, else http://localhost:4318 (gRPC: 4317) */
  endpoint?: string;
  protocol?: Protocol;
  headers?: Record<string, string>;
  timeoutMillis?: number;
}

/** The OTLP settings of a library call: its options over the environment. */
export function deliveryConfig(o: DeliveryOptions, env: NodeJS.ProcessEnv = process.env): OtlpConfig {
  const config = resolveOtlpConfig({ endpoint: o.endpoint, protocol: o.protocol, timeout: o.timeoutMillis?.toString() }, env);
  return { ...config, headers: { ...config.headers, ...o.headers } };
}

export interface OtlpFlags {
  endpoint?: string;
  protocol?: string;
  headers?: string[];
  compression?: string;
  timeout?: string;
}

export class ConfigError extends Error {}

const DEFAULT_HTTP_URL = 'http://localhost:4318/v1/traces';
export const DEFAULT_GRPC_URL = 'http://localhost:4317';

export function resolveOtlpConfig(flags: OtlpFlags, env: NodeJS.ProcessEnv = process.env): OtlpConfig {
  const setting = (name: string) => env[`OTEL_EXPORTER_OTLP_TRACES_${name}`]?.trim() || env[`OTEL_EXPORTER_OTLP_${name}`]?.trim() || undefined;
  const protocol = (flags.protocol ?? setting('PROTOCOL') ?? 'http/protobuf').trim();
  if (protocol !== 'http/protobuf' && protocol !== 'http/json' && protocol !== 'grpc') {
    throw new ConfigError(`unknown OTLP protocol "${protocol}" (use http/protobuf, http/json or grpc)`);
  }
  const url = protocol === 'grpc' ? grpcEndpoint(flags, env) : httpUrl(flags, env);
  const compression = (flags.compression ?? setting('COMPRESSION') ?? 'none').trim();
  if (compression !== 'gzip' && compression !== 'none') throw new ConfigError(`unknown compression "${compression}" (use gzip or none)`);
  const timeoutText = flags.timeout ?? setting('TIMEOUT') ?? '10000';
  const timeoutMillis = Number(timeoutText);
  if (!Number.isFinite(timeoutMillis) || timeoutMillis <= 0) throw new ConfigError(`invalid timeout "${timeoutText}" (milliseconds > 0)`);
  const headers = {
    ...parseHeaderList(env.OTEL_EXPORTER_OTLP_HEADERS),
    ...parseHeaderList(env.OTEL_EXPORTER_OTLP_TRACES_HEADERS),
  };
  for (const h of flags.headers ?? []) Object.assign(headers, parseHeaderList(h, true));
  const config: OtlpConfig = { url, protocol, headers, compression, timeoutMillis };
  const tls = tlsFromEnv(env);
  if (tls) config.tls = tls;
  const resourceAttributes = parseResourceAttributes(env.OTEL_RESOURCE_ATTRIBUTES);
  if (resourceAttributes) config.resourceAttributes = resourceAttributes;
  return config;
}

function httpUrl(flags: OtlpFlags, env: NodeJS.ProcessEnv): string {
  const given = flags.endpoint?.trim();
  const specific = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  const raw = given || specific || base;
  if (raw) requireScheme(raw, 'http');
  const url = given ? signalUrl(given) : specific || (base ? signalUrl(base) : DEFAULT_HTTP_URL);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError(`invalid OTLP endpoint URL: ${url}`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new ConfigError(`OTLP/HTTP endpoint ${url} must start with http:// or https://`);
  return url;
}

function grpcEndpoint(flags: OtlpFlags, env: NodeJS.ProcessEnv): string {
  const url = flags.endpoint?.trim() || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || DEFAULT_GRPC_URL;
  // host:port without a scheme is allowed for gRPC: it means TLS unless INSECURE is set
  const withScheme = hasScheme(url) ? url : `https://${url}`;
  let parsed: URL;
  try {
    parsed = new URL(withScheme);
  } catch {
    throw new ConfigError(`invalid OTLP endpoint: ${url}`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new ConfigError(`OTLP/gRPC endpoint ${url} must be host:port, http://host:port or https://host:port`);
  if (parsed.pathname !== '/' && parsed.pathname !== '') {
    throw new ConfigError(`OTLP/gRPC endpoint ${url} has a path; gRPC takes none (did you mean ${parsed.protocol}//${parsed.host}?)`);
  }
  return url;
}

const hasScheme = (url: string) => /^[a-z][a-z0-9+.-]*:\/\//i.test(url);

function requireScheme(raw: string, want: string): void {
  if (!hasScheme(raw)) throw new ConfigError(`OTLP endpoint "${raw}" has no scheme: did you mean ${want}://${raw}?`);
}

/** The generic endpoint is a base URL: traces go to `<base>/v1/traces`. */
export function signalUrl(base: string): string {
  if (/\/v1\/traces\/?$/.test(base)) return base;
  return `${base.replace(/\/+$/, '')}/v1/traces`;
}

/**
 * A one-line hint for an endpoint that looks like a mistake, shown with delivery failures: the
 * other protocol's port, a UI port, a scheme-less gRPC endpoint (TLS) that may be plaintext.
 */
export function endpointHint(config: Pick<OtlpConfig, 'url' | 'protocol' | 'tls'>): string | undefined {
  const grpc = config.protocol === 'grpc';
  let url: URL;
  try {
    url = new URL(hasScheme(config.url) ? config.url : `https://${config.url}`);
  } catch {
    return undefined;
  }
  const host = url.hostname;
  if (url.port === '16686') return `port 16686 is Jaeger's UI, not OTLP: send to ${grpc ? `http://${host}:4317` : `http://${host}:4318`}`;
  if (!grpc && url.port === '4317') return `port 4317 is usually OTLP/gRPC: add --protocol grpc, or send OTLP/HTTP to port 4318`;
  if (grpc && url.port === '4318') return `port 4318 is usually OTLP/HTTP: leave out --protocol grpc, or send gRPC to port 4317`;
  if (grpc && !hasScheme(config.url) && !config.tls?.insecure) {
    return `an endpoint without a scheme is reached over TLS; for a plaintext collector use http://${url.host} or OTEL_EXPORTER_OTLP_INSECURE=true`;
  }
  if (url.protocol === 'http:' && url.port === '443') return 'port 443 is usually TLS: use https://';
  return undefined;
}

function tlsFromEnv(env: NodeJS.ProcessEnv): Tls | undefined {
  const tls: Tls = {};
  const file = (suffix: string): string | undefined => {
    const name = env[`OTEL_EXPORTER_OTLP_TRACES_${suffix}`]?.trim() ? `OTEL_EXPORTER_OTLP_TRACES_${suffix}` : `OTEL_EXPORTER_OTLP_${suffix}`;
    const path = env[name]?.trim();
    if (!path) return undefined;
    try {
      return readFileSync(resolve(path), 'utf8');
    } catch (err) {
      throw new ConfigError(`${name}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
  };
  const ca = file('CERTIFICATE');
  const key = file('CLIENT_KEY');
  const cert = file('CLIENT_CERTIFICATE');
  if ((key === undefined) !== (cert === undefined)) {
    throw new ConfigError('OTEL_EXPORTER_OTLP_CLIENT_KEY and OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE go together: set both or neither');
  }
  if (ca !== undefined) tls.ca = ca;
  if (key !== undefined) tls.key = key;
  if (cert !== undefined) tls.cert = cert;
  const insecure = env.OTEL_EXPORTER_OTLP_TRACES_INSECURE?.trim() || env.OTEL_EXPORTER_OTLP_INSECURE?.trim();
  if (insecure?.toLowerCase() === 'true') tls.insecure = true;
  return Object.keys(tls).length > 0 ? tls : undefined;
}

/** `key=value,key=value`, values percent-decoded, as the OpenTelemetry resource SDK spec defines it. */
function parseResourceAttributes(text: string | undefined): Record<string, string> | undefined {
  if (!text?.trim()) return undefined;
  const out: Record<string, string> = {};
  for (const pair of text.split(',')) {
    if (!pair.trim()) continue;
    const eq = pair.indexOf('=');
    const key = eq > 0 ? pair.slice(0, eq).trim() : '';
    if (!key) throw new ConfigError(`OTEL_RESOURCE_ATTRIBUTES: "${pair.trim()}" is not key=value`);
    try {
      out[key] = decodeURIComponent(pair.slice(eq + 1).trim());
    } catch {
      throw new ConfigError(`OTEL_RESOURCE_ATTRIBUTES: the value of "${key}" is not valid percent-encoding`);
    }
  }
  return Object.keys(out).length > 0 ? out : undefined;
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
