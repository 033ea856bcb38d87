import { statSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join, sep } from 'node:path';
import type { DeliveryLedger, LedgerEntry } from '../export/ledger.js';
import type { Delivery, SpanSink } from '../export/sink.js';
import { dialectNamed, findInputs } from '../formats/registry.js';
import { directoriesOf, TreeWatch } from '../sources/dir-watch.js';
import { InputError, type DiscoveredInput, type SkippedEntry } from '../sources/discover.js';
import { FileTail } from '../sources/tail.js';
import type { AgentTree } from './agent-tree.js';
import { inSegment, ledgerKey, planAfter, type InputPlan } from './export-input.js';
import { contentChangeNote } from './delivery-plan.js';
import { BundleFollower } from './live-bundles.js';
import { RolloutSession, stableSourcePath, type SessionOptions } from './session.js';

export interface WatchOptions {
  dir: string;
  idleTimeoutMs: number;
  /** how often files still being written are read */
  pollMs?: number;
  /** how often the tree is listed when change notification is unavailable */
  scanMs?: number;
  /** with change notification: how often the tree and every file are looked at anyway, in case an event was missed */
  rescanMs?: number;
  /** false: no change notification, polling only */
  notify?: boolean;
  /** how many files of the history are read at once (the first scan of a large history is paced) */
  catchUp?: number;
  /** what reached the collector, shared with export */
  ledger: DeliveryLedger;
  sink: SpanSink;
  tree: AgentTree;
  session: Omit<SessionOptions, 'emit' | 'place' | 'mtimeMs' | 'placeAtFinish'>;
  /** `problem`: worth saying even when asked to be quiet */
  log: (message: string, problem?: boolean) => void;
  /** which found inputs to follow (a selection); all when absent */
  accept?: (input: DiscoveredInput) => Promise<boolean>;
}

interface Followed {
  path: string;
  /** its name in the ledger */
  key: string;
  tail: FileTail;
  session?: RolloutSession;
  /** what of the file was delivered before: not sent again */
  plan: InputPlan;
  closed: boolean;
  /** the ledger's entry, as last written */
  saved?: LedgerEntry;
  delivery: Delivery;
  reported: number;
  /** a read failed: the file is passed over until its status (this signature) changes */
  blocked?: string;
  /** its size when a listing found it: how much of it the catch-up has to read, before a read says */
  sizeSeen?: number;
}

const MAX_BACKOFF_MS = 30_000;
const PROGRESS_EVERY_MS = 5_000;
/** an open file not written for this long is polled every QUIET_POLL_MS (with change notification) */
const QUIET_MS = 5_000;
const QUIET_POLL_MS = 2_000;
/**
 * The history is read a few files at a time, and at most this much of it at once: each file being
 * read holds its open turn, so several large files are read one after the other, not side by side.
 */
const CATCH_UP_BYTES = 64 * 1024 * 1024;
/** a history at least this long is read with progress messages */
const PROGRESS_FROM = 50;

/**
 * Follows every rollout under a directory as it grows and sends spans as turns close. A file's
 * ledger entry advances only after a flush delivered everything it covers; after a crash or an
 * outage the files are read again and only what was not delivered is sent. A session that grows
 * after its thread span was delivered goes on in a trace of its own (a segment): nothing delivered
 * is ever sent again in another version.
 *
 * What it costs: each directory of the tree has a change watch (inotify); only files still being
 * written are read every `pollMs`. A closed session costs nothing until an event says its file
 * changed. Without change notification the tree is listed, and closed files looked at, every `scanMs`.
 */
