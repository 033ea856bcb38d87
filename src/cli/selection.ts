import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { catalog, isEntry, threadNames, type CatalogDepth, type CatalogResult, type SessionEntry } from '../pipeline/catalog.js';
import type { DiscoveredInput } from '../sources/discover.js';
import { UsageError } from './summary.js';

/** The flags that pick sessions, shared by list, export and watch. */
export interface SelectionFlags {
  since?: string;
  until?: string;
  agent?: string[];
  cwd?: string;
  session?: string[];
}

export interface Selection {
  /** epoch ms: sessions active at or after this */
  since?: number;
  /** epoch ms: sessions started before this */
  until?: number;
  agents?: string[];
  /** a directory: sessions that ran in it or below it */
  cwd?: string;
  /** session id prefixes */
  ids?: string[];
}

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

/**
 * `2d`, `12h`, `90m`, `1w` (that long before now), `today`, `yesterday`, a date `2026-05-08` (local
 * midnight; as an end, the end of that day) or a date and time in ISO 8601.
 */
export function parseWhen(text: string, flag: string, now = Date.now(), end = false): number {
  const t = text.trim();
  const rel = /^(\d+(?:\.\d+)?)\s*(s|m|h|d|w)$/.exec(t);
  if (rel) return now - Number(rel[1]) * UNIT_MS[rel[2] as keyof typeof UNIT_MS];
  const day = (offset: number) => {
    const d = new Date(now);
    d.setHours(0, 0, 0, 0);
    d.setDate(d.getDate() + offset + (end ? 1 : 0));
    return d.getTime();
  };
  if (t === 'today') return day(0);
  if (t === 'yesterday') return day(-1);
  if (DATE_ONLY.test(t)) {
    const [y, m, d] = t.split('-').map(Number) as [number, number, number];
    const at = new Date(y, m - 1, d + (end ? 1 : 0)).getTime();
    if (!Number.isNaN(at) && new Date(y, m - 1, d).getDate() === d) return at;
  } else if (/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}/.test(t)) {
    const at = Date.parse(t.replace(' ', 'T'));
    if (!Number.isNaN(at)) return at;
  }
  throw new UsageError(`${flag} must be a duration before now (2d, 12h, 30m, 1w), today, yesterday, a date (2026-05-08) or an ISO date and time, got "${text}"`);
}

export function selectionOf(flags: SelectionFlags, ids: string[] = [], now = Date.now()): Selection {
  const sel: Selection = {};
  if (flags.since !== undefined) sel.since = parseWhen(flags.since, '--since', now);
  if (flags.until !== undefined) sel.until = parseWhen(flags.until, '--until', now, true);
  if (sel.since !== undefined && sel.until !== undefined && sel.since >= sel.until) throw new UsageError('--since must be before --until');
  if (flags.agent?.length) sel.agents = flags.agent.flatMap((a) => a.split(',')).map((a) => a.trim().toLowerCase()).filter(Boolean);
  if (flags.cwd !== undefined) sel.cwd = resolve(flags.cwd);
  const all = [...ids, ...(flags.session ?? [])];
  if (all.length) sel.ids = all.map((i) => i.trim().toLowerCase());
  return sel;
}

export function isSelective(sel: Selection): boolean {
  return sel.since !== undefined || sel.until !== undefined || sel.agents !== undefined || sel.cwd !== undefined || sel.ids !== undefined;
}

/** Whether a session falls in the selection: active in the time window, of the agent, under the directory, with the id. */
export function selects(e: SessionEntry, sel: Selection): boolean {
  if (sel.since !== undefined && e.end < sel.since) return false;
  if (sel.until !== undefined && e.start >= sel.until) return false;
  if (sel.agents && !sel.agents.includes(e.agent.toLowerCase()) && !sel.agents.includes(e.format)) return false;
  if (sel.cwd !== undefined && !underDir(e.cwd, sel.cwd)) return false;
  if (sel.ids && !sel.ids.some((id) => e.id.toLowerCase().startsWith(id))) return false;
  return true;
}

function underDir(cwd: string | undefined, dir: string): boolean {
  if (!cwd) return false;
  const norm = (p: string) => p.replace(/\\/g, '/').replace(/\/+$/, '').toLowerCase();
  const c = norm(cwd);
  const d = norm(dir);
  return c === d || c.startsWith(`${d}/`);
}

/**
 * Splits positional arguments into paths and session ids: an argument that is not an existing
 * path and looks like the start of an id (at least four hex digits, dashes allowed) is an id.
 */
export function pathsAndIds(args: string[]): { paths: string[]; ids: string[] } {
  const paths: string[] = [];
  const ids: string[] = [];
  for (const a of args) {
    if (a !== '-' && !existsSync(a) && /^[0-9a-f][0-9a-f-]{3,}$/i.test(a)) ids.push(a);
    else paths.push(a);
  }
  return { paths, ids };
}

export interface Selected {
  inputs: DiscoveredInput[];
  entries: SessionEntry[];
  /** inputs the catalogue could not read: given ones are kept for the export to report */
  unreadable: CatalogResult[];
  /** id prefixes that matched no session */
  unmatched: string[];
}

/** Reads the inputs' catalogue entries and keeps those in the selection. */
export async function select(inputs: DiscoveredInput[], sel: Selection, o: { depth: CatalogDepth; env: NodeJS.ProcessEnv; onEntry?: (done: number, total: number) => void }): Promise<Selected> {
  // a file last written before --since cannot have been active since (a minute's slack for clocks)
  const activeSince = sel.since !== undefined ? sel.since - 60_000 : undefined;
  const results = await catalog(inputs, { depth: o.depth, activeSince, onEntry: o.onEntry, names: threadNames(o.env) });
  const out: Selected = { inputs: [], entries: [], unreadable: [], unmatched: [] };
  for (const r of results) {
    if (!isEntry(r)) {
      out.unreadable.push(r);
      if (r.input.explicit) out.inputs.push(r.input);
    } else if (selects(r, sel)) {
      out.entries.push(r);
      out.inputs.push(r.input);
    }
  }
  out.unmatched = (sel.ids ?? []).filter((id) => !out.entries.some((e) => e.id.toLowerCase().startsWith(id)));
  return out;
}
