import { readdirSync, watch, type Dirent, type FSWatcher } from 'node:fs';
import { join } from 'node:path';

export type TreeChange = (dir: string, name: string | undefined, event: 'rename' | 'change') => void;

/**
 * Change notification for a directory tree: one non-recursive `fs.watch` (inotify) per directory.
 * Node 20's recursive `fs.watch` on Linux adds a watch per file as well, so its cost would grow
 * with the history; per directory it grows only with the number of directories.
 */
export class TreeWatch {
  private readonly watchers = new Map<string, FSWatcher>();
  /** why a directory could not be watched (e.g. the inotify limit): the caller falls back to polling */
  failure: string | undefined;

  constructor(private readonly onChange: TreeChange) {}

  get size(): number {
    return this.watchers.size;
  }

  /** Watches exactly `dirs`. */
  sync(dirs: Iterable<string>): void {
    const want = new Set(dirs);
    for (const [d, w] of this.watchers) {
      if (!want.has(d)) {
        w.close();
        this.watchers.delete(d);
      }
    }
    for (const d of want) {
      if (this.watchers.has(d)) continue;
      try {
        const w = watch(d, { persistent: false }, (event, name) => this.onChange(d, name === null ? undefined : String(name), event));
        // a watched directory removed, or the watch lost: look at the tree again
        w.on('error', () => {
          w.close();
          this.watchers.delete(d);
          this.onChange(d, undefined, 'rename');
        });
        this.watchers.set(d, w);
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        this.failure ??= e.code === 'ENOSPC' ? `the inotify watch limit is reached (fs.inotify.max_user_watches) at ${d}` : `${d}: ${e.message}`;
      }
    }
  }

  close(): void {
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
  }
}

/** The directories of a tree, itself included, walked as discovery walks it: no dot-directories, no symlinks, unreadable ones left out. */
export function directoriesOf(root: string): string[] {
  const out: string[] = [];
  const stack = [root];
  while (stack.length > 0) {
    const dir = stack.pop()!;
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      continue;
    }
    out.push(dir);
    for (const e of entries) if (e.isDirectory() && !e.name.startsWith('.')) stack.push(join(dir, e.name));
  }
  return out;
}
