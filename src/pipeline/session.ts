import { realpathSync, statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { LineDecoder } from '../formats/decoder.js';
import { decoderFor, detectFormat, type FormatName } from '../formats/detect.js';
import { ThreadAssembler } from '../model/assembler.js';
import type { ThreadMeta } from '../model/events.js';
import type { Placement, Turn } from '../model/types.js';
import type { ContentPolicy } from '../otel/content.js';
import { threadIdFromContent } from '../otel/ids.js';
import { ThreadMapper } from '../otel/map.js';
import { resourceFor } from '../otel/resource.js';
import { threadIdFromName } from '../sources/discover.js';
import { readRolloutLines } from '../sources/files.js';
import { newReport, noteProblem, type SessionReport } from './report.js';
import type { SourceLine } from '../sources/lines.js';

export interface SessionOptions {
  /** service.name; default: the agent's recorded name, else codex */
  serviceName?: string;
  /** the input dialect; detected from the first line when absent */
  format?: FormatName;
  /** the file's modification time, for logs whose lines carry no time */
  mtimeMs?: number;
  /** place the thread again when its thread span is emitted (live: the parent may have grown) */
  placeAtFinish?: boolean;
  content: ContentPolicy;
  /** where a thread sits in its agent tree; the default knows only what the file itself says */
  place?: (meta: ThreadMeta) => Placement | Promise<Placement>;
  /** receives spans as turns close, with the line that closed them (Infinity at the end); awaiting it is the backpressure */
  emit: (spans: ReadableSpan[], closedAtLine: number) => Promise<void>;
  /** `rollout.source.path`; default: the file's stable source path */
  sourcePath?: string;
  /**
   * The session was closed before (its last turn and thread span delivered) after reading through
   * this line: they are made again at `finish` only when a whole line beyond it was read.
   */
  closedThrough?: number;
}

const CODEX_NAME = /^rollout-(\d{4})-(\d{2})-(\d{2})T\d{2}-\d{2}-\d{2}-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}.*?\.jsonl(?:\.zst)?$/;

/**
 * Where a rollout is, spelled the same however it was reached, so that its spans do not depend on
 * the path given. A Codex rollout (`rollout-<time>-<id>.jsonl`) is named relative to the Codex home
 * as Codex first wrote it, `sessions/YYYY/MM/DD/<name>.jsonl`, also when it is read from
 * `archived_sessions/` or as a `.zst` archive; any other file by its absolute real path.
 */
export function stableSourcePath(path: string): string {
  if (path === '-') return path;
  const name = basename(path);
  const codex = CODEX_NAME.exec(name);
  if (codex) return `sessions/${codex[1]}/${codex[2]}/${codex[3]}/${name.replace(/\.zst$/, '')}`;
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
}

export function defaultPlacement(meta: ThreadMeta): Placement {
  return { rootThreadId: meta.sessionId ?? meta.parentThreadId ?? meta.threadId, conversationId: meta.sessionId ?? meta.threadId };
}

/** Reads one rollout file and streams its spans to `emit`, one closed turn at a time. */
export async function exportSession(path: string, opts: SessionOptions): Promise<SessionReport> {
  const session = new RolloutSession(path, opts);
  let held: SourceLine[] | undefined;
  try {
    for await (const batch of readRolloutLines(path)) {
      for (const l of batch) {
        if (held) held.push(l);
        else {
          const sent = session.push(l);
          if (sent) await sent;
          // Generic logs are ordered by `seq`, which concurrent writers may append out of order.
          if (session.format === 'generic') held = [];
        }
      }
    }
  } catch (err) {
    session.failed(err);
  }
  if (held) for (const { line, value } of bySeq(held)) await session.push(line, value);
  return session.finish();
}

/**
 * One rollout file on its way to spans: lines go in as they are read (backfill) or appended
 * (live); spans come out through `emit` as turns close, the thread span at `finish`.
 */
export class RolloutSession {
  readonly report: SessionReport;
  format: FormatName | undefined;
  private decoder: LineDecoder | undefined;
  /** made at the first line: a file that records no thread id is named by that line */
  private assembler: ThreadAssembler | undefined;
  private mapper: ThreadMapper | undefined;
  /** the thread id a Codex file name carries */
  private readonly nameThreadId: string | undefined;
  private readonly sourcePath: string;

  constructor(readonly path: string, private readonly opts: SessionOptions) {
    this.report = newReport(path);
    this.nameThreadId = threadIdFromName(path);
    this.sourcePath = opts.sourcePath ?? stableSourcePath(path);
    this.format = opts.format;
  }

