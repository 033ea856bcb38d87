import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import type { OtlpConfig } from './config.js';

// OTLP/HTTP by hand rather than through the exporter's transport: that one keeps neither the status
// of a retried answer, nor its Retry-After, nor a 2xx answer's content type, and a faithful count of
// what was delivered needs all three (and the partial_success a collector may put in its answer).

const gzip = promisify(gzipCallback);
// loaded only when a collector answers with a body: most answer with an empty one
const require = createRequire(import.meta.url);
const protobufResponse = (body: Buffer) =>
  (require('@opentelemetry/otlp-transformer') as typeof import('@opentelemetry/otlp-transformer')).ProtobufTraceSerializer.deserializeResponse(body) as {
    partialSuccess?: { rejectedSpans?: number | string | bigint; errorMessage?: string };
  };

/** What became of one request: all delivered, some spans refused, or none delivered. */
export type SendResult =
  | { ok: true }
  | { ok: true; rejected: number; message: string }
  | { ok: false; message: string };

/** The collector's answer to a request that reached it. */
interface Answer {
  status: number;
  statusText: string;
  contentType: string;
  retryAfter: string | undefined;
  body: Buffer;
}

// the OTLP/HTTP specification's retryable answers, and the network errors the OTel exporter retries
const RETRYABLE_STATUS = new Set([429, 502, 503, 504]);
const RETRYABLE_NETWORK = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENOTFOUND', 'ENETUNREACH', 'EHOSTUNREACH']);
// the OTel exporter's retry schedule: at most 5 retries, backoff from 1 s by 1.5x up to 5 s, ±20 % jitter
const MAX_RETRIES = 5;
const FIRST_BACKOFF_MS = 1000;
const MAX_BACKOFF_MS = 5000;

export class OtlpHttpTransport {
  private readonly agent: HttpAgent;
  private readonly send1: typeof httpRequest;

  constructor(private readonly config: OtlpConfig, private readonly contentType: 'application/x-protobuf' | 'application/json') {
    const https = new URL(config.url).protocol === 'https:';
    const tls = config.tls;
    // certificates are given explicitly (OTEL_EXPORTER_OTLP_CERTIFICATE …, read once by the config)
    this.agent = https ? new HttpsAgent({ keepAlive: true, ca: tls?.ca, cert: tls?.cert, key: tls?.key }) : new HttpAgent({ keepAlive: true });
    this.send1 = (https ? httpsRequest : httpRequest) as typeof httpRequest;
  }

  /** Posts one encoded request, retrying what OTLP says may be retried, within the configured timeout. */
  async send(body: Uint8Array): Promise<SendResult> {
    const deadline = Date.now() + this.config.timeoutMillis;
    const payload = this.config.compression === 'gzip' ? await gzip(body) : body;
    let backoff = FIRST_BACKOFF_MS;
    for (let attempt = 1; ; attempt++) {
      let last: string;
      let wait = Math.min(backoff * (0.8 + Math.random() * 0.4), MAX_BACKOFF_MS);
      backoff *= 1.5;
      try {
        const answer = await this.post(payload, deadline - Date.now());
        if (answer.status >= 200 && answer.status < 300) return this.read(answer);
        const status = `HTTP ${answer.status}${answer.statusText ? ` ${answer.statusText}` : ''}`;
        if (!RETRYABLE_STATUS.has(answer.status)) return { ok: false, message: `${status}${bodyText(answer)}` };
        const retryAfterMs = parseRetryAfter(answer.retryAfter);
        if (retryAfterMs !== undefined) wait = retryAfterMs;
        last = `${status}${answer.retryAfter !== undefined ? `, Retry-After: ${answer.retryAfter}` : ''}`;
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        // the request's deadline (AbortSignal.timeout) ends it as an abort
        if (e.name === 'TimeoutError' || e.name === 'AbortError' || e.code === 'ABORT_ERR') last = `none within the ${seconds(this.config.timeoutMillis)} timeout`;
        else if (e.code === 'ETIMEDOUT') last = 'the connection timed out';
        else if (typeof e.code === 'string' && RETRYABLE_NETWORK.has(e.code)) last = e.code === 'ECONNREFUSED' ? 'connection refused' : `${e.code}: ${e.message}`;
        else return { ok: false, message: e.message };
      }
      const left = deadline - Date.now();
      if (attempt > MAX_RETRIES || wait > left) {
        const tries = `${attempt} attempt${attempt === 1 ? '' : 's'}`;
        const why = attempt > MAX_RETRIES ? '' : wait > left && left > 0 ? `; the next retry (in ${seconds(wait)}) would pass the ${seconds(this.config.timeoutMillis)} timeout` : '';
        return { ok: false, message: `gave up after ${tries}: last answer ${last}${why}` };
      }
      await sleep(wait);
    }
  }

  close(): void {
    this.agent.destroy();
  }

  /** A 2xx answer: OTLP says how many spans it refused; anything else is not an OTLP endpoint. */
  private read(answer: Answer): SendResult {
    const type = answer.contentType.split(';')[0]!.trim().toLowerCase();
    // Collectors answer with an ExportTraceServiceResponse, often empty; some send no body at all.
    if (answer.body.length === 0) return { ok: true };
    const notOtlp = {
      ok: false as const,
      message: `${this.config.url} answered ${answer.status} with ${type || 'a body'} that is not an OTLP response; nothing was stored: is this the OTLP port? (Jaeger takes OTLP/HTTP on 4318; 16686 is its UI)`,
    };
    let partial: { rejectedSpans?: number | string | bigint; errorMessage?: string } | undefined;
    try {
      if (type === 'application/json') partial = (JSON.parse(answer.body.toString('utf8')) as { partialSuccess?: typeof partial }).partialSuccess;
      else if (type === 'application/x-protobuf' || type === 'application/protobuf') partial = protobufResponse(answer.body).partialSuccess;
      else return notOtlp;
    } catch {
      return notOtlp;
    }
    const rejected = Number(partial?.rejectedSpans ?? 0);
    const message = partial?.errorMessage ?? '';
    if (rejected > 0 || message) return { ok: true, rejected: Number.isFinite(rejected) ? rejected : 0, message: message || 'no message' };
    return { ok: true };
  }

  private post(body: Uint8Array, timeoutMs: number): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const headers: Record<string, string> = { ...this.config.headers, 'Content-Type': this.contentType, 'Content-Length': String(body.length) };
      if (this.config.compression === 'gzip') headers['Content-Encoding'] = 'gzip';
      const req = this.send1(this.config.url, { method: 'POST', headers, agent: this.agent, signal: AbortSignal.timeout(Math.max(1, timeoutMs)) }, (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          // an answer is small; a page served by mistake is kept only as far as it is shown
          if ((size += c.length) <= 64 * 1024) chunks.push(c);
        });
        res.on('error', reject);
        res.on('end', () => {
          const retryAfter = res.headers['retry-after'];
          resolve({ status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', contentType: res.headers['content-type'] ?? '', retryAfter, body: Buffer.concat(chunks) });
        });
      });
      req.on('error', reject);
      req.end(body);
    });
  }
}

function parseRetryAfter(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (/^\s*\d+\s*$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

function bodyText(answer: Answer): string {
  const text = answer.body.toString('utf8').replace(/\s+/g, ' ').trim();
  return text ? `: ${text.slice(0, 200)}` : '';
}

function seconds(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`;
}
