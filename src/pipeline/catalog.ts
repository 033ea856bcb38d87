import { closeSync, existsSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { LineDecoder } from '../formats/decoder.js';
import type { ListMarker, ThreadLogDialect } from '../formats/dialect.js';
import { agentHomes, DIALECTS, detectDialect, dialectNamed, findInputs as discoverInputs } from '../formats/registry.js';
import { ThreadAssembler } from '../model/assembler.js';
import type { RolloutEvent, ThreadMeta, TokenUsage } from '../model/events.js';
import { addUsage, emptyUsage, type Turn } from '../model/types.js';
import { addTurnCost, newTally, roundCost, type CostTally } from '../otel/cost.js';
import { truncate } from '../cut.js';
import { MAX_FACT_CHARS } from '../otel/content.js';
import { InputError, type DiscoveredInput, type SkippedEntry } from '../sources/discover.js';
import { readLines } from '../sources/lines.js';
import { logOf } from './export-input.js';
import { isZstd, openRollout } from '../sources/files.js';

// The session catalogue: a session's header facts (who, where, when, how much) read without
// building spans. A file is read once, in chunks: the first lines are decoded whole, after that
// only the lines that can count a turn, a prompt or a model call's usage are parsed, and the last
// few lines give the end time. Memory stays bounded by the chunk and the longest line. The parsed
// lines go through the assembler as an export's do, so a model call is the same call and priced
// the same as on its chat span.

export interface SessionTokens {
  input: number;
  cachedInput: number;
  output: number;
  reasoningOutput: number;
  total: number;
}

/** What the session's model calls cost in USD, priced as their chat spans are. */
export interface SessionCost {
  /** of the priced calls only; undefined when none is priced */
  amount?: number;
  pricedCalls: number;
  /** calls with usage whose model (or provider) has no price: not in the amount */
  unpricedCalls: number;
  unpricedModels: string[];
}

export interface SessionEntry {
  /** the thread (session) id */
  id: string;
  /** the agent the log names, else its dialect */
  agent: string;
  /** the dialect's name */
  format: string;
  /** a rollout file, or a trace bundle's directory */
  path: string;
  input: DiscoveredInput;
  /** epoch milliseconds */
  start: number;
  end: number;
  cwd?: string;
  repository?: string;
  branch?: string;
  model?: string;
  /** the thread's name where the agent keeps one, else the start of the first prompt */
  title?: string;
  /** sub-agents: the thread that spawned them */
  parentId?: string;
  subagent?: string;
  /** read in full only (not with depth `head`) */
  turns?: number;
  tokens?: SessionTokens;
  /** read in full only, and only where some model call recorded usage */
  cost?: SessionCost;
  bytes: number;
  /** times are laid out from the start, not recorded per line */
  inferredTiming?: boolean;
}

/** An input the catalogue could not read as a session. */
export interface Unlisted {
  input: DiscoveredInput;
  error: string;
}

export type CatalogResult = SessionEntry | Unlisted;

export function isEntry(r: CatalogResult): r is SessionEntry {
  return 'id' in r;
}

/** Which facts to read: `head` stops after the thread's own record (ids, agent, cwd, start) and the last lines. */
export type CatalogDepth = 'full' | 'head';

/** Where sessions are looked for when no path is given: every registered agent's homes that exist. */
export function defaultHomes(env: NodeJS.ProcessEnv = process.env): string[] {
  return agentHomes(env).filter((d) => existsSync(d));
}

/** The default homes, for a message saying where sessions were looked for. */
export function homesLooked(env: NodeJS.ProcessEnv = process.env): string {
  return agentHomes(env).join(', ');
}

export interface Found {
  inputs: DiscoveredInput[];
  /** paths that could not be searched, with why */
  missing: { path: string; error: string }[];
}

/** The inputs under `paths`, path by path, keeping what could not be searched. */
export async function findInputs(paths: string[]): Promise<Found> {
  const found: Found = { inputs: [], missing: [] };
  for (const p of paths) {
    try {
      const skipped: SkippedEntry[] = [];
      const inputs = await discoverInputs([p], skipped);
      if (inputs.length === 0 && skipped.length === 0) found.missing.push({ path: p, error: 'no *.jsonl or *.jsonl.zst files or trace bundles found here' });
      for (const e of skipped) found.missing.push({ path: e.path, error: `${e.reason}: skipped` });
      found.inputs.push(...inputs);
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      found.missing.push({ path: p, error: err.message.replace(`${p}: `, '') });
    }
  }
  return found;
}

export interface CatalogOptions {
  depth?: CatalogDepth;
  /** skip, unread, files last written before this (epoch ms): they cannot have been active since */
  activeSince?: number;
  onEntry?: (done: number, total: number) => void;
  /** thread names by id, e.g. Codex's session_index.jsonl */
  names?: Map<string, string>;
}

/** Reads each input's header facts; inputs skipped by `activeSince` are left out. */
export async function catalog(inputs: DiscoveredInput[], o: CatalogOptions = {}): Promise<CatalogResult[]> {
  const out: CatalogResult[] = [];
  let done = 0;
  for (const input of inputs) {
    if (o.activeSince !== undefined && input.path !== '-' && !input.explicit) {
      const mtime = statSync(logOf(input), { throwIfNoEntry: false })?.mtimeMs;
      if (mtime !== undefined && mtime < o.activeSince) {
        o.onEntry?.(++done, inputs.length);
        continue;
      }
    }
    out.push(await readEntry(input, o.depth ?? 'full', o.names));
    o.onEntry?.(++done, inputs.length);
  }
  return out;
}

/** The names agents keep for their threads (renamed sessions), by thread id. */
export function threadNames(env: NodeJS.ProcessEnv = process.env): Map<string, string> {
  const names = new Map<string, string>();
  for (const d of DIALECTS) for (const [id, name] of d.threadNames?.(env) ?? []) names.set(id, name);
  return names;
}

/** Reads one input's facts. Never throws for a file that cannot be read: says why instead. */
export async function readEntry(input: DiscoveredInput, depth: CatalogDepth = 'full', names?: Map<string, string>): Promise<CatalogResult> {
  try {
    const entry = input.kind === 'bundle' ? await readBundle(input, depth) : await readRollout(input, depth);
    if (isEntry(entry)) {
      const name = names?.get(entry.id);
      if (name) entry.title = name;
    }
    return entry;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return { input, error: e.code === 'ENOENT' ? 'no such file' : e.code === 'EACCES' ? 'permission denied' : (e.message ?? String(err)) };
  }
}

const MB = 1024 * 1024;
const CHUNK = MB;
/** the first lines are decoded whole until the thread's record and first prompt are found, or this much was read */
const HEAD_BYTES = 512 * 1024;
const HEAD_LINES = 400;
/** the last lines, for the end time */
const TAIL_LINES = 4;
const TAIL_LINE_MAX = 64 * 1024;
const TITLE_CHARS = 80;
/** a line longer than this is passed over unread (a session record, a prompt or a count is far shorter) */
const LINE_MAX = 16 * MB;
/** a line longer than this before any line in a known format: the file is no rollout (a session record with megabytes of instructions still is one) */
const HEAD_LINE_MAX = LINE_MAX;

// The lines after the head that are parsed are those the dialect marks (turn starts, prompts,
// usage); every other line is passed over as bytes. The decoder still decides what a parsed line
// means.

class Facts {
  meta: ThreadMeta | undefined;
  dialect: ThreadLogDialect | undefined;
  decoder: LineDecoder | undefined;
  turnStarts = 0;
  prompts = 0;
  firstPrompt: string | undefined;
  model: string | undefined;
  tokens: SessionTokens | undefined;
  /** the model calls, assembled from the parsed lines as an export assembles them */
  private calls: ThreadAssembler | undefined;
  readonly cost: CostTally = newTally();
  readonly unpricedModels = new Set<string>();
  /** usage summed over the model calls, for logs without cumulative counts */
  callUsage: TokenUsage | undefined;
  start = Infinity;
  end = -Infinity;
  /** the title of the directory input whose log this file is */
  notRollout: string | undefined;

  /** `priced`: model calls are assembled and priced (a full read) */
  constructor(private readonly path: string, private readonly priced: boolean) {}

  /** `timesOnly`: a line read again (the last lines), for its time alone */
  push(text: string, line: number, timesOnly = false): void {
    if (this.notRollout) return;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return;
    }
    if (!this.decoder) {
      const dialect = detectDialect(value);
      if (dialect?.shape === 'bundle') {
        this.notRollout = dialect.title;
        return;
      }
      if (!dialect) return;
      this.dialect = dialect;
      const mtimeMs = () => (this.path === '-' ? Date.now() : (statSync(this.path, { throwIfNoEntry: false })?.mtimeMs ?? Date.now()));
      this.decoder = dialect.decoder({ path: this.path, mtimeMs });
    }
    for (const e of this.decoder.decode(value, line).events) this.note(e, timesOnly);
  }

  private note(e: RolloutEvent, timesOnly: boolean): void {
    if (Number.isFinite(e.time) && e.time > 0) {
      if (e.time > this.end) this.end = e.time;
      if (e.time < this.start) this.start = e.time;
    }
    if (timesOnly) return;
    if (this.priced) this.price((this.calls ??= new ThreadAssembler({ path: this.path })).push(e));
    switch (e.kind) {
      case 'thread_start':
        this.meta ??= e.meta;
        break;
      case 'turn_start':
        this.turnStarts++;
        break;
      case 'user_message':
        this.prompts++;
        if (this.firstPrompt === undefined && e.text.trim()) this.firstPrompt = e.text;
        break;
      case 'turn_context':
        if (e.model) this.model = e.model;
        break;
      case 'token_count':
        this.tokens = { input: e.total.input, cachedInput: e.total.cachedInput, output: e.total.output, reasoningOutput: e.total.reasoningOutput, total: e.total.total };
        break;
      case 'model_output':
        if (e.model) this.model ??= e.model;
        break;
    }
  }

  private price(turns: Turn[]): void {
    const meta = this.calls?.meta;
    if (!meta) return;
    for (const t of turns) {
      addTurnCost(this.cost, this.unpricedModels, t, meta);
      if (t.modelCalls.some((c) => c.usage)) addUsage((this.callUsage ??= emptyUsage()), t.usage);
    }
  }

  /** Closes the turn still open: the file ends here. */
  finish(): void {
    if (this.calls) this.price(this.calls.finish().turns);
  }

  /** the head is done once the thread's record and its first prompt are known */
  get headDone(): boolean {
    return this.notRollout !== undefined || (this.meta !== undefined && this.firstPrompt !== undefined);
  }
}

