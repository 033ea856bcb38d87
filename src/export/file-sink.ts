import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { BatchingSink, DEFAULT_LIMITS } from './sink.js';

// loaded on first use: an OTLP export does not need it
const require = createRequire(import.meta.url);

/** Writes each batch as one OTLP/JSON ExportTraceServiceRequest per line (`-` is stdout). */
export class FileSink extends BatchingSink {
  readonly target: string;
  private readonly out: WriteStream | NodeJS.WriteStream;

  constructor(path: string) {
    super({ ...DEFAULT_LIMITS, maxInFlight: 1 });
    this.target = path === '-' ? 'stdout' : path;
    this.out = path === '-' ? process.stdout : createWriteStream(path);
  }

  protected async send(spans: ReadableSpan[]): Promise<string | undefined> {
    const { JsonTraceSerializer } = require('@opentelemetry/otlp-transformer') as typeof import('@opentelemetry/otlp-transformer');
    const body = JsonTraceSerializer.serializeRequest(spans);
    if (!body) return 'nothing to serialize';
    if (!this.out.write(Buffer.concat([Buffer.from(body), Buffer.from('\n')]))) await once(this.out, 'drain');
    return undefined;
  }

  override async close(): Promise<void> {
    await super.close();
    if (this.out !== process.stdout) {
      const out = this.out as WriteStream;
      await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
    }
  }
}
