import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import protobuf from 'protobufjs';

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  /** '' for a root span */
  parentSpanId: string;
  name: string;
  /** OTLP SpanKind: 0 unspecified, 1 internal, 2 server, 3 client, 4 producer, 5 consumer */
  kind: number;
  startNs: bigint;
  endNs: bigint;
  attributes: Record<string, unknown>;
  events: { name: string; timeNs: bigint; attributes: Record<string, unknown> }[];
  links: { traceId: string; spanId: string; attributes: Record<string, unknown> }[];
  /** OTLP StatusCode: 0 unset, 1 ok, 2 error */
  status: { code: number; message: string };
  resource: Record<string, unknown>;
  scope: { name: string; version: string };
}

export interface ReceivedRequest {
  path: string;
  contentType: string;
  encoding: 'protobuf' | 'json';
  gzip: boolean;
  /** body size as received, i.e. compressed when gzip */
  bytes: number;
  headers: Record<string, string | string[] | undefined>;
  /** HTTP status the receiver answered with */
  status: number;
  spans: ReceivedSpan[];
  /** over TLS: the common name of the client's certificate, when it showed one */
  clientCertificate?: string;
}

export interface ReceiverOptions {
  /** answer the first N requests with `failStatus` instead of accepting them */
  failFirst?: number;
  /** answer every request after the first N with `failStatus` */
  failAfter?: number;
  failStatus?: number;
  /** a Retry-After header on those answers */
  retryAfter?: string;
  /** refuse this many spans of every request (at most all of them) in an OTLP partial_success, with this message */
  reject?: { spans: number; message: string };
  /** answer every request with this instead of an OTLP response (a web page served on the wrong port) */
  answer?: { status: number; contentType: string; body: string };
  /** serve HTTPS with this key and certificate (PEM); with `ca`, also require a client certificate it signed */
  tls?: TlsFiles;
  /** listen on this port (a collector back at the address of one that stopped); default: any free port */
  port?: number;
}

export interface TlsFiles {
  key: string;
  cert: string;
  ca?: string;
}

export interface Receiver {
  url: string;
  tracesUrl: string;
  /** every decoded request, including the ones answered with `failStatus` */
  requests: ReceivedRequest[];
  /** spans of the accepted requests, in arrival order */
  spans(): ReceivedSpan[];
  /** number of requests answered with an error status */
  readonly failures: number;
  waitForSpans(n: number, timeoutMs?: number): Promise<ReceivedSpan[]>;
  close(): Promise<void>;
}

// The shape both encodings share once protobufjs has turned the message into a
// plain object: camelCase names, ids as bytes (protobuf) or hex (JSON), 64-bit
// integers as bigint (protobuf) or decimal strings / numbers (JSON).
type WireId = Uint8Array | string;
type WireInt = bigint | string | number;
interface WireAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: WireInt;
  doubleValue?: number | string;
  arrayValue?: { values?: WireAnyValue[] };
  kvlistValue?: { values?: WireKeyValue[] };
  bytesValue?: WireId;
}
interface WireKeyValue {
  key: string;
  value?: WireAnyValue;
}
interface WireSpan {
  traceId?: WireId;
  spanId?: WireId;
  parentSpanId?: WireId;
  name?: string;
  kind?: number;
  startTimeUnixNano?: WireInt;
  endTimeUnixNano?: WireInt;
  attributes?: WireKeyValue[];
  events?: { timeUnixNano?: WireInt; name?: string; attributes?: WireKeyValue[] }[];
  links?: { traceId?: WireId; spanId?: WireId; attributes?: WireKeyValue[] }[];
  status?: { code?: number; message?: string };
}
interface WireRequest {
  resourceSpans?: {
    resource?: { attributes?: WireKeyValue[] };
    scopeSpans?: { scope?: { name?: string; version?: string }; spans?: WireSpan[] }[];
  }[];
}

const root = protobuf.loadSync(fileURLToPath(new URL('./otlp-trace.proto', import.meta.url)));
const ExportRequest = root.lookupType('otlp.ExportTraceServiceRequest');
const ExportResponse = root.lookupType('otlp.ExportTraceServiceResponse');

const hex = (id: WireId | undefined): string =>
  id === undefined ? '' : typeof id === 'string' ? id.toLowerCase() : Buffer.from(id).toString('hex');

function anyValue(v: WireAnyValue | undefined): unknown {
  if (v === undefined) return undefined;
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  // JSON carries NaN/Infinity as strings, which Number() understands
  if (v.doubleValue !== undefined) return Number(v.doubleValue);
  if (v.arrayValue !== undefined) return (v.arrayValue.values ?? []).map(anyValue);
  if (v.kvlistValue !== undefined) return attributes(v.kvlistValue.values);
  if (v.bytesValue !== undefined) {
    // OTLP/JSON encodes bytes values as base64, unlike ids which are hex
    return Uint8Array.from(typeof v.bytesValue === 'string' ? Buffer.from(v.bytesValue, 'base64') : v.bytesValue);
  }
  return undefined;
}

const attributes = (kvs: WireKeyValue[] | undefined): Record<string, unknown> =>
  Object.fromEntries((kvs ?? []).map((kv) => [kv.key, anyValue(kv.value)]));

