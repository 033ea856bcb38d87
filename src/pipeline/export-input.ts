import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { Delivery } from '../export/sink.js';
import type { FormatName } from '../formats/detect.js';
import type { ContentPolicy } from '../otel/content.js';
import type { DiscoveredInput } from '../sources/discover.js';
import type { AgentTree } from './agent-tree.js';
import type { SessionReport } from './report.js';
import { exportSession } from './session.js';

export type InputFormat = Exclude<FormatName, 'codex-trace'> | 'bundle';

export interface InputOptions {
  serviceName?: string;
  /** every input read as this format; recognised per file when absent */
  format?: InputFormat;
  content: ContentPolicy;
  tree: AgentTree;
  emit: (spans: ReadableSpan[]) => Promise<void>;
}

export interface InputResult {
  report: SessionReport;
  /** found in a directory walk but in no rollout format: not an error */
  skipped: boolean;
}

/** An input's result with what became of its spans (final once its sink has closed). */
export interface Exported extends InputResult {
  delivery: Delivery;
}

/** Exports one discovered input (a rollout file or a trace bundle) to `emit`. */
export async function exportInput(input: DiscoveredInput, o: InputOptions): Promise<InputResult> {
  const { serviceName, content, emit } = o;
  const format = o.format === 'bundle' ? undefined : o.format;
  // bundles and their schemas are loaded only when one is met: they are a good part of start-up
  const exportBundle = async (path: string) => (await import('./bundle.js')).exportBundle(path, { serviceName, content, emit });
  let report = input.kind === 'bundle' || o.format === 'bundle'
    ? await exportBundle(input.path)
    : await exportSession(input.path, { serviceName, format, content, place: (meta) => o.tree.place(meta), emit });
  // A bundle's event log found on its own (no manifest beside it) is still a bundle.
  if (report.format === 'codex-trace' && input.path !== '-') report = await exportBundle(input.path);
  const skipped = !input.explicit && report.spans === 0 && /^(not a rollout|empty file)/.test(report.error ?? '');
  return { report, skipped };
}