async function readRollout(input: DiscoveredInput, depth: CatalogDepth): Promise<CatalogResult> {
  const facts = new Facts(input.path, depth === 'full');
  let bytes = 0;
  let mtimeMs = Date.now();
  // head only for a large plain file: anything else is read whole anyway
  let full = true;
  if (input.path !== '-' && !isZstd(input.path)) {
    const fd = openSync(input.path, 'r');
    try {
      const st = fstatSync(fd);
      bytes = st.size;
      mtimeMs = st.mtimeMs;
      if (depth === 'head' && st.size > HEAD_BYTES) {
        full = false;
        await scan(chunksOf(fd, 0, HEAD_BYTES), facts, 'head');
        if (facts.dialect) await scan(chunksOf(fd, st.size - TAIL_LINE_MAX, st.size), facts, 'tail');
      } else {
        await scan(chunksOf(fd, 0, st.size), facts, 'full');
      }
    } finally {
      closeSync(fd);
    }
  } else {
    if (input.path !== '-') {
      const st = statSync(input.path);
      bytes = st.size;
      mtimeMs = st.mtimeMs;
    }
    await scan(openRollout(input.path), facts, 'full');
  }
  if (facts.notRollout) return { input, error: `the event log of a ${facts.notRollout}: list its directory` };
  if (full) facts.finish();
  const meta = facts.meta;
  if (!meta) return { input, error: bytes === 0 && input.path !== '-' ? 'empty file' : 'not a rollout: no session start in a known format' };
  const start = Number.isFinite(meta.startTime) ? meta.startTime : Number.isFinite(facts.start) ? facts.start : mtimeMs;
  const entry: SessionEntry = {
    id: meta.threadId,
    agent: meta.agentName ?? facts.dialect?.name ?? 'unknown',
    format: facts.dialect?.name ?? 'unknown',
    path: input.path,
    input,
    start,
    end: meta.inferredTiming ? start : Math.max(start, Number.isFinite(facts.end) ? facts.end : start),
    bytes,
  };
  if (full) entry.turns = facts.turnStarts > 0 ? facts.turnStarts : facts.prompts;
  if (meta.cwd) entry.cwd = fact(meta.cwd);
  if (meta.git?.repositoryUrl) entry.repository = fact(meta.git.repositoryUrl);
  if (meta.git?.branch) entry.branch = fact(meta.git.branch);
  if (facts.model) entry.model = fact(facts.model);
  if (facts.firstPrompt) entry.title = oneLine(facts.firstPrompt);
  if (meta.parentThreadId) entry.parentId = meta.parentThreadId;
  const sub = meta.agentNickname ?? meta.agentRole ?? meta.agentPath ?? meta.subagentKind;
  if (sub) entry.subagent = fact(sub);
  const u = facts.callUsage;
  const tokens = facts.tokens ?? (u && { input: u.input, cachedInput: u.cachedInput, output: u.output, reasoningOutput: u.reasoningOutput, total: u.total });
  if (tokens && full) entry.tokens = tokens;
  const c = facts.cost;
  if (full && c.priced + c.unpriced > 0) {
    entry.cost = { pricedCalls: c.priced, unpricedCalls: c.unpriced, unpricedModels: [...facts.unpricedModels] };
    if (c.priced > 0) entry.cost.amount = roundCost(c.amount);
  }
  if (meta.inferredTiming) entry.inferredTiming = true;
  return entry;
}