function normalise(req: WireRequest): ReceivedSpan[] {
  return (req.resourceSpans ?? []).flatMap((rs) => {
    const resource = attributes(rs.resource?.attributes);
    return (rs.scopeSpans ?? []).flatMap((ss) => {
      const scope = { name: ss.scope?.name ?? '', version: ss.scope?.version ?? '' };
      return (ss.spans ?? []).map((s) => ({
        traceId: hex(s.traceId),
        spanId: hex(s.spanId),
        parentSpanId: hex(s.parentSpanId),
        name: s.name ?? '',
        kind: s.kind ?? 0,
        startNs: BigInt(s.startTimeUnixNano ?? 0),
        endNs: BigInt(s.endTimeUnixNano ?? 0),
        attributes: attributes(s.attributes),
        events: (s.events ?? []).map((e) => ({
          name: e.name ?? '',
          timeNs: BigInt(e.timeUnixNano ?? 0),
          attributes: attributes(e.attributes),
        })),
        links: (s.links ?? []).map((l) => ({
          traceId: hex(l.traceId),
          spanId: hex(l.spanId),
          attributes: attributes(l.attributes),
        })),
        status: { code: s.status?.code ?? 0, message: s.status?.message ?? '' },
        resource,
        scope,
      }));
    });
  });
}

function encodingOf(contentType: string): ReceivedRequest['encoding'] | undefined {
  const mediaType = contentType.split(';')[0]!.trim().toLowerCase();
  if (mediaType === 'application/x-protobuf' || mediaType === 'application/protobuf') return 'protobuf';
  if (mediaType === 'application/json') return 'json';
  return undefined;
}

export function decode(body: Buffer, encoding: ReceivedRequest['encoding']): ReceivedSpan[] {
  const wire =
    encoding === 'json'
      ? JSON.parse(body.toString('utf8'))
      : ExportRequest.toObject(ExportRequest.decode(body), { longs: BigInt });
  return normalise(wire as WireRequest);
}

export async function startReceiver(opts: ReceiverOptions = {}): Promise<Receiver> {
  const { failFirst = 0, failStatus = 503, retryAfter, reject, answer } = opts;
  const requests: ReceivedRequest[] = [];
  const waiters = new Set<() => void>();
  let arrived = 0;
  let failures = 0;

  const spans = () => requests.filter((r) => r.status < 300).flatMap((r) => r.spans);

  const fail = (res: ServerResponse, status: number, message: string) => {
    failures++;
    res.writeHead(status, { 'content-type': 'text/plain', ...(retryAfter !== undefined ? { 'retry-after': retryAfter } : {}) }).end(message);
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = Buffer.concat(await req.toArray());
    const attempt = arrived++;
    if (req.method !== 'POST') return fail(res, 405, 'POST only');
    const contentType = req.headers['content-type'] ?? '';
    const encoding = encodingOf(contentType);
    if (encoding === undefined) return fail(res, 415, `unsupported content type: ${contentType}`);
    const gzip = req.headers['content-encoding'] === 'gzip';
    let received: ReceivedSpan[];
    try {
      received = decode(gzip ? gunzipSync(raw) : raw, encoding);
    } catch (err) {
      return fail(res, 400, `cannot decode ${encoding} body: ${(err as Error).message}`);
    }
    const status = attempt < failFirst || (opts.failAfter !== undefined && attempt >= opts.failAfter) ? failStatus : 200;
    const peer = opts.tls ? (req.socket as TLSSocket).getPeerCertificate() : undefined;
    requests.push({
      ...(peer?.subject ? { clientCertificate: String(peer.subject.CN) } : {}),
      path: req.url ?? '',
      contentType,
      encoding,
      gzip,
      bytes: raw.length,
      headers: { ...req.headers },
      status,
      spans: received,
    });
    if (status !== 200) return fail(res, status, 'failing on purpose');
    const partialSuccess = reject ? { rejectedSpans: Math.min(reject.spans, received.length), errorMessage: reject.message } : undefined;
    if (answer) {
      res.writeHead(answer.status, { 'content-type': answer.contentType }).end(answer.body);
    } else if (encoding === 'json') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(partialSuccess ? { partialSuccess } : {}));
    } else {
      const body = ExportResponse.encode(ExportResponse.create(partialSuccess ? { partialSuccess } : {})).finish();
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end(body);
    }
    for (const wake of waiters) wake();
  }

  const listener = (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch((err: Error) => {
      if (!res.headersSent) fail(res, 500, err.message);
    });
  };
  const tls = opts.tls;
  const server = tls
    ? createTlsServer({ key: tls.key, cert: tls.cert, ...(tls.ca ? { ca: tls.ca, requestCert: true, rejectUnauthorized: true } : {}) }, listener)
    : createServer(listener);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', resolve);
  });
  const url = `${tls ? 'https' : 'http'}://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    tracesUrl: `${url}/v1/traces`,
    requests,
    spans,
    get failures() {
      return failures;
    },
    waitForSpans: (n, timeoutMs = 10_000) => waitForSpans(spans, waiters, n, timeoutMs),
    close() {
      return new Promise((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // exporters keep sockets alive; without this close() waits for their idle timeout
        server.closeAllConnections();
      });
    },
  };
}

/** Resolves once `n` spans arrived; each arrival calls the waiters, which drop out when satisfied. */
export function waitForSpans(spans: () => ReceivedSpan[], waiters: Set<() => void>, n: number, timeoutMs: number): Promise<ReceivedSpan[]> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const all = spans();
      if (all.length < n) return false;
      clearTimeout(timer);
      waiters.delete(check);
      resolve(all);
      return true;
    };
    const timer = setTimeout(() => {
      waiters.delete(check);
      reject(new Error(`timed out after ${timeoutMs}ms waiting for ${n} spans, got ${spans().length}`));
    }, timeoutMs);
    if (!check()) waiters.add(check);
  });
}
