import { readdirSync, statSync, type Dirent, type Stats } from 'node:fs';
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

/** An entry met in a walk that is not read: each is its own failure domain, reported and passed over. */
export interface SkippedEntry {
  path: string;
  reason: string;
}

/**
 * Expands the paths a user gave into log files and directory inputs: directories are walked
 * recursively. Entries that cannot be read or are not regular files go to `skipped`, not into the
 * result; a path the user named that cannot be used is an InputError.
 */
export async function discover(paths: string[], units: DirectoryInputs = NO_DIRECTORY_INPUTS, skipped: SkippedEntry[] = []): Promise<DiscoveredInput[]> {
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
      throw new InputError(`${p}: ${describe(err)}`);
    }
    if (s.isDirectory()) {
      let entries: Dirent[];
      try {
        entries = readdirSync(p, { withFileTypes: true });
      } catch (err) {
        throw new InputError(`${p}: ${describe(err)}`);
      }
      out.push(...walk(p, entries, units, skipped, true));
    } else if (!s.isFile()) {
      throw new InputError(`${p}: ${kindOf(s)}, not a regular file: nothing read`);
    } else {
      const claimedBy = units.file(p);
      out.push(claimedBy !== undefined ? { path: p, explicit: true, kind: 'bundle', claimedBy } : { path: p, explicit: true, kind: 'rollout' });
    }
  }
  return out;
}

// Synchronous: a sessions tree has hundreds of day directories, and one thread-pool round trip
// per directory made the walk several times slower than the listing itself.
function walk(dir: string, entries: Dirent[], units: DirectoryInputs, skipped: SkippedEntry[], given = false): DiscoveredInput[] {
  const names = new Set(entries.filter((e) => !e.isDirectory()).map((e) => e.name));
  const claimedBy = units.directory(dir, names, given);
  if (claimedBy !== undefined) return [{ path: dir, explicit: given, kind: 'bundle', claimedBy }];
  const files: string[] = [];
  const dirs: string[] = [];
  for (const e of entries) {
    if (e.isDirectory()) {
      if (!e.name.startsWith('.')) dirs.push(join(dir, e.name));
    } else if (ROLLOUT.test(e.name)) {
      const path = join(dir, e.name);
      const why = e.isFile() ? undefined : notARegularFile(path);
      if (why) skipped.push({ path, reason: why });
      else files.push(path);
    }
  }
  // When both x.jsonl and x.jsonl.zst exist, the plain file is the live one.
  const plain = new Set(files.filter((f) => !f.endsWith('.zst')));
  const chosen: DiscoveredInput[] = files.filter((f) => !f.endsWith('.zst') || !plain.has(f.slice(0, -4))).sort().map((path) => ({ path, explicit: false, kind: 'rollout' }));
  for (const d of dirs.sort()) {
    let inner: Dirent[];
    try {
      inner = readdirSync(d, { withFileTypes: true });
    } catch (err) {
      skipped.push({ path: d, reason: `directory not read: ${describe(err)}` });
      continue;
    }
    chosen.push(...walk(d, inner, units, skipped));
  }
  return chosen;
}

/** Why an entry that is not plainly a file (a symlink, a FIFO …) cannot be read as one, if it cannot. */
function notARegularFile(path: string): string | undefined {
  let s: Stats;
  try {
    s = statSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? 'a broken symlink' : code === 'ELOOP' ? 'a symlink loop' : describe(err);
  }
  return s.isFile() ? undefined : `${kindOf(s)}, not a regular file`;
}

function kindOf(s: Stats): string {
  if (s.isDirectory()) return 'a directory';
  if (s.isFIFO()) return 'a FIFO';
  if (s.isSocket()) return 'a socket';
  if (s.isCharacterDevice() || s.isBlockDevice()) return 'a device';
  return 'not a file';
}

function describe(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'ENOENT') return 'no such file or directory';
  return (err as Error).message;
}

