import { homedir } from 'node:os';
import { CURRENCY } from '../otel/cost.js';
import { defaultHomes, findInputs, homesLooked, type SessionCost, type SessionEntry } from '../pipeline/catalog.js';
import type { Io } from './export-command.js';
import { select, selectionOf, type SelectionFlags } from './selection.js';
import { EXIT } from './summary.js';

export interface ListFlags extends SelectionFlags {
  json?: boolean;
  progress?: boolean;
  quiet?: boolean;
}

/** Prints the sessions under the paths (default: the sessions homes), newest first. */
export async function runList(paths: string[], flags: ListFlags, io: Io): Promise<number> {
  const selection = selectionOf(flags);
  const where = paths.length ? paths : defaultHomes(io.env);
  const err = (line: string) => io.stderr.write(`rollout-otel: ${line}\n`);
  if (where.length === 0) {
    err(`no sessions home found (looked for ${homesLooked(io.env)}); give the directories to list`);
    return EXIT.ok;
  }
  const found = await findInputs(where);
  for (const m of found.missing) err(`${m.path}: ${m.error}`);

  const bar = await progressBar(flags, io, found.inputs.length);
  let picked;
  try {
    picked = await select(found.inputs, selection, { depth: 'full', env: io.env, onEntry: (done) => bar?.update(done) });
  } finally {
    bar?.stop();
  }
  const entries = picked.entries.sort((a, b) => b.start - a.start || a.path.localeCompare(b.path));
  const rows = entries.map((e) => (flags.json ? `${JSON.stringify(jsonOf(e))}` : columns(e)));
  io.stdout.write(flags.json ? rows.map((r) => `${r}\n`).join('') : aligned(rows as string[][]));

  const given = picked.unreadable.filter((u) => u.input.explicit);
  for (const u of given) if ('error' in u) err(`${u.input.path}: ${u.error}`);
  const skipped = picked.unreadable.length - given.length;
  for (const id of picked.unmatched) err(`no session id starts with ${id}`);
  if (!flags.quiet) {
    err(`${entries.length} session${entries.length === 1 ? '' : 's'}${entries.length < found.inputs.length - picked.unreadable.length ? ` selected of ${found.inputs.length - picked.unreadable.length}` : ''}` +
      ` under ${where.join(', ')}${skipped ? `; ${skipped} other .jsonl file${skipped === 1 ? '' : 's'} skipped (not a rollout)` : ''}`);
  }
  return found.missing.length || given.length ? EXIT.badInput : EXIT.ok;
}

async function progressBar(flags: ListFlags, io: Io, total: number) {
  // a bar only on a terminal, for a listing that takes a while
  if (flags.progress === false || flags.quiet || !io.stderr.isTTY || total < 50) return undefined;
  const cliProgress = (await import('cli-progress')).default;
  const bar = new cliProgress.SingleBar({ format: 'reading [{bar}] {value}/{total} files', stream: io.stderr, hideCursor: true, clearOnComplete: true }, cliProgress.Presets.shades_classic);
  bar.start(total, 0);
  return bar;
}

function jsonOf(e: SessionEntry): Record<string, unknown> {
  return {
    id: e.id, agent: e.agent, format: e.format,
    start: new Date(e.start).toISOString(), end: new Date(e.end).toISOString(), durationMs: Math.max(0, Math.round(e.end - e.start)),
    cwd: e.cwd ?? null, repository: e.repository ?? null, branch: e.branch ?? null, model: e.model ?? null, title: e.title ?? null,
    parentId: e.parentId ?? null, subagent: e.subagent ?? null,
    turns: e.turns ?? null, tokens: e.tokens ?? null, cost: e.cost ? costJson(e.cost) : null, inferredTiming: e.inferredTiming ?? false,
    path: e.path, bytes: e.bytes,
  };
}

/** As the spans say it: the amount of the priced calls in USD, and how many calls have no price (absent from the amount). */
function costJson(c: SessionCost): Record<string, unknown> {
  return { amount: c.amount ?? null, currency: CURRENCY, pricedCalls: c.pricedCalls, unpricedCalls: c.unpricedCalls, unpricedModels: c.unpricedModels };
}

/** `$0.42`; `≥$0.12` when some calls have no price; `—` when none has one, or nothing recorded usage. */
export function costText(c: SessionCost | undefined): string {
  if (c?.amount === undefined) return '—';
  return `${c.unpricedCalls > 0 ? '≥' : ''}$${c.amount.toFixed(c.amount < 1 ? 4 : 2)}`;
}

function columns(e: SessionEntry): string[] {
  const title = e.title ? `"${e.title}"` : e.parentId ? `sub-agent${e.subagent ? ` ${e.subagent}` : ''} of ${e.parentId.slice(0, 8)}` : '';
  return [
    localTime(e.start),
    e.agent,
    e.id,
    clip(tilde(e.cwd ?? repoName(e.repository) ?? '-')),
    e.turns === undefined ? '-' : `${e.turns} turn${e.turns === 1 ? '' : 's'}`,
    e.tokens ? `${compact(e.tokens.total)} tokens` : '- tokens',
    costText(e.cost),
    tilde(e.path),
    title,
  ];
}

/** Columns padded to their widest cell; the last one is left as it is. */
function aligned(rows: string[][]): string {
  if (rows.length === 0) return '';
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => `${r.map((c, i) => (i < r.length - 1 ? c.padEnd(widths[i]!) : c)).join('  ').trimEnd()}\n`).join('');
}

function localTime(ms: number): string {
  const d = new Date(ms);
  const p = (x: number) => String(x).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

function compact(x: number): string {
  if (x < 1000) return String(x);
  if (x < 1e6) return `${(x / 1e3).toFixed(x < 1e4 ? 1 : 0)}k`;
  return `${(x / 1e6).toFixed(x < 1e7 ? 1 : 0)}M`;
}

function repoName(url: string | undefined): string | undefined {
  return url?.replace(/\.git$/, '').split(/[/:]/).slice(-2).join('/');
}

function tilde(path: string): string {
  const home = homedir();
  return home && path.startsWith(`${home}/`) ? `~${path.slice(home.length)}` : path;
}

/** A cell of the text listing: a path or name longer than a line is shortened in the middle. */
function clip(text: string, max = 120): string {
  return text.length <= max ? text : `${text.slice(0, max / 2 - 1)}…${text.slice(-(max / 2))}`;
}