/**
 * One pass over a file's bytes. `head`: decode every line until the head is done, then stop.
 * `full`: decode every line of the head, then only the lines holding a marker (found by searching
 * the bytes, or, when the dialect's markers sit near a line's start, by looking at each line's
 * start); the last lines give the end time. `tail`: the last lines only.
 */
async function scan(chunks: AsyncIterable<Buffer | Uint8Array> | Iterable<Buffer>, facts: Facts, mode: 'head' | 'full' | 'tail'): Promise<void> {
  // the start of an unfinished line, kept as pieces so a long line is copied once
  let carry: Buffer[] = [];
  let carried = 0;
  // inside a line too long to hold: passed over up to its newline
  let skipping = false;
  let line = 0;
  let headBytes = 0;
  let inHead = mode === 'head' || mode === 'full';
  let markers: Markers | undefined;
  // the last two regions of whole lines, where the last lines are found at the end
  let last: { buf: Buffer; start: number; end: number }[] = [];
  let first = true;
  for await (const chunk of chunks) {
    let piece = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (skipping) {
      const nl = piece.indexOf(10);
      if (nl === -1) continue;
      skipping = false;
      piece = piece.subarray(nl + 1);
      line++;
    }
    if (piece.indexOf(10) === -1) {
      // chunks are read into a few reused buffers: a piece kept past the next reads is copied, and
      // so are the last lines seen before a line that spans several chunks
      if (carry.length === 0) last = last.map((r) => ({ buf: Buffer.from(r.buf.subarray(r.start, r.end)), start: 0, end: r.end - r.start }));
      carry.push(Buffer.from(piece));
      carried += piece.length;
      // the head of a file that is no rollout, or a line too long to matter (none that counts is)
      if (!facts.dialect && carried > HEAD_LINE_MAX) return;
      if (carried > LINE_MAX) {
        carry = [];
        carried = 0;
        skipping = true;
      }
      continue;
    }
    const buf = carry.length ? Buffer.concat([...carry, piece]) : piece;
    const end = buf.lastIndexOf(10) + 1;
    // a tail read starts inside a line
    let s = first && mode === 'tail' ? buf.indexOf(10) + 1 : 0;
    first = false;
    last = [...last.slice(-1), { buf, start: s, end }];
    while (inHead && s < end) {
      const nl = buf.indexOf(10, s);
      facts.push(buf.toString('utf8', s, nl), ++line);
      headBytes += nl + 1 - s;
      s = nl + 1;
      if (facts.headDone || headBytes > HEAD_BYTES || line >= HEAD_LINES) {
        if (mode === 'head' || facts.notRollout || !facts.dialect) return;
        inHead = false;
      }
    }
    if (mode === 'full' && !inHead) {
      const m = (markers ??= markersOf(facts));
      if (m.nearStart) {
        // each line's start is looked at: cheaper than searching the whole text once per marker
        for (let from = s; from < end; ) {
          const to = buf.indexOf(10, from);
          if (wanted(buf, from, to, m, facts)) facts.push(buf.toString('utf8', from, to), ++line);
          from = to + 1;
        }
      } else {
        // once a turn start is seen, prompts no longer count turns: not searched for
        const next = m.list.map((k) => (k.prompt && facts.turnStarts > 0 ? -1 : buf.indexOf(k.bytes, s)));
        for (;;) {
          let i = -1;
          for (let k = 0; k < next.length; k++) if (next[k]! !== -1 && next[k]! < end && (i === -1 || next[k]! < next[i]!)) i = k;
          if (i === -1) break;
          const hit = next[i]!;
          const from = buf.lastIndexOf(10, hit) + 1;
          const to = buf.indexOf(10, hit);
          if (wanted(buf, from, to, m, facts)) facts.push(buf.toString('utf8', from, to), ++line);
          for (let k = 0; k < next.length; k++) {
            if (next[k]! === -1 || next[k]! > to) continue;
            next[k] = m.list[k]!.prompt && facts.turnStarts > 0 ? -1 : buf.indexOf(m.list[k]!.bytes, to + 1);
          }
        }
      }
    }
    carry = end < buf.length ? [Buffer.from(buf.subarray(end))] : [];
    carried = buf.length - end;
  }
  // a last line without its newline may be half-written: it is read only if it parses
  const tornBytes = carry.length ? Buffer.concat(carry) : undefined;
  const torn = tornBytes?.toString('utf8');
  if (inHead) {
    if (torn !== undefined) facts.push(torn, ++line);
    return;
  }
  if (mode === 'head') return;
  for (const text of lastLines(last)) facts.push(text, ++line, true);
  if (tornBytes && torn !== undefined) facts.push(torn, ++line, !(mode === 'full' && wanted(tornBytes, 0, tornBytes.length, (markers ??= markersOf(facts)), facts)));
}