export class Watcher {
  private readonly files = new Map<string, Followed>();
  private readonly bundles = new Map<string, BundleFollower>();
  /** sessions not closed: read every tick */
  private readonly open = new Set<Followed>();
  /** files to read from their start, waiting for their turn */
  private readonly backlog = new Set<Followed>();
  /** files of the backlog being read */
  private readonly catching = new Set<Followed>();
  /** files that had a session since the last delivery: their ledger entries to advance */
  private readonly sessions = new Set<Followed>();
  /** files an event named since the last tick */
  private dirty = new Set<string>();
  private needScan = true;
  private failedSeen = 0;
  private deliveredSeen = 0;
  /** the last flush failed: what it held will be read again from the files */
  outage = false;
  /** entries skipped in this run (unreadable, not a regular file, failed): named as they were met */
  skips = 0;
  private backoffMs = 0;
  private nextScan = 0;
  private dirMissing: string | undefined;
  private skipsSaid = new Set<string>();
  private notify: TreeWatch | undefined;
  private wakeUp: (() => void) | undefined;
  private progress: { total: number; started: number; next: number } | undefined;

  constructor(private readonly o: WatchOptions) {}

  async run(signal: AbortSignal): Promise<void> {
    const pollMs = this.o.pollMs ?? 250;
    if (this.o.notify !== false) this.notify = new TreeWatch((dir, name, event) => this.changed(dir, name, event));
    try {
      while (!signal.aborted) {
        const full = Date.now() >= this.nextScan;
        if (full || this.needScan) await this.scan();
        this.admit();
        // Without notification, or now and then with it, closed files are looked at too.
        const everyFile = full && !this.dirMissing;
        const dirty = this.dirty;
        this.dirty = new Set();
        for (const f of everyFile ? [...this.files.values()].filter((x) => !this.backlog.has(x)) : this.due(dirty)) await this.follow(f);
        for (const b of this.bundles.values()) await b.check(this.o.sink, this.o.session, this.o.log);
        await this.deliver();
        this.tellProgress();
        await this.pause(this.waitMs(pollMs), signal);
      }
      await this.deliver();
    } finally {
      this.notify?.close();
    }
  }

  /** The files this tick reads: open sessions, and those an event named. */
  private due(dirty: Set<string>): Followed[] {
    const out = [...this.open];
    for (const p of dirty) {
      const f = this.files.get(p);
      if (f && !this.open.has(f) && !this.backlog.has(f)) out.push(f);
    }
    return out;
  }

  private waitMs(pollMs: number): number {
    if (this.outage) return this.backoffMs;
    if (this.catching.size > 0 || this.backlog.size > 0) return 0;
    if (this.needScan) return pollMs;
    if (this.open.size > 0) {
      // Events say when a file grows; the poll is their fallback, slower once open files went quiet.
      const now = Date.now();
      let quiet = this.notifying();
      for (const f of this.open) if (now - f.tail.mtimeMs < QUIET_MS) quiet = false;
      return quiet ? Math.max(pollMs, QUIET_POLL_MS) : pollMs;
    }
    let until = this.nextScan;
    for (const b of this.bundles.values()) if (b.dueAt !== undefined && b.dueAt < until) until = b.dueAt;
    return Math.max(pollMs, until - Date.now());
  }

