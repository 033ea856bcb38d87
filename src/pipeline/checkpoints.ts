import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** How far one file's spans are known to be delivered. */
export interface FileCheckpoint {
  ino: number;
  /** every turn closed by a line up to this one was delivered */
  deliveredThrough: number;
  /** byte offset just after that line */
  offset: number;
  /** the session went idle and its thread span was delivered at this size */
  closed: boolean;
}

const VERSION = 1;

/**
 * Progress of a watcher, one JSON file per watched directory. Written atomically (temp file and
 * rename) so a SIGKILL leaves either the old or the new checkpoint, never half of one.
 */
export class CheckpointStore {
  readonly file: string;

  constructor(stateDir: string, watched: string) {
    const key = createHash('sha256').update(resolve(watched)).digest('hex').slice(0, 16);
    this.file = join(stateDir, `watch-${key}.json`);
  }

  async load(): Promise<Map<string, FileCheckpoint>> {
    try {
      const data = JSON.parse(await readFile(this.file, 'utf8')) as { version?: number; files?: Record<string, FileCheckpoint> };
      if (data.version !== VERSION || !data.files) return new Map();
      return new Map(Object.entries(data.files));
    } catch {
      return new Map();
    }
  }

  async save(files: Map<string, FileCheckpoint>): Promise<void> {
    await mkdir(join(this.file, '..'), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify({ version: VERSION, files: Object.fromEntries(files) }));
    await rename(tmp, this.file);
  }
}

/** The user's state directory: $XDG_STATE_HOME, else the platform's usual place. */
export function defaultStateDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.XDG_STATE_HOME) return join(env.XDG_STATE_HOME, 'rollout-otel');
  if (process.platform === 'darwin') return join(homedir(), 'Library', 'Application Support', 'rollout-otel');
  if (process.platform === 'win32') return join(env.LOCALAPPDATA ?? join(homedir(), 'AppData', 'Local'), 'rollout-otel');
  return join(homedir(), '.local', 'state', 'rollout-otel');
}
