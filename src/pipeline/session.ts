import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { CodexDecoder } from '../formats/codex/decoder.js';
import { ThreadAssembler } from '../model/assembler.js';
import type { DecodeWarning, ThreadMeta } from '../model/events.js';
import type { Placement, Turn } from '../model/types.js';
import type { ContentPolicy } from '../otel/content.js';
import { ThreadMapper } from '../otel/map.js';
import { resourceFor } from '../otel/resource.js';
import { threadIdFromName } from '../sources/discover.js';
import { readRolloutLines } from '../sources/files.js';
import type { SourceLine } from '../sources/lines.js';

export interface SessionOptions {
  serviceName: string;
  content: ContentPolicy;
  /** where a thread sits in its agent tree; the default knows only what the file itself says */
  place?: (meta: ThreadMeta) => Placement | Promise<Placement>;
  /** receives spans as turns close; awaiting it is the backpressure */
  emit: (spans: ReadableSpan[]) => Promise<void>;
}

export interface SessionReport {
  path: string;
  threadId?: string;
  traceId?: string;
  lines: number;
  spans: number;
  turns: number;
  /** lines whose type or shape is unknown: reported, nothing derived from them */
  warnings: number;
  /** lines that are not JSON at all (a truncated last line among them) */
  badLines: number;
  samples: DecodeWarning[];
  /** the file could not be read, or is not a rollout */
  error?: string;
}

const MAX_SAMPLES = 20;

export function defaultPlacement(meta: ThreadMeta): Placement {
  return { rootThreadId: meta.sessionId ?? meta.parentThreadId ?? meta.threadId, conversationId: meta.sessionId ?? meta.threadId };
}

/** Reads one rollout file and streams its spans to `emit`, one closed turn at a time. */
export async function exportSession(path: string, opts: SessionOptions, lines?: AsyncIterable<SourceLine>): Promise<SessionReport> {
  const report: SessionReport = { path, lines: 0, spans: 0, turns: 0, warnings: 0, badLines: 0, samples: [] };
  const decoder = new CodexDecoder();
  const assembler = new ThreadAssembler({ path, keepContent: opts.content.capture, fallbackThreadId: threadIdFromName(path) });
  let mapper: ThreadMapper | undefined;
  const warn = (w: DecodeWarning, bad: boolean) => {
    if (bad) report.badLines++;
    else report.warnings++;
    if (report.samples.length < MAX_SAMPLES) report.samples.push(w);
  };
  const ensureMapper = async (): Promise<ThreadMapper> => {
    if (!mapper) {
      const meta = assembler.meta as ThreadMeta;
      const placement = await (opts.place ?? defaultPlacement)(meta);
      mapper = new ThreadMapper(meta, path, placement, resourceFor(opts.serviceName, meta.cliVersion), opts.content);
      report.threadId = meta.threadId;
      report.traceId = mapper.traceId;
    }
    return mapper;
  };
  const send = async (turns: Turn[]) => {
    if (turns.length === 0) return;
    const m = await ensureMapper();
    const spans = turns.flatMap((t) => m.turnSpans(t));
    report.turns += turns.length;
    report.spans += spans.length;
    await opts.emit(spans);
  };

  try {
    for await (const batch of lines ? oneByOne(lines) : readRolloutLines(path)) {
      for (const l of batch) {
        report.lines = l.line;
        if (l.text.trim() === '') continue;
        let value: unknown;
        try {
          value = JSON.parse(l.text);
        } catch {
          warn({ line: l.line, type: 'invalid-json', message: l.complete ? 'line is not valid JSON' : 'truncated last line (no newline, not valid JSON)' }, true);
          continue;
        }
        const decoded = decoder.decode(value, l.line);
        if (decoded.warning) warn(decoded.warning, false);
        for (const e of decoded.events) {
          // most events close no turn: only wait when there is something to send
          const closed = assembler.push(e);
          if (closed.length > 0) await send(closed);
        }
      }
    }
  } catch (err) {
    report.error = describeReadError(err);
  }
  if (!assembler.started) {
    report.error ??= report.lines === 0 ? 'empty file' : 'no session_meta line: not a Codex rollout';
    return report;
  }
  const { turns, thread } = assembler.finish();
  await send(turns);
  if (thread) {
    const m = await ensureMapper();
    const span = m.threadSpan(thread);
    report.spans++;
    await opts.emit([span]);
  }
  return report;
}

async function* oneByOne(lines: AsyncIterable<SourceLine>): AsyncGenerator<SourceLine[]> {
  for await (const l of lines) yield [l];
}

function describeReadError(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e.code === 'ENOENT') return 'no such file';
  if (e.code === 'EACCES' || e.code === 'EPERM') return 'permission denied';
  if (e.code === 'EISDIR') return 'is a directory';
  return e.message ?? String(err);
}