  /** Sleeps `ms`, or less if an event or a signal comes; during an outage only the backoff or a signal ends it. */
  private pause(ms: number, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.resolve();
    if (ms <= 0) return new Promise((resolve) => setImmediate(resolve));
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.wakeUp = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
      if (!this.outage) this.wakeUp = done;
    });
  }

  /** A change event: a followed file is read at the next tick; anything else has the tree listed again. */
  private changed(dir: string, name: string | undefined, event: 'rename' | 'change'): void {
    const path = name === undefined ? undefined : join(dir, name);
    const f = path === undefined ? undefined : this.files.get(path);
    if (f) {
      this.dirty.add(f.path);
      if (event === 'rename') this.needScan = true;
    } else if (this.inBundle(dir)) {
      // bundles are looked at every tick
    } else if (event === 'rename' || name === undefined || ROLLOUT.test(name)) this.needScan = true;
    else return;
    this.wakeUp?.();
  }

  private inBundle(dir: string): boolean {
    for (const b of this.bundles.keys()) if (dir === b || dir.startsWith(b + sep)) return true;
    return false;
  }

  private notifying(): boolean {
    return this.notify !== undefined && this.notify.failure === undefined;
  }

  private async scan(): Promise<void> {
    this.needScan = false;
    this.nextScan = Date.now() + (this.notifying() ? (this.o.rescanMs ?? 10 * 60_000) : (this.o.scanMs ?? 2000));
    let found: string[];
    const skipped: SkippedEntry[] = [];
    try {
      let inputs = await findInputs([this.o.dir], skipped);
      if (this.o.accept) {
        const accepted: DiscoveredInput[] = [];
        // a file the selection cannot judge (unreadable …) is followed, and says what is wrong with it
        for (const i of inputs) if (await this.o.accept(i).catch(() => true)) accepted.push(i);
        inputs = accepted;
      }
      found = inputs.filter((d) => d.kind === 'rollout' && !d.path.endsWith('.zst')).map((d) => d.path);
      for (const b of inputs.filter((d) => d.kind === 'bundle' && !this.bundles.has(d.path))) {
        const dialect = dialectNamed(b.claimedBy ?? '');
        if (dialect?.shape !== 'bundle') continue;
        const key = ledgerKey(b);
        this.bundles.set(b.path, new BundleFollower(dialect, b.path, key, this.o.ledger.get(key), this.o.idleTimeoutMs));
        this.o.log(`following bundle ${b.path} (${dialect.title})`);
      }
      if (this.dirMissing) this.o.log(`${this.o.dir} can be read again`, true);
      this.dirMissing = undefined;
    } catch (err) {
      const why = err instanceof InputError ? err.message : `${this.o.dir}: ${(err as Error).message}`;
      if (this.dirMissing !== why) this.o.log(`${why}: nothing to follow; looking again every ${Math.round((this.o.scanMs ?? 2000) / 1000)}s`, true);
      this.dirMissing = why;
      this.nextScan = Date.now() + (this.o.scanMs ?? 2000);
      return;
    }
    this.saySkipped(skipped);
    if (this.notify) {
      const before = this.notify.failure;
      this.notify.sync(directoriesOf(this.o.dir));
      if (this.notify.failure !== undefined && before === undefined) {
        this.o.log(`change notification unavailable (${this.notify.failure}): looking for changes every ${Math.round((this.o.scanMs ?? 2000) / 1000)}s instead`, true);
        this.notify.close();
        this.nextScan = Date.now() + (this.o.scanMs ?? 2000);
      }
    }
    const present = new Set(found);
    const added = found.filter((p) => !this.files.has(p));
    const seen = new Map<string, { ino: number; size: number }>();
    const inodes = new Map<number, string>();
    for (const p of added) {
      const s = await stat(p).catch(() => undefined);
      if (s) {
        seen.set(p, s);
        inodes.set(s.ino, p);
      }
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
    for (const p of added) this.add(p, seen.get(p));
    if (added.length) this.o.log(`following ${this.files.size} rollout file${this.files.size === 1 ? '' : 's'} under ${this.o.dir}${this.notify && this.notifying() ? ` (${this.notify.size} director${this.notify.size === 1 ? 'y' : 'ies'} watched)` : ''}`);
    if (!this.progress && this.backlog.size >= PROGRESS_FROM) {
      this.progress = { total: this.backlog.size, started: Date.now(), next: Date.now() + PROGRESS_EVERY_MS };
      this.o.log(`reading ${this.backlog.size} files not yet delivered, ${this.o.catchUp ?? 16} at a time`);
    }
  }

  /** Each entry the walk passed over is said once (again only if it went away and came back). */
  private saySkipped(skipped: SkippedEntry[]): void {
    const now = new Set<string>();
    for (const e of skipped) {
      const key = `${e.path}\0${e.reason}`;
      now.add(key);
      if (this.skipsSaid.has(key)) continue;
      this.skips++;
      this.o.log(`${e.path}: ${e.reason}: skipped (${hintFor(e.reason)}); the rest is followed`, true);
    }
    this.skipsSaid = now;
  }

  private tellProgress(): void {
    const p = this.progress;
    if (!p) return;
    const left = this.backlog.size + this.catching.size;
    if (left === 0) {
      this.o.log(`read the ${p.total} files not yet delivered in ${((Date.now() - p.started) / 1000).toFixed(1)}s; following changes`);
      this.progress = undefined;
    } else if (Date.now() >= p.next) {
      p.total = Math.max(p.total, left);
      this.o.log(`read ${p.total - left} of ${p.total} files not yet delivered`);
      p.next = Date.now() + PROGRESS_EVERY_MS;
    }
  }

  /** Moves files from the backlog to the open set, a few at a time: a long history is never open all at once. */
  private admit(): void {
    const limit = this.o.catchUp ?? 16;
    let unread = 0;
    const unreadOf = (f: Followed) => Math.max(0, Math.max(f.tail.size, f.sizeSeen ?? 0) - f.tail.pos.offset);
    for (const f of this.catching) unread += unreadOf(f);
    for (const f of this.backlog) {
      if (this.catching.size >= limit || (this.catching.size > 0 && unread >= CATCH_UP_BYTES)) break;
      unread += unreadOf(f);
      this.backlog.delete(f);
      this.catching.add(f);
      this.open.add(f);
    }
  }

  /** `seen`: the file as the listing saw it, so a file moved before its first read is still known by its inode */
  private add(path: string, seen: { ino: number; size: number } | undefined): void {
    this.o.tree.remember(path);
    const key = stableSourcePath(path);
    const saved = this.o.ledger.get(key);
    const f: Followed = { path, key, tail: new FileTail(path), plan: planAfter(undefined), closed: false, saved, delivery: { delivered: 0, failed: 0 }, reported: 0 };
    f.tail.ino = seen?.ino;
    f.sizeSeen = seen?.size;
    const note = contentChangeNote(path, saved, this.o.session.content.capture);
    if (note) this.o.log(note, true);
    this.files.set(path, f);
    this.resume(f);
  }

  /** Continues from the ledger: after a closed session's end, else by reading again what it covers without sending it. */
  private resume(f: Followed): void {
    f.session = undefined;
    if (f.saved?.closed) {
      this.rest(f);
      f.tail.pos = { offset: f.saved.size, line: f.saved.through + 1 };
    } else this.replay(f);
  }

  /** Reads the file again from its first line, so turn numbering and open turns are rebuilt. */
  private replay(f: Followed): void {
    f.session = undefined;
    f.closed = false;
    f.tail.pos = { offset: 0, line: 1 };
    f.plan = planAfter(f.saved);
    this.open.delete(f);
    this.catching.delete(f);
    this.backlog.add(f);
  }

  /** Closed: costs nothing until its file changes. */
  private rest(f: Followed): void {
    f.closed = true;
    this.open.delete(f);
    this.catching.delete(f);
    this.backlog.delete(f);
  }

  private rename(f: Followed, to: string): void {
    this.files.delete(f.path);
    const key = stableSourcePath(to);
    const saved = this.o.ledger.get(f.key);
    if (key !== f.key && saved) {
      this.o.ledger.delete(f.key);
      this.o.ledger.set(key, saved);
    }
    f.path = to;
    f.key = key;
    f.tail.path = to;
    this.files.set(to, f);
    this.o.tree.remember(to);
  }

  /** The file left the directory (archived elsewhere or deleted): its session ends as it is; the ledger keeps what it delivered. */
  private async drop(f: Followed): Promise<void> {
    if (f.session && !f.closed) await this.close(f, 'left the watched directory');
    this.files.delete(f.path);
    this.rest(f);
    this.sessions.delete(f);
  }

  /** Reads what the file gained. A file that cannot be read is its own failure domain: said once, passed over until it changes. */
  private async follow(f: Followed): Promise<void> {
    if (f.blocked !== undefined) {
      if (signatureOf(f.path) === f.blocked) return;
      f.blocked = undefined;
      this.resume(f);
      return;
    }
    try {
      await this.read(f);
    } catch (err) {
      const at = f.tail.pos.line;
      f.session = undefined;
      this.rest(f);
      f.closed = false;
      f.blocked = signatureOf(f.path);
      const e = err as NodeJS.ErrnoException;
      const what = e.code === 'EACCES' || e.code === 'EPERM' ? 'cannot be read (permission denied)' : e.code ? `cannot be read (${e.code})` : `failed at line ${at} (${e.message})`;
      const todo = e.code === 'EACCES' || e.code === 'EPERM' ? 'make it readable' : 'fix or remove it';
      this.skips++;
      this.o.log(`${f.path}: ${what}: skipped until it changes (${todo}); the rest is followed`, true);
    }
  }

  private async read(f: Followed): Promise<void> {
    const r = await f.tail.read();
    if (r.kind === 'gone') {
      this.needScan = true;
      return;
    }
    if (f.saved?.ino !== undefined && f.saved.ino !== f.tail.ino) {
      // Another file now has this name: the ledger says nothing about it.
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
      const resumed = f.saved?.closed;
      this.replay(f);
      if (resumed) this.o.log(`${f.path} grew after its session was closed: what follows goes into a trace of its own (segment ${f.plan.segment})`);
      return;
    }
    if (r.lines.length > 0) {
      this.open.add(f);
      const session = f.session ?? this.start(f);
      for (const l of r.lines) {
        const sent = session.push(l);
        if (sent) await sent;
      }
      return;
    }
    this.catching.delete(f);
    if (f.closed || Date.now() - f.tail.mtimeMs < this.o.idleTimeoutMs) return;
    if (f.session) {
      const partial = f.tail.size > f.tail.pos.offset ? `, an unfinished last line of ${f.tail.size - f.tail.pos.offset} bytes left unread` : '';
      await this.close(f, `idle for ${Math.round((Date.now() - f.tail.mtimeMs) / 1000)}s${partial}`);
    } else this.rest(f); // nothing in it to follow (empty): looked at again when it changes
  }

  private start(f: Followed): RolloutSession {
    const tree = this.o.tree;
    const plan = f.plan;
    f.session = new RolloutSession(f.path, {
      ...this.o.session,
      mtimeMs: f.tail.mtimeMs,
      placeAtFinish: true,
      closedThrough: plan.closedThrough,
      place: async (meta) => {
        if (meta.parentThreadId) tree.forget(meta.parentThreadId);
        return inSegment(await tree.place(meta), plan.segment);
      },
      emit: async (spans, closedAt) => {
        if (closedAt <= plan.skipThrough) return;
        await this.o.sink.add(spans, f.delivery);
      },
    });
    this.sessions.add(f);
    return f.session;
  }

  private async close(f: Followed, why: string): Promise<void> {
    const session = f.session;
    if (!session) return;
    // An export may have closed this segment meanwhile: its thread span must not be sent twice.
    const now = await this.o.ledger.refresh(f.key);
    if (now?.closed && now.segment >= f.plan.segment && now.through >= f.tail.pos.line - 1) {
      this.rest(f);
      f.saved = now;
      f.session = undefined;
      this.o.log(`${f.path}: ${why}; its session was delivered meanwhile (trace ${now.traceId})`);
      return;
    }
    const report = await session.finish();
    this.rest(f);
    if (report.error) this.o.log(`${f.path}: ${report.error}`, true);
    for (const w of report.samples) this.o.log(`${f.path}:${w.line}: ${w.type}: ${w.message}`, true);
    const redacted = Object.values(report.redactions ?? {}).reduce((a, n) => a + n, 0);
    if (!report.error) this.o.log(`${f.path}: ${why}; session closed (trace ${report.traceId}, ${report.turns} turn${report.turns === 1 ? '' : 's'}${redacted ? `, ${redacted} value${redacted === 1 ? '' : 's'} redacted` : ''})`);
  }

  /** Flushes the sink; advances the ledger if everything arrived, else re-reads from it. */
  private async deliver(): Promise<void> {
    await this.o.sink.flush();
    const stats = this.o.sink.stats;
    // Only spans taken again end an outage: a flush with nothing to send says nothing of the collector.
    const took = stats.delivered > this.deliveredSeen;
    this.deliveredSeen = stats.delivered;
    if (stats.failed > this.failedSeen) {
      this.failedSeen = stats.failed;
      if (!this.outage) this.o.log(`collector at ${this.o.sink.target} is not accepting spans (${stats.lastError}); holding, and re-reading from the files once it is back`, true);
      this.outage = true;
      this.backoffMs = Math.min(MAX_BACKOFF_MS, Math.max(1000, this.backoffMs * 2));
      for (const f of this.files.values()) if (!f.closed || f.session) this.resume(f);
      for (const b of this.bundles.values()) b.settle(false);
      return;
    }
    if (this.outage && !took) return;
    if (this.outage) this.o.log(`collector at ${this.o.sink.target} is accepting spans again`, true);
    this.outage = false;
    this.backoffMs = 0;
    let changed = false;
    for (const f of this.sessions) {
      if (f.delivery.delivered > f.reported) {
        const traceId = f.session?.report.traceId;
        this.o.log(`${f.path}: delivered ${f.delivery.delivered - f.reported} span${f.delivery.delivered - f.reported === 1 ? '' : 's'}${traceId ? ` (trace ${traceId})` : ''}`);
        f.reported = f.delivery.delivered;
      }
      if (!f.session) this.sessions.delete(f);
      const traceId = f.session?.report.traceId;
      if (f.tail.ino === undefined || !f.session || !traceId) continue;
      const through = f.tail.pos.line - 1;
      // Still re-reading what the ledger covers: its entry stays.
      if (through < f.plan.skipThrough) continue;
      const next: LedgerEntry = { traceId, segment: f.plan.segment, through, size: f.tail.pos.offset, closed: f.closed, content: this.o.session.content.capture, ino: f.tail.ino };
      const prev = f.saved;
      if (!prev || prev.through !== next.through || prev.closed !== next.closed || prev.ino !== next.ino || prev.segment !== next.segment) {
        this.o.ledger.set(f.key, next);
        f.saved = next;
        changed = true;
      }
      if (f.closed) {
        f.session = undefined;
        this.sessions.delete(f);
      }
    }
    for (const b of this.bundles.values()) {
      const entry = b.settle(true);
      if (b.delivery.delivered > b.reported) {
        this.o.log(`${b.dir}: delivered ${b.delivery.delivered - b.reported} spans (trace ${b.traceId})`);
        b.reported = b.delivery.delivered;
      }
      if (entry) {
        this.o.ledger.set(b.key, entry);
        changed = true;
      }
    }
    if (changed) {
      try {
        await this.o.ledger.save();
        this.saveFailed = false;
      } catch (err) {
        if (!this.saveFailed) this.o.log(`cannot save the delivery ledger ${this.o.ledger.file} (${(err as Error).message}); following on, but after a restart what it does not hold is sent again`, true);
        this.saveFailed = true;
      }
    }
  }
  private saveFailed = false;
}

const ROLLOUT = /\.jsonl(?:\.zst)?$/;

/** What changes when a file is made readable, replaced or written: its status, or why it has none. */
function signatureOf(path: string): string {
  try {
    const s = statSync(path);
    return `${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}`;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code ?? 'error';
  }
}

/** What to do about an entry the walk passed over. */
function hintFor(reason: string): string {
  if (/permission denied/.test(reason)) return 'make it readable';
  if (/symlink/.test(reason)) return 'fix or remove the link';
  return 'rename or remove it if it is not a rollout';
}
