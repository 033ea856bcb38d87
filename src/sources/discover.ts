import { readdirSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';

export interface DiscoveredInput {
  path: string;
  /** given by the user (kept even if its name is unusual) rather than found in a directory */
  explicit: boolean;
  /** a log file, or a directory (or a file standing for one) that is one input as a whole */
  kind: 'rollout' | 'bundle';
  /** for a directory input: the name of what claimed it */
  claimedBy?: string;
}

/** Which directories are one input as a whole, and who claims them: the formats know, the walk does not. */
export interface DirectoryInputs {
  directory(dir: string, files: ReadonlySet<string>, named: boolean): string | undefined;
  file(path: string): string | undefined;
}

const NO_DIRECTORY_INPUTS: DirectoryInputs = { directory: () => undefined, file: () => undefined };

export class InputError extends Error {}

// Any JSONL file is a candidate: each file's format is recognised from its content.
const ROLLOUT = /\.jsonl(?:\.zst)?$/;

/** Expands the paths a user gave into log files and directory inputs: directories are walked recursively. */
export async function discover(paths: string[], units: DirectoryInputs = NO_DIRECTORY_INPUTS): Promise<DiscoveredInput[]> {
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
    if (s.isDirectory()) out.push(...(await walk(p, units, true)));
    else {
      const claimedBy = units.file(p);
      out.push(claimedBy !== undefined ? { path: p, explicit: true, kind: 'bundle', claimedBy } : { path: p, explicit: true, kind: 'rollout' });
    }
  }
  return out;
}

// Synchronous: a sessions tree has hundreds of day directories, and one thread-pool round trip
// per directory made the walk several times slower than the listing itself.
async function walk(dir: string, units: DirectoryInputs, given = false): Promise<DiscoveredInput[]> {
  const entries = readdirSync(dir, { withFileTypes: true });
  const names = new Set(entries.filter((e) => !e.isDirectory()).map((e) => e.name));
  const claimedBy = units.directory(dir, names, given);
  if (claimedBy !== undefined) return [{ path: dir, explicit: given, kind: 'bundle', claimedBy }];
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
  for (const d of dirs.sort()) chosen.push(...(await walk(d, units)));
  return chosen;
}

