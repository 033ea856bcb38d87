import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { Delivery } from '../export/sink.js';
import type { BundleDialect, Dialect } from '../formats/dialect.js';
import { dialectNamed } from '../formats/registry.js';
import type { ContentPolicy } from '../otel/content.js';
import type { DiscoveredInput } from '../sources/discover.js';
import type { AgentTree } from './agent-tree.js';
import type { SessionReport } from './report.js';
import { exportSession } from './session.js';

export interface InputOptions {
  serviceName?: string;
  /** every input read as this dialect (its name); recognised per file when absent */
  format?: string;
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

/** Exports one discovered input (a log file or a directory input) to `emit`. */
export async function exportInput(input: DiscoveredInput, o: InputOptions): Promise<InputResult> {
  const { serviceName, content, emit } = o;
  const chosen: Dialect | undefined = o.format !== undefined ? dialectNamed(o.format) : undefined;
  // bundles are loaded only when one is met: they are a good part of start-up
  const exportBundle = async (d: BundleDialect, path: string) => (await import('./bundle.js')).exportBundle(d, path, { serviceName, content, emit });
  const claimed = input.claimedBy !== undefined ? dialectNamed(input.claimedBy) : undefined;
  const bundleDialect = chosen?.shape === 'bundle' ? chosen : claimed?.shape === 'bundle' ? claimed : undefined;
  let report = bundleDialect
    ? await exportBundle(bundleDialect, input.path)
    : await exportSession(input.path, { serviceName, dialect: chosen?.shape === 'thread-log' ? chosen : undefined, content, place: (meta) => o.tree.place(meta), emit });
  // A bundle's event log found on its own is still a bundle.
  const detected = report.format !== undefined ? dialectNamed(report.format) : undefined;
  if (!bundleDialect && detected?.shape === 'bundle' && input.path !== '-') report = await exportBundle(detected, input.path);
  const skipped = !input.explicit && report.spans === 0 && /^(not a rollout|empty file)/.test(report.error ?? '');
  return { report, skipped };
}
