import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** What one session has delivered to one backend. */
export interface LedgerEntry {
  /** the trace of the session's current segment */
  traceId: string;
  /** 0 for the first; a session that grows after it was closed goes on in segment 1, 2, … */
  segment: number;
  /** every turn closed by a line up to this one was delivered */
  through: number;
  /** bytes of the file read when `through` and `closed` were last true */
  size: number;
  /** the segment's last turn and thread span were delivered: nothing of it may be sent again */
  closed: boolean;
  /** whether the spans carried captured content */
  content: boolean;
  /** the file's inode, so a new file under the same name is not taken for the old one */
  ino?: number;
}

const VERSION = 1;
/** saves in progress in this process, by ledger file */
const saving = new Map<string, Promise<void>>();
let temps = 0;

/**
 * The one record of what reached a backend, shared by `export` and `watch` (and so by every
 * process using the same state directory and endpoint): one JSON file per endpoint, keyed by each
 * session's stable source path. Entries are only written after the spans they cover were accepted.
 * Saving re-reads the file and writes back only this process's changes, atomically (temp file and
 * rename), so two processes do not undo each other's entries and a SIGKILL leaves a whole file.
 */
export class DeliveryLedger {
  readonly file: string;
  private entries = new Map<string, LedgerEntry>();
  private readonly changed = new Set<string>();
  /** the file as last read or written, and its status then: read again only once another process wrote it */
  private cache: { status: string; entries: Map<string, LedgerEntry> } | undefined;

  constructor(stateDir: string, readonly target: string) {
    const key = createHash('sha256').update(target).digest('hex').slice(0, 16);
    this.file = join(stateDir, `delivered-${key}.json`);
  }

  async load(): Promise<this> {
    this.entries = await this.read();
    return this;
  }

  get(key: string): LedgerEntry | undefined {
    return this.entries.get(key);
  }

  set(key: string, entry: LedgerEntry): void {
    this.entries.set(key, entry);
    this.changed.add(key);
  }

  delete(key: string): void {
    if (this.entries.delete(key)) this.changed.add(key);
  }

  /** The entry as another process may have written it since: it replaces this one's unless this one changed it. */
  async refresh(key: string): Promise<LedgerEntry | undefined> {
    if (this.changed.has(key)) return this.entries.get(key);
    const e = (await this.read()).get(key);
    if (e) this.entries.set(key, e);
    return e;
  }

  /**
   * Writes this process's changes. Saves of one file are taken one at a time within the process
   * (several live exporters may share it), and a change is forgotten only once it is on disk.
   */
  async save(): Promise<void> {
    const before = saving.get(this.file) ?? Promise.resolve();
    const now = before.catch(() => {}).then(() => this.write());
    saving.set(this.file, now);
    try {
      await now;
    } finally {
      if (saving.get(this.file) === now) saving.delete(this.file);
    }
  }

  private async write(): Promise<void> {
    if (this.changed.size === 0) return;
    const writing = new Map([...this.changed].map((key) => [key, this.entries.get(key)]));
    const merged = await this.read();
    for (const [key, e] of writing) {
      if (e) merged.set(key, e);
      else merged.delete(key);
    }
    await mkdir(join(this.file, '..'), { recursive: true });
    const tmp = `${this.file}.${process.pid}.${++temps}.tmp`;
    await writeFile(tmp, JSON.stringify({ version: VERSION, target: this.target, sessions: Object.fromEntries(merged) }));
    await rename(tmp, this.file);
    for (const [key, e] of writing) if (this.entries.get(key) === e) this.changed.delete(key);
    const status = await statusOf(this.file);
    this.cache = status ? { status, entries: merged } : undefined;
  }

  // A watcher following a long history saves and checks the ledger many times a second: parsing a
  // file of thousands of entries each time made reading the history quadratic.
  private async read(): Promise<Map<string, LedgerEntry>> {
    const status = await statusOf(this.file);
    if (status && this.cache?.status === status) return new Map(this.cache.entries);
    try {
      const data = JSON.parse(await readFile(this.file, 'utf8')) as { version?: number; sessions?: Record<string, LedgerEntry> };
      if (data.version !== VERSION || !data.sessions) return new Map();
      const entries = new Map(Object.entries(data.sessions));
      this.cache = status ? { status, entries } : undefined;
      return new Map(entries);
    } catch {
      return new Map();
    }
  }
}

/** Changes whenever the file is replaced (every save renames a new file over it). */
async function statusOf(file: string): Promise<string | undefined> {
  const s = await stat(file).catch(() => undefined);
  return s ? `${s.ino}:${s.size}:${s.mtimeMs}` : undefined;
}
