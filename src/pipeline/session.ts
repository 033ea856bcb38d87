import { realpathSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { LineDecoder } from '../formats/decoder.js';
import type { Dialect, ThreadLogDialect } from '../formats/dialect.js';
import { detectDialect, dialectSourcePath, LINE_DIALECT_TITLES, threadIdFromName } from '../formats/registry.js';
import { ThreadAssembler } from '../model/assembler.js';
import { MAX_TURN_ITEMS, MAX_TURN_NOTES } from '../model/turn-builder.js';
import type { ThreadMeta } from '../model/events.js';
import type { Placement, Turn } from '../model/types.js';
import type { ContentPolicy } from '../otel/content.js';
import { threadIdFromContent } from '../otel/ids.js';
import { ThreadMapper } from '../otel/map.js';
import { resourceFor } from '../otel/resource.js';
import { readRolloutLines } from '../sources/files.js';
import { addUsageTotals, newReport, noteProblem, type SessionReport } from './report.js';
import { MAX_LINE_BYTES, type SourceLine } from '../sources/lines.js';

export interface SessionOptions {
  /** service.name; default: the agent's recorded name, else its dialect's agent */
  serviceName?: string;
  /** the input dialect; detected from the first line when absent */
  dialect?: ThreadLogDialect;
  /** the file's modification time, for logs whose lines carry no time */
  mtimeMs?: number;
  /** place the thread again when its thread span is emitted (live: the parent may have grown) */
  placeAtFinish?: boolean;
  content: ContentPolicy;
  /** where a thread sits in its agent tree; the default knows only what the file itself says */
  place?: (meta: ThreadMeta) => Placement | Promise<Placement>;
  /**
   * Receives spans as turns close, with the line that closed them (Infinity at the end), and
   * `thread` true for the last call, the thread span alone; awaiting it is the backpressure.
   */
  emit: (spans: ReadableSpan[], closedAtLine: number, thread?: boolean) => Promise<void>;
  /** `rollout.source.path`; default: the file's stable source path */
  sourcePath?: string;
  /**
   * The session was closed before (its last turn and thread span delivered) after reading through
   * this line: they are made again at `finish` only when a whole line beyond it was read.
   */
  closedThrough?: number;
}

/**
 * Where a rollout is, spelled the same however it was reached, so that its spans do not depend on
 * the path given: the dialect's own name for it (Codex: relative to its home, as first written,
 * also when read from `archived_sessions/` or a `.zst` archive), else its absolute real path.
 */
export function stableSourcePath(path: string): string {
  if (path === '-') return path;
  const named = dialectSourcePath(path);
  if (named) return named;
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
          // Some logs carry an order of their own, which concurrent writers may append out of.
          if (session.dialect?.orderOf) held = [];
        }
      }
    }
  } catch (err) {
    session.failed(err);
  }
  if (held && session.dialect?.orderOf) for (const { line, value } of inOrder(held, session.dialect.orderOf)) await session.push(line, value);
  return session.finish();
}

/**
 * One rollout file on its way to spans: lines go in as they are read (backfill) or appended
 * (live); spans come out through `emit` as turns close, the thread span at `finish`.
 */
export class RolloutSession {
  readonly report: SessionReport;
  dialect: ThreadLogDialect | undefined;
  private decoder: LineDecoder | undefined;
  /** made at the first line: a file that records no thread id is named by that line */
  private assembler: ThreadAssembler | undefined;
  private mapper: ThreadMapper | undefined;
  private readonly sourcePath: string;

  constructor(readonly path: string, private readonly opts: SessionOptions) {
    this.report = newReport(path);
    this.dialect = opts.dialect;
    this.sourcePath = opts.sourcePath ?? stableSourcePath(path);
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
    if (l.tooLong) {
      noteProblem(this.report, { line: l.line, type: 'line-too-long', message: `line of ${l.bytes.toLocaleString('en-US')} bytes is over the ${MAX_LINE_BYTES / 1024 / 1024} MiB line limit: skipped` }, 'badLines');
      return;
    }
    if (value === undefined && isBlank(l.text)) return;
    if (!this.assembler) {
      // a rollout that records no thread id anywhere is named by its first line, never by a shared constant
      const fallbackThreadId = threadIdFromName(this.path) ?? threadIdFromContent(l.text);
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
        : this.dialect ? `no session start found: not a ${this.dialect.name} rollout`
        : `not a rollout: no line in a known format (${LINE_DIALECT_TITLES})`;
      return report;
    }
    if ((report.through ?? 0) <= (this.opts.closedThrough ?? -1)) return report;
    const { turns, thread } = this.assembler.finish();
    await this.send(turns, Infinity);
    if (thread) {
      const m = await this.ensureMapper();
      const placement = this.opts.placeAtFinish ? await (this.opts.place ?? defaultPlacement)(thread.meta) : undefined;
      report.spans++;
      const dropped = thread.facts?.droppedNotes;
      if (dropped) noteProblem(report, { line: 1, type: 'thread-too-large', message: `${dropped.toLocaleString('en-US')} thread events past the ${MAX_TURN_NOTES.toLocaleString('en-US')}-event limit counted, not kept` }, 'badLines');
      await this.opts.emit([m.threadSpan(thread, placement)], Infinity, true);
      addUsageTotals(report, m.totals());
    }
    return report;
  }

