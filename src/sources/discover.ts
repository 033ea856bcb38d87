import { readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { stat } from 'node:fs/promises';
import { basename, join } from 'node:path';

export interface DiscoveredInput {
  path: string;
  /** given by the user (kept even if its name is unusual) rather than found in a directory */
  explicit: boolean;
  /** a session rollout file, or a rollout trace bundle (its directory, `trace.jsonl` or `manifest.json`) */
  kind: 'rollout' | 'bundle';
}

export class InputError extends Error {}

// Any JSONL file is a candidate: each file's format is recognised from its content.
const ROLLOUT = /\.jsonl(?:\.zst)?$/;
// the fixed names inside a Codex rollout trace bundle directory
const BUNDLE_FILES = new Set(['trace.jsonl', 'manifest.json']);

/** Expands the paths a user gave into rollout files and trace bundles: directories are walked recursively. */
export async function discover(paths: string[]): Promise<DiscoveredInput[]> {
  const out: DiscoveredInput[] = [];
  for (const p of paths) {
    if (p === '-') {
      out.push({ path: p, explicit: true, kind: 'rollout' });
      continue;
    }
    let s;
    try {
      s = await stat(p);
    } catch (err) {
      throw new InputError(`${p}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (err as Error).message}`);
    }
    if (s.isDirectory()) out.push(...(await walk(p, true)));
    else out.push({ path: p, explicit: true, kind: BUNDLE_FILES.has(basename(p)) ? 'bundle' : 'rollout' });
  }
  return out;
}

// Synchronous: a sessions tree has hundreds of day directories, and one thread-pool round trip
// per directory made the walk several times slower than the listing itself.
async function walk(dir: string, given = false): Promise<DiscoveredInput[]> {
  const entries = readdirSync(dir, { withFileTypes: true });
  // A directory the user named is a bundle when it holds either file; one found while walking needs
  // its trace.jsonl beside a manifest.json or under the bundle's own name, so other traces are left alone.
  const names = new Set(entries.filter((e) => !e.isDirectory()).map((e) => e.name));
  const bundle = given
    ? [...BUNDLE_FILES].some((f) => names.has(f))
    : names.has('trace.jsonl') && (names.has('manifest.json') || basename(dir).startsWith('trace-'));
  if (bundle) return [{ path: dir, explicit: given, kind: 'bundle' }];
  const files: string[] = [];
  const dirs: string[] = [];
  for (const e of entries) {
    if (e.isDirectory()) {
      if (!e.name.startsWith('.')) dirs.push(join(dir, e.name));
    } else if (ROLLOUT.test(e.name)) files.push(join(dir, e.name));
  }
  // When both x.jsonl and x.jsonl.zst exist, the plain file is the live one.
  const plain = new Set(files.filter((f) => !f.endsWith('.zst')));
  const chosen: DiscoveredInput[] = files.filter((f) => !f.endsWith('.zst') || !plain.has(f.slice(0, -4))).sort().map((path) => ({ path, explicit: false, kind: 'rollout' }));
  for (const d of dirs.sort()) chosen.push(...(await walk(d)));
  return chosen;
}

/** The thread id a Codex rollout file name carries (`rollout-<19-char time>-<id>[_<rollout id>].jsonl`). */
export function threadIdFromName(path: string): string | undefined {
  const m = /rollout-.{19}-([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})/.exec(basename(path));
  return m?.[1];
}

/** Where Codex keeps its state: `$CODEX_HOME`, else `~/.codex`. */
export function codexHome(env: NodeJS.ProcessEnv = process.env): string {
  return env.CODEX_HOME ?? join(homedir(), '.codex');
}
