import { statSync } from 'node:fs';
import type { BundleDialect } from '../formats/dialect.js';
import { BundleAssembler } from '../model/bundle-assembler.js';
import type { BundleThread } from '../model/bundle-finish.js';
import type { DecodeWarning } from '../model/events.js';
import type { Placement } from '../model/types.js';
import { bundleTraceId, segmentTraceId } from '../otel/ids.js';
import { ThreadMapper } from '../otel/map.js';
import { addCounts } from '../otel/redact.js';
import { resourceFor } from '../otel/resource.js';
import { openRollout } from '../sources/files.js';
import { readLines } from '../sources/lines.js';
import { addUsageTotals, newReport, noteProblem, type SessionReport } from './report.js';
import { stableSourcePath, type SessionOptions } from './session.js';

export type BundleOptions = Omit<SessionOptions, 'place' | 'dialect'> & {
  /** a bundle that grew after it was delivered is sent whole again, into the trace of this continuation */
  segment?: number;
};

const io = { lines: (path: string) => readLines(openRollout(path)) };

/**
 * A bundle is replayed whole, held in memory (about ten times its event log): a log larger than
 * this is not read. The threads it records have rollout files of their own, read line by line.
 */
export const MAX_BUNDLE_LOG_BYTES = 12 * 1024 * 1024;

/**
 * Exports one bundle (a directory that records a whole agent tree, or a file standing for it):
 * every thread in one trace, events replayed in the bundle's order. Spans go to `emit` a turn at a time.
 */
export async function exportBundle(dialect: BundleDialect, path: string, opts: BundleOptions): Promise<SessionReport> {
  const report: SessionReport = { ...newReport(dialect.logOf(path)), gaps: 0 };
  const gap = (w: DecodeWarning) => noteProblem(report, w, 'gaps');
  const size = statSync(report.path, { throwIfNoEntry: false })?.size ?? 0;
  if (size > MAX_BUNDLE_LOG_BYTES) {
    report.error = `event log of ${(size / 1024 / 1024).toFixed(1)} MiB is over the ${MAX_BUNDLE_LOG_BYTES / 1024 / 1024} MiB bundle limit (a bundle is replayed whole, in memory): not read; export the threads' rollout files instead (~/.codex/sessions)`;
    return report;
  }
  let log;
  try {
    log = await dialect.open(path, io, opts.content.capture);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    report.error = e.code === 'ENOENT' ? `no ${report.path.split('/').pop()}: not a ${dialect.title}` : e.message;
    return report;
  }
  report.lines = log.lines;
  for (const { kind, ...w } of log.problems) noteProblem(report, w, kind);
  const assembler = new BundleAssembler(log.source, log.recorded);
  let events = 0;
  for await (const decoded of log.decode()) {
    events++;
    if (decoded.warning) noteProblem(report, decoded.warning, 'warnings');
    decoded.problems.forEach(gap);
    for (const e of decoded.events) assembler.push(e);
  }
  const bundle = assembler.finish();
  assembler.problems.forEach(gap);
  report.samples.sort((a, b) => a.line - b.line);
  if (bundle.threads.length === 0 || bundle.rootThreadId === undefined) {
    report.error = events === 0 ? `empty ${report.path.split('/').pop()}` : `no thread recorded in ${report.path.split('/').pop()}`;
    return report;
  }

  const root = bundle.rootThreadId;
  const traceId = segmentTraceId(bundleTraceId(bundle.traceId, root), opts.segment ?? 0);
  report.threadId = root;
  report.traceId = traceId;
  const resource = resourceFor(opts.serviceName ?? dialect.agent, undefined);
  const sourcePath = stableSourcePath(log.source);
  for (const t of bundle.threads) {
    const mapper = new ThreadMapper(t.thread.meta, sourcePath, placementOf(t, root, traceId), resource, opts.content, dialect.agent);
    for (const turn of t.turns) {
      const spans = mapper.turnSpans(turn);
      report.turns++;
      report.spans += spans.length;
      await opts.emit(spans, Infinity);
    }
    report.spans++;
    await opts.emit([mapper.threadSpan(t.thread)], Infinity);
    addUsageTotals(report, mapper.totals());
    addCounts((report.redactions ??= {}) as Record<string, number>, mapper.redactions);
  }
  return report;
}

function placementOf(t: BundleThread, root: string, traceId: string): Placement {
  return { rootThreadId: root, conversationId: root, traceId, spawnedBy: t.spawnedBy, parentNote: t.parentNote };
}
