import { Worker } from 'node:worker_threads';
import type { Delivery, SinkStats } from '../export/sink.js';
import type { DiscoveredInput } from '../sources/discover.js';
import type { InputResult } from './export-input.js';
import type { FromWorker, ToWorker, WorkerSetup } from './export-worker.js';

export interface Exported extends InputResult {
  spans: number;
  delivery: Delivery;
}

/** Inputs given to one worker at a time beyond the one it works on, so it never waits for the next. */
const AHEAD = 1;

// Under tsx (tests, development) this module is TypeScript, and so is its worker.
const WORKER_URL = new URL(import.meta.url.endsWith('.ts') ? './export-worker.ts' : './export-worker.js', import.meta.url);

/**
 * Exports inputs on the main thread and on `workers` worker threads at once, each taking the next
 * input when it is free. A worker delivers through its own sink; its counts are final only once it
 * has closed. Inputs of a worker that fails are exported again on the main thread (span ids are
 * deterministic, so what it had already sent is sent again under the same ids, never lost).
 */
export async function exportInParallel(
  inputs: DiscoveredInput[],
  workers: number,
  setup: WorkerSetup,
  o: {
    env: NodeJS.ProcessEnv;
    here: (input: DiscoveredInput) => Promise<Exported>;
    done: (index: number, result: Exported) => void;
    status: (message: string) => void;
  },
): Promise<SinkStats[]> {
  // standard input can only be read by the main thread
  const mainOnly = inputs.flatMap((input, i) => (input.path === '-' ? [i] : []));
  const queue = inputs.flatMap((input, i) => (input.path === '-' ? [] : [i]));
  const results: Exported[] = [];
  const finish = (i: number, r: Exported) => {
    results[i] = r;
    o.done(i, r);
  };
  const onMainThread = async () => {
    for (let i = mainOnly.shift() ?? queue.shift(); i !== undefined; i = mainOnly.shift() ?? queue.shift()) finish(i, await o.here(inputs[i]!));
  };
  const redo = (w: ExportWorker, err: unknown) => {
    o.status(`an export worker stopped (${(err as Error)?.message ?? err}); its ${w.assigned.size} input(s) are exported again on the main thread`);
    queue.unshift(...w.assigned);
    w.assigned.clear();
  };

  const pool = Array.from({ length: workers }, () => new ExportWorker(setup, o.env, o.status));
  const lane = async (w: ExportWorker) => {
    const pump = async () => {
      for (let i = queue.shift(); i !== undefined; i = queue.shift()) {
        const r = await w.run(i, inputs[i]!);
        finish(i, { ...r, delivery: { delivered: 0, failed: 0 } });
      }
    };
    await Promise.allSettled(Array.from({ length: 1 + AHEAD }, pump));
    if (w.failed) redo(w, w.failed);
  };
  await Promise.all([onMainThread(), ...pool.map(lane)]);

  const stats: SinkStats[] = [];
  for (const w of pool) {
    if (w.failed) continue;
    try {
      const closed = await w.close();
      for (const [i, d] of closed.deliveries) if (results[i]) results[i].delivery = d;
      stats.push(closed.stats);
    } catch (err) {
      redo(w, err);
    }
  }
  await onMainThread();
  return stats;
}

class ExportWorker {
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve: (r: Omit<Exported, 'delivery'>) => void; reject: (e: unknown) => void }>();
  private closing: { resolve: (m: Extract<FromWorker, { type: 'closed' }>) => void; reject: (e: unknown) => void } | undefined;
  /** inputs given to this worker whose delivery it has not yet confirmed */
  readonly assigned = new Set<number>();
  failed: unknown;

  constructor(setup: WorkerSetup, env: NodeJS.ProcessEnv, status: (message: string) => void) {
    this.worker = new Worker(WORKER_URL, { workerData: setup, env });
    this.worker.on('message', (m: FromWorker) => {
      if (m.type === 'status') status(m.message);
      else if (m.type === 'done') {
        this.pending.get(m.index)?.resolve({ ...m.result, spans: m.spans });
        this.pending.delete(m.index);
      } else this.closing?.resolve(m);
    });
    this.worker.on('error', (err) => this.fail(err));
    this.worker.on('exit', (code) => this.fail(new Error(`exited with code ${code}`)));
  }

  run(index: number, input: DiscoveredInput): Promise<Omit<Exported, 'delivery'>> {
    this.assigned.add(index);
    if (this.failed) return Promise.reject(this.failed);
    this.post({ type: 'input', index, input });
    return new Promise((resolve, reject) => this.pending.set(index, { resolve, reject }));
  }

  close(): Promise<Extract<FromWorker, { type: 'closed' }>> {
    const closed = new Promise<Extract<FromWorker, { type: 'closed' }>>((resolve, reject) => (this.closing = { resolve, reject }));
    this.post({ type: 'close' });
    return closed.then((m) => {
      this.assigned.clear();
      return m;
    });
  }

  private post(m: ToWorker): void {
    this.worker.postMessage(m);
  }

  private fail(err: unknown): void {
    if (this.closing && this.assigned.size === 0) return; // a normal exit after closing
    this.failed ??= err;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    this.closing?.reject(err);
  }
}
