// A worker thread that exports whole inputs with its own OTLP sink, so a large tree uses more than
// one core. The main thread hands out inputs and sums up; nothing here is shared.
import { parentPort, workerData } from 'node:worker_threads';
import type { OtlpConfig } from '../export/config.js';
import { reportOtelDiagnostics } from '../export/diag.js';
import { OtlpSink } from '../export/otlp-sink.js';
import type { Delivery, SinkStats } from '../export/sink.js';
import type { ContentPolicy } from '../otel/content.js';
import type { DiscoveredInput } from '../sources/discover.js';
import { AgentTree } from './agent-tree.js';
import { exportInput, type InputPlan } from './export-input.js';
import type { InputOutcome } from './report.js';

export interface WorkerSetup {
  config: OtlpConfig;
  serviceName?: string;
  format?: string;
  content: ContentPolicy;
  /** every rollout of the export, where sub-agents look for their parents first */
  knownFiles: string[];
  sessionsDirs: string[];
  inputs: DiscoveredInput[];
  /** per input, what of it the delivery ledger says was delivered before */
  plans: (InputPlan | undefined)[];
  /** the inputs any thread may take, in order */
  order: number[];
  /** shared by every thread: the position in `order` of the next input to take */
  next: Int32Array;
}

export type FromWorker =
  /** the outcome's delivery counts are final only once the worker is `closed` */
  | { type: 'done'; index: number; result: InputOutcome }
  | { type: 'status'; message: string }
  /** no input left to take: the main thread may close this worker */
  | { type: 'drained' }
  /** sent after the sink is closed: only now are the delivery counts final */
  | { type: 'closed'; deliveries: [number, Delivery][]; stats: SinkStats };

const port = parentPort;
if (port) {
  const setup = workerData as WorkerSetup;
  const post = (m: FromWorker) => port.postMessage(m);
  reportOtelDiagnostics((text) => post({ type: 'status', message: `otel: ${text}` }));

  const sink = new OtlpSink(setup.config);
  sink.onStatus = (message) => post({ type: 'status', message });
  const tree = new AgentTree(setup.knownFiles, setup.sessionsDirs, process.env);
  const deliveries = new Map<number, Delivery>();

  const run = async (): Promise<void> => {
    for (let k = Atomics.add(setup.next, 0, 1); k < setup.order.length; k = Atomics.add(setup.next, 0, 1)) {
      const index = setup.order[k]!;
      const delivery: Delivery = { delivered: 0, failed: 0 };
      deliveries.set(index, delivery);
      const result = await exportInput(setup.inputs[index]!, {
        serviceName: setup.serviceName,
        format: setup.format,
        content: setup.content,
        tree,
        plan: setup.plans[index],
        delivery,
        emit: (batch) => sink.add(batch, delivery),
      });
      post({ type: 'done', index, result });
    }
    post({ type: 'drained' });
  };
  const close = async (): Promise<void> => {
    await sink.close();
    post({ type: 'closed', deliveries: [...deliveries], stats: sink.stats });
    port.close();
  };
  // A failure ends the worker, whatever the process's rule for unhandled rejections: thrown
  // outside any promise, it stops the thread, and the main thread exports its inputs again.
  const stop = (err: unknown) => setImmediate(() => {
    throw err;
  });
  const running = run();
  running.catch(stop);
  port.on('message', () => {
    running.then(close).catch(stop);
  });
}