interface Marker extends Omit<ListMarker, 'unless'> {
  bytes: Buffer;
  unless?: Buffer;
}

interface Markers {
  list: Marker[];
  /** every marker lies near its line's start: lines are walked, not searched */
  nearStart: boolean;
  /** the longest `within` */
  reach: number;
}

function markersOf(facts: Facts): Markers {
  const list = (facts.dialect?.listMarkers?.(facts.meta) ?? []).map(({ unless, ...m }) => ({ ...m, bytes: Buffer.from(m.text), unless: unless === undefined ? undefined : Buffer.from(unless) }));
  const nearStart = list.length > 0 && list.every((m) => m.within !== undefined);
  return { list, nearStart, reach: Math.max(0, ...list.map((m) => m.within ?? 0)) };
}

/** Whether a marker wants the line buf[from, to): one that passes it over does not stop another. */
function wanted(buf: Buffer, from: number, to: number, markers: Markers, facts: Facts): boolean {
  let line: Buffer | undefined;
  let start: string | undefined;
  for (const m of markers.list) {
    if (m.prompt && facts.turnStarts > 0) continue;
    if (m.within !== undefined) {
      start ??= buf.toString('latin1', from, Math.min(to, from + markers.reach));
      const at = start.indexOf(m.text);
      if (at === -1 || at + m.text.length > m.within) continue;
    } else if (!(line ??= buf.subarray(from, to)).includes(m.bytes)) continue;
    if (m.unless && (line ??= buf.subarray(from, to)).includes(m.unless)) continue;
    return true;
  }
  return false;
}