  /**
   * `value` is the line's parsed JSON when the caller has it already. Returns a promise only when
   * the line closed a turn whose spans are on their way: most lines close none, and need no await.
   */
  push(l: SourceLine, value?: unknown): Promise<void> | undefined {
    if (l.line > this.report.lines) this.report.lines = l.line;
    if (l.complete) {
      this.report.through = l.line;
      this.report.bytes = l.offset + l.bytes;
    }
    if (this.report.error) return;
    if (value === undefined && isBlank(l.text)) return;
    if (!this.assembler) {
      // a rollout that records no thread id anywhere is named by its first line, never by a shared constant
      const fallbackThreadId = this.nameThreadId ?? threadIdFromContent(l.text);
      this.assembler = new ThreadAssembler({ path: this.sourcePath, keepContent: this.opts.content.capture, fallbackThreadId });
    }
    if (value === undefined) {
      try {
        value = JSON.parse(l.text);
      } catch {
        noteProblem(this.report, { line: l.line, type: 'invalid-json', message: l.complete ? 'line is not valid JSON' : 'truncated last line (no newline, not valid JSON)' }, 'badLines');
        return;
      }
    }
    const decoder = this.decoder ?? this.decoderFor(value, l.line);
    if (!decoder) return;
    const decoded = decoder.decode(value, l.line);
    if (decoded.warning) noteProblem(this.report, decoded.warning, 'warnings');
    let sending: Promise<void> | undefined;
    const assembler = this.assembler;
    for (const e of decoded.events) {
      const closed = assembler.push(e);
      if (closed.length === 0) continue;
      sending = sending ? sending.then(() => this.send(closed, e.line)) : this.send(closed, e.line);
    }
    return sending;
  }

  /** Closes what is still open (end of file, or a live session gone idle) and emits the thread span. */
  async finish(): Promise<SessionReport> {
    const report = this.report;
    if (!this.assembler?.started) {
      report.error ??= report.lines === 0 ? 'empty file'
        : this.format ? `no session start found: not a ${this.format} rollout`
        : 'not a rollout: no line in a known format (Codex rollout, generic {"type","seq","item"} rollout)';
      return report;
    }
    if ((report.through ?? 0) <= (this.opts.closedThrough ?? -1)) return report;
    const { turns, thread } = this.assembler.finish();
    await this.send(turns, Infinity);
    if (thread) {
      const m = await this.ensureMapper();
      const placement = this.opts.placeAtFinish ? await (this.opts.place ?? defaultPlacement)(thread.meta) : undefined;
      report.spans++;
      await this.opts.emit([m.threadSpan(thread, placement)], Infinity);
    }
    return report;
  }

  failed(err: unknown): void {
    this.report.error = describeReadError(err);
  }

  private decoderFor(value: unknown, line: number): LineDecoder | undefined {
    const format = this.format ?? detectFormat(value);
    if (format === 'codex-trace') {
      this.report.format = format;
      this.report.error = 'this is the event log of a Codex rollout trace bundle: export the bundle directory';
      return undefined;
    }
    if (!format) {
      noteProblem(this.report, { line, type: 'unknown', message: 'line matches no known rollout format' }, 'warnings');
      return undefined;
    }
    this.format = format;
    this.report.format = format;
    const mtimeMs = () => this.opts.mtimeMs ?? (this.path === '-' ? undefined : statSync(this.path, { throwIfNoEntry: false })?.mtimeMs) ?? Date.now();
    // a generic log that names no session is named by its file (the dialect's rule)
    this.decoder = decoderFor(format, { path: this.sourcePath, fallbackThreadId: this.nameThreadId, mtimeMs });
    return this.decoder;
  }

  private async ensureMapper(): Promise<ThreadMapper> {
    if (!this.mapper) {
      const meta = this.assembler!.meta as ThreadMeta;
      const placement = await (this.opts.place ?? defaultPlacement)(meta);
      this.mapper = new ThreadMapper(meta, this.sourcePath, placement, resourceFor(this.opts.serviceName ?? meta.agentName ?? 'codex', meta.cliVersion), this.opts.content);
      this.report.threadId = meta.threadId;
      this.report.traceId = this.mapper.traceId;
    }
    return this.mapper;
  }

  private async send(turns: Turn[], closedAt: number): Promise<void> {
    if (turns.length === 0) return;
    const m = await this.ensureMapper();
    const spans = turns.flatMap((t) => m.turnSpans(t));
    this.report.turns += turns.length;
    this.report.spans += spans.length;
    await this.opts.emit(spans, closedAt);
  }
}

/** A line of nothing but white space; a JSON line starts with `{` and is never trimmed (it may be long). */
function isBlank(text: string): boolean {
  return text.charCodeAt(0) !== 123 && text.trim() === '';
}

/** Stable order by `seq`; lines without one keep their place after the line before them. */
function bySeq(lines: SourceLine[]): { line: SourceLine; value: unknown }[] {
  let last = -Infinity;
  const keyed = lines.map((line, i) => {
    let value: unknown;
    try {
      value = isBlank(line.text) ? undefined : JSON.parse(line.text);
    } catch {
      value = undefined;
    }
    const seq = (value as { seq?: unknown } | undefined)?.seq;
    if (typeof seq === 'number') last = seq;
    return { line, value, seq: last, i };
  });
  keyed.sort((a, b) => a.seq - b.seq || a.i - b.i);
  return keyed;
}

function describeReadError(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e.code === 'ENOENT') return 'no such file';
  if (e.code === 'EACCES' || e.code === 'EPERM') return 'permission denied';
  if (e.code === 'EISDIR') return 'is a directory';
  return e.message ?? String(err);
}
