import { stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DeliveryLedger, LedgerEntry } from '../export/ledger.js';
import type { Delivery, SpanSink } from '../export/sink.js';
import { dialectNamed, findInputs } from '../formats/registry.js';
import type { DiscoveredInput } from '../sources/discover.js';
import { FileTail } from '../sources/tail.js';
import type { AgentTree } from './agent-tree.js';
import { inSegment, ledgerKey, planAfter, type InputPlan } from './export-input.js';
import { BundleFollower } from './live-bundles.js';
import { RolloutSession, stableSourcePath, type SessionOptions } from './session.js';

export interface WatchOptions {
  dir: string;
  idleTimeoutMs: number;
  pollMs?: number;
  scanMs?: number;
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
}

const MAX_BACKOFF_MS = 30_000;

/**
 * Follows every rollout under a directory as it grows and sends spans as turns close. A file's
 * ledger entry advances only after a flush delivered everything it covers; after a crash or an
 * outage the files are read again and only what was not delivered is sent. A session that grows
 * after its thread span was delivered goes on in a trace of its own (a segment): nothing delivered
 * is ever sent again in another version.
 */
export class Watcher {
  private readonly files = new Map<string, Followed>();
  private readonly bundles = new Map<string, BundleFollower>();
  private failedSeen = 0;
  private deliveredSeen = 0;
  /** the last flush failed: what it held will be read again from the files */
  outage = false;
  private backoffMs = 0;
  private nextScan = 0;
  private dirMissing = false;

  constructor(private readonly o: WatchOptions) {}

  async run(signal: AbortSignal): Promise<void> {
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
      let inputs = await findInputs([this.o.dir]);
      if (this.o.accept) {
        const accepted: DiscoveredInput[] = [];
        for (const i of inputs) if (await this.o.accept(i)) accepted.push(i);
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
    const key = stableSourcePath(path);
    const saved = this.o.ledger.get(key);
    const f: Followed = { path, key, tail: new FileTail(path), plan: planAfter(undefined), closed: false, saved, delivery: { delivered: 0, failed: 0 }, reported: 0 };
    if (saved && saved.content !== this.o.session.content.capture) {
      this.o.log(`${path}: delivered before ${saved.content ? 'with' : 'without'} captured content; the backend keeps that, and only what is new is sent, ${saved.content ? 'without' : 'with'} it`, true);
    }
    this.files.set(path, f);
    this.resume(f);
  }

  /** Continues from the ledger: after a closed session's end, else by reading again what it covers without sending it. */
  private resume(f: Followed): void {
    f.session = undefined;
    if (f.saved?.closed) {
      f.closed = true;
      f.tail.pos = { offset: f.saved.size, line: f.saved.through + 1 };
    } else this.replay(f);
  }

  /** Reads the file again from its first line, so turn numbering and open turns are rebuilt. */
  private replay(f: Followed): void {
    f.session = undefined;
    f.closed = false;
    f.tail.pos = { offset: 0, line: 1 };
    f.plan = planAfter(f.saved);
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
  }

  private async follow(f: Followed, scanning: boolean): Promise<void> {
    // Closed sessions only need a look now and then: they grow again only when a thread resumes.
    if (f.closed && !scanning) return;
    const r = await f.tail.read();
    if (r.kind === 'gone') return;
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
      this.replay(f);
      this.o.log(`${f.path} grew after its session was closed: what follows goes into a trace of its own (segment ${f.plan.segment})`);
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
    return f.session;
  }

  private async close(f: Followed, why: string): Promise<void> {
    const session = f.session;
    if (!session) return;
    // An export may have closed this segment meanwhile: its thread span must not be sent twice.
    const now = await this.o.ledger.refresh(f.key);
    if (now?.closed && now.segment >= f.plan.segment && now.through >= f.tail.pos.line - 1) {
      f.closed = true;
      f.saved = now;
      f.session = undefined;
      this.o.log(`${f.path}: ${why}; its session was delivered meanwhile (trace ${now.traceId})`);
      return;
    }
    const report = await session.finish();
    f.closed = true;
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
      for (const f of this.files.values()) this.resume(f);
      for (const b of this.bundles.values()) b.settle(false);
      return;
    }
    if (this.outage && !took) return;
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
      if (f.closed) f.session = undefined;
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
