import type { SourceLine } from '../sources/lines.js';
import type { LineDecoder } from './decoder.js';
import type { BundleEvent } from '../model/bundle-events.js';
import type { DecodeWarning, ThreadMeta } from '../model/events.js';

export interface DecoderContext {
  path: string;
  /** the file's modification time, where lines without times are laid out (read only by dialects that need it) */
  mtimeMs: () => number;
}

/** What the pipeline hands a dialect to read files with: formats open nothing themselves. */
export interface LineSource {
  lines(path: string): AsyncIterable<SourceLine>;
}

export interface BundleDecoded {
  events: BundleEvent[];
  /** the event's type or shape is unknown: nothing was derived from it */
  warning?: DecodeWarning;
  /** the event was understood but a payload it names could not be used */
  problems: DecodeWarning[];
}

/** A log that records a whole agent tree in one directory, replayed as a whole. */
export interface BundleLog {
  /** the file the spans name as their source */
  source: string;
  lines: number;
  /** trace and root thread ids the bundle records for itself */
  recorded: { traceId?: string; rootThreadId?: string };
  /** problems met before any event was decoded (manifest, unreadable or malformed lines) */
  problems: { line: number; type: string; message: string; kind: 'badLines' | 'warnings' | 'gaps' }[];
  /** the events in replay order, decoded on demand */
  decode(): AsyncIterable<BundleDecoded>;
}

interface DialectBase {
  /** the `--format` name */
  readonly name: string;
  /** how messages call its files */
  readonly title: string;
  /** the agent a thread of this dialect is, when the log names none */
  readonly agent: string;
  /** recognises the dialect from a file's first JSON line */
  detect(first: Record<string, unknown>): boolean;
  /** where its agent keeps logs, for `watch` and for finding sub-agents' parents */
  homes?(env: NodeJS.ProcessEnv): string[];
  /** names the agent keeps for its threads (renamed sessions), by thread id */
  threadNames?(env: NodeJS.ProcessEnv): Map<string, string>;
}

/** A text a `list` scan looks for in a line to know it must parse it. */
export interface ListMarker {
  text: string;
  /** a line holding this text too is passed over (e.g. a tool's output, which starts no turn and costs nothing) */
  unless?: string;
  /** the text counts only within the line's first `within` bytes, where the log writes a line's kind; when every marker says so, lines are walked instead of searched */
  within?: number;
  /** a prompt: counts turns only in logs that mark none */
  prompt?: boolean;
}

/** What `list` shows of a bundle, read without replaying it. */
export interface BundleHeadline {
  id: string;
  /** the directory */
  path: string;
  start: number;
  end: number;
  bytes: number;
  turns?: number;
  cwd?: string;
  model?: string;
}

/** One thread per file, read line by line (live or backfill). */
export interface ThreadLogDialect extends DialectBase {
  readonly shape: 'thread-log';
  decoder(ctx: DecoderContext): LineDecoder;
  /** the thread id the file name carries, when the log names none */
  threadIdFromName?(path: string): string | undefined;
  /** the file's name relative to its agent's home, the same however it was reached (copies, archives) */
  sourcePathOf?(path: string): string | undefined;
  /** the log folders a file sits in (its parent agents are looked up there) */
  treeRootsOf?(file: string): string[] | undefined;
  /** lines carry an order of their own (several writers append): the key to replay them by */
  orderOf?(value: unknown): number | undefined;
  /** the lines a `list` scan parses after the head: those that start turns and those every model call's usage and model are read from; none, when absent */
  listMarkers?(meta: ThreadMeta | undefined): ListMarker[];
}

/** A directory that holds a whole agent tree (a trace bundle). */
export interface BundleDialect extends DialectBase {
  readonly shape: 'bundle';
  /** a directory met in a walk (or named by the user) that is one input of this dialect */
  claimsDirectory(dir: string, files: ReadonlySet<string>, named: boolean): boolean;
  /** a file the user named that stands for its directory */
  claimsFile(path: string): boolean;
  /** the file whose growth means the bundle changed (followed live) */
  logOf(path: string): string;
  open(path: string, io: LineSource, captureContent: boolean): Promise<BundleLog>;
  /** the session facts `list` shows; `full` also counts turns */
  headline(path: string, io: LineSource, depth: 'head' | 'full'): Promise<BundleHeadline | { error: string }>;
}

/** An input dialect: detection, discovery and decoding; nothing of OTel, nothing of delivery. */
export type Dialect = ThreadLogDialect | BundleDialect;
