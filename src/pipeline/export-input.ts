import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { Delivery } from '../export/sink.js';
import type { BundleDialect, Dialect } from '../formats/dialect.js';
import { dialectNamed } from '../formats/registry.js';
import type { ContentPolicy } from '../otel/content.js';
import { segmentTraceId, traceIdFor } from '../otel/ids.js';
import type { LedgerEntry } from '../export/ledger.js';
import type { Placement } from '../model/types.js';
import type { DiscoveredInput } from '../sources/discover.js';
import type { AgentTree } from './agent-tree.js';
import type { InputOutcome } from './report.js';
import { exportSession, stableSourcePath } from './session.js';

/** What of an input was delivered before, from the delivery ledger: only the rest is sent. */
export interface InputPlan {
  /** spans of turns closed by a line up to this one were delivered: not sent again */
  skipThrough: number;
  /** 0: the session's own trace; n: the trace of its n-th continuation (see segmentTraceId) */
  segment: number;
  /** the session was closed when read through this line: nothing is sent unless it has grown */
  closedThrough?: number;
}

export interface InputOptions {
  serviceName?: string;
  /** every input read as this dialect (its name); recognised per file when absent */
  format?: string;
  content: ContentPolicy;
  tree: AgentTree;
  plan?: InputPlan;
  /** what becomes of the spans `emit` is given: the input's outcome reports it */
  delivery: Delivery;
  emit: (spans: ReadableSpan[]) => Promise<void>;
}

/** Exports one discovered input (a log file or a directory input) to `emit`. */
export async function exportInput(input: DiscoveredInput, o: InputOptions): Promise<InputOutcome> {
  const { serviceName, content } = o;
  const chosen: Dialect | undefined = o.format !== undefined ? dialectNamed(o.format) : undefined;
  const skipThrough = o.plan?.skipThrough ?? 0;
  const segment = o.plan?.segment ?? 0;
  let skippedSpans = 0;
  const emit = async (spans: ReadableSpan[], closedAt: number) => {
    if (closedAt <= skipThrough) skippedSpans += spans.length;
    else await o.emit(spans);
  };
  // bundles are loaded only when one is met: they are a good part of start-up
  const exportBundle = async (d: BundleDialect, path: string) => (await import('./bundle.js')).exportBundle(d, path, { serviceName, content, emit, segment });
  const bundleDialect = chosen?.shape === 'bundle' ? chosen : directoryDialect(input);
  let report = bundleDialect
    ? await exportBundle(bundleDialect, input.path)
    : await exportSession(input.path, {
      serviceName, dialect: chosen?.shape === 'thread-log' ? chosen : undefined, content, emit, closedThrough: o.plan?.closedThrough,
      place: async (meta) => inSegment(await o.tree.place(meta), segment),
    });
  // A bundle's event log found on its own is still a bundle.
  const detected = report.format !== undefined ? dialectNamed(report.format) : undefined;
  if (!bundleDialect && detected?.shape === 'bundle' && input.path !== '-') report = await exportBundle(detected, input.path);
  report.spans -= skippedSpans;
  const skipped = !input.explicit && report.spans === 0 && /^(not a rollout|empty file)/.test(report.error ?? '');
  const closed = o.plan?.closedThrough;
  const unchanged = closed !== undefined && !report.error && (report.through ?? 0) <= closed;
  return { report, delivery: o.delivery, skipped, unchanged };
}

/**
 * What of a session to send after what the ledger says was delivered: the turns after it, in the
 * same trace while the session is open; once its thread span was delivered, only when it has grown,
 * and then into the trace of a new segment.
 */
export function planAfter(entry: LedgerEntry | undefined): InputPlan {
  if (!entry) return { skipThrough: 0, segment: 0 };
  if (!entry.closed) return { skipThrough: entry.through, segment: entry.segment };
  return { skipThrough: entry.through, segment: entry.segment + 1, closedThrough: entry.through };
}

/** A continuation is a trace of its own: its thread span is that trace's root. */
export function inSegment(p: Placement, segment: number): Placement {
  if (segment === 0) return p;
  return { ...p, traceId: segmentTraceId(p.traceId ?? traceIdFor(p.rootThreadId), segment), spawnedBy: undefined, addressedBy: undefined };
}

/** The dialect that claimed a directory input (or a file standing for one) when it was found. */
function directoryDialect(input: DiscoveredInput): BundleDialect | undefined {
  const d = input.claimedBy !== undefined ? dialectNamed(input.claimedBy) : undefined;
  return d?.shape === 'bundle' ? d : undefined;
}

/** The file whose writes change an input: itself, or a directory input's log. */
export function logOf(input: DiscoveredInput): string {
  const d = directoryDialect(input);
  return d ? d.logOf(input.path) : input.path;
}

/** The name an input has in the delivery ledger: its stable source path (a directory input's log). */
export function ledgerKey(input: DiscoveredInput): string {
  return stableSourcePath(logOf(input));
}