/** The last few lines in the regions, oldest first. */
function lastLines(regions: { buf: Buffer; start: number; end: number }[]): string[] {
  const out: string[] = [];
  for (let r = regions.length - 1; r >= 0 && out.length < TAIL_LINES; r--) {
    const { buf, start } = regions[r]!;
    let e = regions[r]!.end - 1;
    while (e > start && out.length < TAIL_LINES) {
      const b = buf.lastIndexOf(10, e - 1) + 1;
      const from = Math.max(b, start);
      if (e - from <= TAIL_LINE_MAX) out.unshift(buf.toString('utf8', from, e));
      e = from - 1;
    }
  }
  return out;
}

// Read buffers are reused from file to file, three to a reader in turn: the scan keeps the last two
// chunks it read (for the file's last lines).
const spare: Buffer[][] = [];

function* chunksOf(fd: number, from: number, to: number): Iterable<Buffer> {
  const bufs = spare.pop() ?? [];
  try {
    let pos = Math.max(0, from);
    for (let i = 0; pos < to; i = (i + 1) % 3) {
      const buf = (bufs[i] ??= Buffer.allocUnsafe(CHUNK));
      const n = readSync(fd, buf, 0, Math.min(CHUNK, to - pos), pos);
      if (n === 0) return;
      pos += n;
      yield buf.subarray(0, n);
    }
  } finally {
    spare.push(bufs);
  }
}

function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > TITLE_CHARS ? `${flat.slice(0, TITLE_CHARS - 1)}…` : flat;
}

async function readBundle(input: DiscoveredInput, depth: CatalogDepth): Promise<CatalogResult> {
  const dialect = dialectNamed(input.claimedBy ?? '');
  if (dialect?.shape !== 'bundle') return { input, error: 'not a known kind of directory input' };
  const h = await dialect.headline(input.path, { lines: (path) => readLines(openRollout(path)) }, depth);
  if ('error' in h) return { input, error: h.error };
  const entry: SessionEntry = { id: h.id, agent: dialect.agent, format: dialect.name, path: h.path, input, start: h.start, end: h.end, bytes: h.bytes };
  if (h.turns !== undefined) entry.turns = h.turns;
  if (h.cwd) entry.cwd = h.cwd;
  if (h.model) entry.model = h.model;
  return entry;
}

/** A recorded name or path as the spans carry it: cut at the fact limit, however long the log's is. */
function fact(text: string): string {
  return truncate(text, MAX_FACT_CHARS);
}
