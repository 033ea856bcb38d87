import { stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Delivery, SpanSink } from '../export/sink.js';
import { dialectNamed, findInputs } from '../formats/registry.js';
import { FileTail } from '../sources/tail.js';
import type { AgentTree } from './agent-tree.js';
import type { CheckpointStore, FileCheckpoint } from './checkpoints.js';
import { BundleFollower } from './live-bundles.js';
import { RolloutSession, type SessionOptions } from './session.js';

export interface WatchOptions {
  dir: string;
  idleTimeoutMs: number;
  pollMs?: number;
  scanMs?: number;
  store: CheckpointStore;
  sink: SpanSink;
  tree: AgentTree;
  session: Omit<SessionOptions, 'emit' | 'place' | 'mtimeMs' | 'placeAtFinish'>;
  /** `problem`: worth saying even when asked to be quiet */
  log: (message: string, problem?: boolean) => void;
}

interface Followed {
  path: string;
  tail: FileTail;
  session?: RolloutSession;
  /** spans of turns closed up to this line were delivered before: not sent again */
  skipThrough: number;
  closed: boolean;
  saved?: FileCheckpoint;
  delivery: Delivery;
  reported: number;
}

const MAX_BACKOFF_MS = 30_000;

/**
 * Follows every rollout under a directory as it grows and sends spans as turns close. A file's
 * checkpoint advances only after a flush delivered everything it covers; after a crash or an
 * outage the files are read again and only what was not delivered is sent.
 */
export class Watcher {
  private readonly files = new Map<string, Followed>();
  private readonly bundles = new Map<string, BundleFollower>();
  private checkpoints = new Map<string, FileCheckpoint>();
  private failedSeen = 0;
  /** the last flush failed: what it held will be read again from the files */
  outage = false;
  private backoffMs = 0;
  private nextScan = 0;
  private dirMissing = false;

  constructor(private readonly o: WatchOptions) {}

  async run(signal: AbortSignal): Promise<void> {
    this.checkpoints = await this.o.store.load();
    const pollMs = this.o.pollMs ?? 250;
    while (!signal.aborted) {
      const scanning = Date.now() >= this.nextScan;
      if (scanning) {
        await this.scan();
        this.nextScan = Date.now() + (this.o.scanMs ?? 2000);
      }
      for (const f of [...this.files.values()]) await this.follow(f, scanning);
      for (const b of this.bundles.values()) await b.check(this.o.sink, this.o.session, this.o.log);
      await this.deliver();
      // An abort (SIGINT/SIGTERM) ends the wait early; the loop condition then ends the run.
      await sleep(this.outage ? this.backoffMs : pollMs, undefined, { signal }).catch(() => undefined);
    }
    await this.deliver();
  }

  private async scan(): Promise<void> {
    let found: string[];
    try {
      const inputs = await findInputs([this.o.dir]);
      found = inputs.filter((d) => d.kind === 'rollout' && !d.path.endsWith('.zst')).map((d) => d.path);
      for (const b of inputs.filter((d) => d.kind === 'bundle' && !this.bundles.has(d.path))) {
        const dialect = dialectNamed(b.claimedBy ?? '');
        if (dialect?.shape !== 'bundle') continue;
        this.bundles.set(b.path, new BundleFollower(dialect, b.path, this.checkpoints.get(b.path)));
        this.o.log(`following bundle ${b.path} (${dialect.title})`);
      }
      if (this.dirMissing) this.o.log(`${this.o.dir} now exists`);
      this.dirMissing = false;
    } catch {
      if (!this.dirMissing) this.o.log(`waiting for ${this.o.dir} to exist`);
      this.dirMissing = true;
      return;
    }
    const present = new Set(found);
    const added = found.filter((p) => !this.files.has(p));
    const inodes = new Map<number, string>();
    for (const p of added) {
      const s = await stat(p).catch(() => undefined);
      if (s) inodes.set(s.ino, p);
    }
    for (const f of [...this.files.values()]) {
      if (present.has(f.path)) continue;
      const moved = f.tail.ino !== undefined ? inodes.get(f.tail.ino) : undefined;
      if (moved) {
        this.o.log(`${f.path} moved to ${moved}`);
        this.rename(f, moved);
        added.splice(added.indexOf(moved), 1);
      } else await this.drop(f);
    }
    for (const p of added) this.add(p);
    if (added.length) this.o.log(`following ${this.files.size} rollout file${this.files.size === 1 ? '' : 's'} under ${this.o.dir}`);
  }

  private add(path: string): void {
    this.o.tree.remember(path);
    const f: Followed = { path, tail: new FileTail(path), skipThrough: 0, closed: false, saved: this.checkpoints.get(path), delivery: { delivered: 0, failed: 0 }, reported: 0 };
    this.files.set(path, f);
    this.resume(f);
  }

  /** Continues from the checkpoint: after a closed session's end, else by reading again what it covers without sending it. */
  private resume(f: Followed): void {
    f.session = undefined;
    if (f.saved?.closed) {
      f.closed = true;
      f.tail.pos = { offset: f.saved.offset, line: f.saved.deliveredThrough + 1 };
    } else this.replay(f);
  }

  /** Reads the file again from its first line, so turn numbering and open turns are rebuilt. */
  private replay(f: Followed): void {
    f.session = undefined;
    f.closed = false;
    f.tail.pos = { offset: 0, line: 1 };
    f.skipThrough = f.saved?.deliveredThrough ?? 0;
  }

  private rename(f: Followed, to: string): void {
    this.files.delete(f.path);
    const saved = this.checkpoints.get(f.path);
    this.checkpoints.delete(f.path);
    if (saved) this.checkpoints.set(to, saved);
    f.path = to;
    f.tail.path = to;
    this.files.set(to, f);
    this.o.tree.remember(to);
  }

