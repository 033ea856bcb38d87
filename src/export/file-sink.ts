import { closeSync, openSync, writeSync } from 'node:fs';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { BatchingSink, DEFAULT_LIMITS, type Refusal } from './sink.js';

// loaded on first use: an OTLP export does not need it
const require = createRequire(import.meta.url);

/** The `--out` file cannot be opened: nothing was written. */
export class OutFileError extends Error {}

/**
 * Writes each batch as one OTLP/JSON ExportTraceServiceRequest per line (`-` is stdout). A file is
 * opened at once, so a path that cannot be written is known before anything is read, and written
 * synchronously, so a failed write (a full disk) fails the batch that made it.
 */
export class FileSink extends BatchingSink {
  readonly target: string;
  private fd: number | undefined;

  constructor(path: string) {
    super({ ...DEFAULT_LIMITS, maxInFlight: 1 });
    this.target = path === '-' ? 'stdout' : path;
    if (path === '-') return;
    try {
      this.fd = openSync(path, 'w');
    } catch (err) {
      throw new OutFileError(`cannot write ${path}: ${describeWriteError(err)}; nothing was exported`);
    }
  }

  protected async send(spans: ReadableSpan[]): Promise<Refusal | undefined> {
    const { JsonTraceSerializer } = require('@opentelemetry/otlp-transformer') as typeof import('@opentelemetry/otlp-transformer');
    const body = JsonTraceSerializer.serializeRequest(spans);
    if (!body) return { message: 'nothing to serialize' };
    const line = Buffer.concat([Buffer.from(body), Buffer.from('\n')]);
    if (this.fd === undefined) {
      if (!process.stdout.write(line)) await once(process.stdout, 'drain');
      return undefined;
    }
    try {
      for (let at = 0; at < line.length; ) at += writeSync(this.fd, line, at);
    } catch (err) {
      return { message: `cannot write ${this.target}: ${describeWriteError(err)}` };
    }
    return undefined;
  }

  override async close(): Promise<void> {
    await super.close();
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

function describeWriteError(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e.code === 'ENOENT') return 'no such directory';
  if (e.code === 'EACCES' || e.code === 'EPERM') return 'permission denied';
  if (e.code === 'ENOSPC') return 'no space left on device';
  if (e.code === 'EISDIR') return 'is a directory';
  if (e.code === 'EROFS') return 'read-only file system';
  return e.message;
}