  failed(err: unknown): void {
    this.report.error = describeReadError(err);
  }

  private decoderFor(value: unknown, line: number): LineDecoder | undefined {
    const dialect: Dialect | undefined = this.dialect ?? detectDialect(value);
    if (dialect?.shape === 'bundle') {
      this.report.format = dialect.name;
      this.report.error = `this is the event log of a ${dialect.title}: export its directory`;
      return undefined;
    }
    if (!dialect) {
      noteProblem(this.report, { line, type: 'unknown', message: 'line matches no known rollout format' }, 'warnings');
      return undefined;
    }
    this.dialect = dialect;
    this.report.format = dialect.name;
    const mtimeMs = () => this.opts.mtimeMs ?? (this.path === '-' ? undefined : statSync(this.path, { throwIfNoEntry: false })?.mtimeMs) ?? Date.now();
    // a log that names no session is named by its file, as its dialect says
    this.decoder = dialect.decoder({ path: this.sourcePath, mtimeMs });
    return this.decoder;
  }

  private async ensureMapper(): Promise<ThreadMapper> {
    if (!this.mapper) {
      const meta = this.assembler!.meta as ThreadMeta;
      const placement = await (this.opts.place ?? defaultPlacement)(meta);
      const agent = (this.dialect as ThreadLogDialect).agent;
      this.mapper = new ThreadMapper(meta, this.sourcePath, placement, resourceFor(this.opts.serviceName ?? meta.agentName ?? agent, meta.cliVersion), this.opts.content, agent);
      this.report.threadId = meta.threadId;
      this.report.traceId = this.mapper.traceId;
      this.report.redactions = this.mapper.redactions;
    }
    return this.mapper;
  }

  private noteLimits(t: Turn): void {
    const message = limitMessage(t);
    if (message) noteProblem(this.report, { line: t.line, type: 'turn-too-large', message }, 'badLines');
  }

  private async send(turns: Turn[], closedAt: number): Promise<void> {
    if (turns.length === 0) return;
    const m = await this.ensureMapper();
    const spans = turns.flatMap((t) => m.turnSpans(t));
    for (const t of turns) this.noteLimits(t);
    this.report.turns += turns.length;
    this.report.spans += spans.length;
    await this.opts.emit(spans, closedAt);
  }
}

/** A turn past what one turn may hold (model/turn-builder.ts) is reported by the line it started on. */
function limitMessage(t: Turn): string | undefined {
  const calls = t.facts?.untracedItems;
  const notes = t.facts?.droppedNotes;
  if (!calls && !notes) return undefined;
  const parts = [calls ? `${calls.toLocaleString('en-US')} tool calls and model outputs past the ${MAX_TURN_ITEMS.toLocaleString('en-US')}-item turn limit counted, not traced` : '', notes ? `${notes.toLocaleString('en-US')} events past the ${MAX_TURN_NOTES.toLocaleString('en-US')}-event limit counted, not kept` : ''];
  return parts.filter(Boolean).join('; ');
}

/** A line of nothing but white space; a JSON line starts with `{` and is never trimmed (it may be long). */
function isBlank(text: string): boolean {
  return text.charCodeAt(0) !== 123 && text.trim() === '';
}

/** Stable order by the dialect's own key; lines without one keep their place after the line before them. */
function inOrder(lines: SourceLine[], orderOf: (value: unknown) => number | undefined): { line: SourceLine; value: unknown }[] {
  let last = -Infinity;
  const keyed = lines.map((line, i) => {
    let value: unknown;
    try {
      value = isBlank(line.text) ? undefined : JSON.parse(line.text);
    } catch {
      value = undefined;
    }
    const seq = orderOf(value);
    if (seq !== undefined) last = seq;
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