  /** The file left the directory (archived elsewhere or deleted): its session ends as it is. */
  private async drop(f: Followed): Promise<void> {
    if (f.session && !f.closed) await this.close(f, 'left the watched directory');
    this.files.delete(f.path);
    this.checkpoints.delete(f.path);
  }

  private async follow(f: Followed, scanning: boolean): Promise<void> {
    // Closed sessions only need a look now and then: they grow again only when a thread resumes.
    if (f.closed && !scanning) return;
    const r = await f.tail.read();
    if (r.kind === 'gone') return;
    if (f.saved && f.saved.ino !== f.tail.ino) {
      // Another file now has this name: the checkpoint says nothing about it.
      f.saved = undefined;
      this.replay(f);
      return;
    }
    if (r.kind === 'rewritten') {
      this.o.log(`${f.path} was rewritten: reading it again from the start`, true);
      f.saved = undefined;
      this.replay(f);
      return;
    }
    if (r.lines.length > 0 && f.closed) {
      this.o.log(`${f.path} grew after its session was closed: reading it again`);
      this.replay(f);
      return;
    }
    if (r.lines.length > 0) {
      const session = f.session ?? this.open(f);
      for (const l of r.lines) {
        const sent = session.push(l);
        if (sent) await sent;
      }
    } else if (f.session && !f.closed && Date.now() - f.tail.mtimeMs >= this.o.idleTimeoutMs) {
      const partial = f.tail.size > f.tail.pos.offset ? `, an unfinished last line of ${f.tail.size - f.tail.pos.offset} bytes left unread` : '';
      await this.close(f, `idle for ${Math.round((Date.now() - f.tail.mtimeMs) / 1000)}s${partial}`);
    }
  }

  private open(f: Followed): RolloutSession {
    const tree = this.o.tree;
    f.session = new RolloutSession(f.path, {
      ...this.o.session,
      mtimeMs: f.tail.mtimeMs,
      placeAtFinish: true,
      place: (meta) => {
        if (meta.parentThreadId) tree.forget(meta.parentThreadId);
        return tree.place(meta);
      },
      emit: async (spans, closedAt) => {
        if (closedAt <= f.skipThrough) return;
        await this.o.sink.add(spans, f.delivery);
      },
    });
    return f.session;
  }

  private async close(f: Followed, why: string): Promise<void> {
    const session = f.session;
    if (!session) return;
    const report = await session.finish();
    f.closed = true;
    if (report.error) this.o.log(`${f.path}: ${report.error}`, true);
    for (const w of report.samples) this.o.log(`${f.path}:${w.line}: ${w.type}: ${w.message}`, true);
    const redacted = Object.values(report.redactions ?? {}).reduce((a, n) => a + n, 0);
    if (!report.error) this.o.log(`${f.path}: ${why}; session closed (trace ${report.traceId}, ${report.turns} turn${report.turns === 1 ? '' : 's'}${redacted ? `, ${redacted} value${redacted === 1 ? '' : 's'} redacted` : ''})`);
  }

  /** Flushes the sink; advances checkpoints if everything arrived, else re-reads from them. */
  private async deliver(): Promise<void> {
    await this.o.sink.flush();
    const stats = this.o.sink.stats;
    if (stats.failed > this.failedSeen) {
      this.failedSeen = stats.failed;
      if (!this.outage) this.o.log(`collector at ${this.o.sink.target} is not accepting spans (${stats.lastError}); holding, and re-reading from the files once it is back`, true);
      this.outage = true;
      this.backoffMs = Math.min(MAX_BACKOFF_MS, Math.max(1000, this.backoffMs * 2));
      for (const f of this.files.values()) this.resume(f);
      for (const b of this.bundles.values()) b.settle(false);
      return;
    }
    if (this.outage) this.o.log(`collector at ${this.o.sink.target} is accepting spans again`, true);
    this.outage = false;
    this.backoffMs = 0;
    let changed = false;
    for (const f of this.files.values()) {
      if (f.delivery.delivered > f.reported) {
        const traceId = f.session?.report.traceId;
        this.o.log(`${f.path}: delivered ${f.delivery.delivered - f.reported} span${f.delivery.delivered - f.reported === 1 ? '' : 's'}${traceId ? ` (trace ${traceId})` : ''}`);
        f.reported = f.delivery.delivered;
      }
      if (f.tail.ino === undefined || !f.session) continue;
      const through = f.tail.pos.line - 1;
      // Still re-reading what an earlier checkpoint covers: that checkpoint stays.
      if (through < f.skipThrough) continue;
      const next: FileCheckpoint = { ino: f.tail.ino, deliveredThrough: through, offset: f.tail.pos.offset, closed: f.closed };
      const prev = this.checkpoints.get(f.path);
      if (!prev || prev.deliveredThrough !== next.deliveredThrough || prev.closed !== next.closed || prev.ino !== next.ino) {
        this.checkpoints.set(f.path, next);
        f.saved = next;
        changed = true;
      }
      if (f.closed) f.session = undefined;
    }
    for (const b of this.bundles.values()) {
      b.settle(true);
      if (b.delivery.delivered > b.reported) {
        this.o.log(`${b.dir}: delivered ${b.delivery.delivered - b.reported} spans (trace ${b.traceId})`);
        b.reported = b.delivery.delivered;
      }
      const prev = this.checkpoints.get(b.dir);
      if (b.ino !== undefined && b.exportedSize >= 0 && (prev?.offset !== b.exportedSize || prev.ino !== b.ino)) {
        this.checkpoints.set(b.dir, { ino: b.ino, deliveredThrough: 0, offset: b.exportedSize, closed: true });
        changed = true;
      }
    }
    if (changed) await this.o.store.save(this.checkpoints);
  }
}
