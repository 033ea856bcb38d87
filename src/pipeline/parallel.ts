import { Worker } from 'node:worker_threads';
import type { SinkStats } from '../export/sink.js';
import type { DiscoveredInput } from '../sources/discover.js';
import type { InputOutcome } from './report.js';
import type { FromWorker, WorkerSetup } from './export-worker.js';

// A worker's young generation, half V8's default. Smaller (12 MB) promoted so much that the old
// generation grew with the input: a 2 GB export peaked at 170–230 MB. At 24 MB it peaks at
// 178–188 MB, and runs faster; at V8's default, 204–216 MB.
const YOUNG_GENERATION_MB = 24;
// A ceiling that makes V8 grow a worker's old generation by smaller steps, so garbage does not pile
// up over a long export: a 3.5 GB export peaked at 185–199 MB without it, 166–177 MB with it. It is
// far above what one session's open turns hold; a worker that reaches it anyway stops, and its
// inputs are exported again on the main thread, which has no ceiling.
const OLD_GENERATION_MB = 96;

// Under tsx (tests, development) this module is TypeScript, and so is its worker.
const WORKER_URL = new URL(import.meta.url.endsWith('.ts') ? './export-worker.ts' : './export-worker.js', import.meta.url);

/**
 * Exports inputs on the main thread and on `workers` worker threads at once. Every thread takes
 * the next input from one shared counter, so none waits on another to be handed work (the main
 * thread answers messages only between its own awaits). A worker delivers through its own sink;
 * its counts are final only once it has closed. The inputs of a worker that fails are exported
 * again on the main thread: ids are deterministic, so what it had sent is sent again under the
 * same ids, and nothing is lost.
 */
export async function exportInParallel(
  inputs: DiscoveredInput[],
  workers: number,
  setup: Omit<WorkerSetup, 'inputs' | 'order' | 'next'>,
  o: {
    env: NodeJS.ProcessEnv;
    here: (input: DiscoveredInput, index: number) => Promise<InputOutcome>;
    done: (index: number, result: InputOutcome) => void;
    status: (message: string) => void;
  },
): Promise<{ stats: SinkStats[]; threads: number }> {
  // standard input can only be read by the main thread
  const mainOnly = inputs.flatMap((input, i) => (input.path === '-' ? [i] : []));
  const order = inputs.flatMap((input, i) => (input.path === '-' ? [] : [i]));
  const next = new Int32Array(new SharedArrayBuffer(4));
  const results: (InputOutcome | undefined)[] = [];
  /** which worker exported an input */
  const owners = new Map<number, ExportWorker>();
  const take = () => {
    const k = Atomics.add(next, 0, 1);
    return k < order.length ? order[k] : undefined;
  };
  const onMainThread = async (indices: Iterable<number>) => {
    for (const i of indices) {
      results[i] = await o.here(inputs[i]!, i);
      o.done(i, results[i]);
    }
  };

  const pool = Array.from({ length: workers }, () => new ExportWorker({ ...setup, inputs, order, next }, o.env, o.status, (i, r, w) => {
    results[i] = r;
    owners.set(i, w);
    o.done(i, r);
  }));
  try {
    const shared = function* () {
      for (let i = take(); i !== undefined; i = take()) yield i;
    };
    await Promise.all([onMainThread([...mainOnly]).then(() => onMainThread(shared())), ...pool.map((w) => w.drained.catch(() => undefined))]);

    // each worker's last batches are sent, and its counts made final, all at once
    const closed = await Promise.allSettled(pool.map((w) => w.close()));
    const stats: SinkStats[] = [];
    const failed = new Set<ExportWorker>();
    closed.forEach((c, n) => {
      if (c.status === 'fulfilled') {
        for (const [i, d] of c.value.deliveries) results[i]!.delivery = d;
        stats.push(c.value.stats);
      } else {
        failed.add(pool[n]!);
        o.status(`an export worker stopped (${(c.reason as Error)?.message ?? c.reason}); its inputs are exported again on the main thread`);
      }
    });
    // a failed worker's inputs, and any it took but never finished
    await onMainThread(order.filter((i) => results[i] === undefined || failed.has(owners.get(i)!)));
    const working = new Set([...owners.values()].filter((w) => !failed.has(w)));
    return { stats, threads: 1 + working.size };
  } finally {
    await Promise.all(pool.map((w) => w.terminate()));
  }
}

class ExportWorker {
  private readonly worker: Worker;
  private readonly drain = deferred<void>();
  private readonly closed = deferred<Extract<FromWorker, { type: 'closed' }>>();
  private failed = false;

  constructor(
    setup: WorkerSetup,
    env: NodeJS.ProcessEnv,
    status: (message: string) => void,
    done: (index: number, result: InputOutcome, by: ExportWorker) => void,
  ) {
    this.worker = new Worker(WORKER_URL, { workerData: setup, env, resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB, maxOldGenerationSizeMb: OLD_GENERATION_MB } });
    this.worker.on('message', (m: FromWorker) => {
      if (m.type === 'status') status(m.message);
      else if (m.type === 'done') done(m.index, m.result, this);
      else if (m.type === 'drained') this.drain.resolve();
      else this.closed.resolve(m);
    });
    const fail = (err: unknown) => {
      this.failed = true;
      this.drain.reject(err);
      this.closed.reject(err);
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`exited with code ${code}`)));
  }

  /** settles when the worker has taken its last input (rejects if it fails first) */
  get drained(): Promise<void> {
    return this.drain.promise;
  }

  /** Closes the worker's sink; resolves with its final delivery counts. */
  close(): Promise<Extract<FromWorker, { type: 'closed' }>> {
    if (!this.failed) this.worker.postMessage('close');
    return this.closed.promise;
  }

  /** Ends the thread, whatever it is doing (after its counts have arrived, or on the way out of a failure). */
  async terminate(): Promise<void> {
    await this.worker.terminate();
  }
}

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => undefined); // failures are read where the promise is awaited
  return { promise, resolve, reject };
}
