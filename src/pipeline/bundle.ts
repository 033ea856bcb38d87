import { BundleDecoder } from '../formats/codex-bundle/decoder.js';
import { locateBundle, PayloadStore, readManifest, readTraceLog, type TraceLog } from '../formats/codex-bundle/reader.js';
import { BundleAssembler } from '../model/bundle-assembler.js';
import type { BundleThread } from '../model/bundle-finish.js';
import type { DecodeWarning } from '../model/events.js';
import type { Placement } from '../model/types.js';
import { bundleTraceId, segmentTraceId } from '../otel/ids.js';
import { ThreadMapper } from '../otel/map.js';
import { resourceFor } from '../otel/resource.js';
import { newReport, noteProblem, type SessionReport } from './report.js';
import { stableSourcePath, type SessionOptions } from './session.js';

export type BundleOptions = Omit<SessionOptions, 'place'> & {
  /** a bundle that grew after it was delivered is sent whole again, into the trace of this continuation */
  segment?: number;
};

/**
 * Exports one Codex rollout trace bundle (given as its directory, `trace.jsonl` or `manifest.json`):
 * every thread of the rollout tree in one trace, events replayed in `seq` order, payload files
 * read only when the trace needs them. Spans go to `emit` a turn at a time.
 */
export async function exportBundle(path: string, opts: BundleOptions): Promise<SessionReport> {
  const files = locateBundle(path);
  const report: SessionReport = { ...newReport(files.trace), gaps: 0 };
  const gap = (w: DecodeWarning) => noteProblem(report, w, 'gaps');

  const { manifest, problem } = await readManifest(files);
  if (problem) gap({ line: 0, type: 'manifest', message: problem });
  let log: TraceLog;
  try {
    log = await readTraceLog(files.trace);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    report.error = e.code === 'ENOENT' ? 'no trace.jsonl: not a trace bundle' : e.message;
    return report;
  }
  report.lines = log.lines;
  const unread = [...log.bad.map((w) => ({ w, kind: 'badLines' as const })), ...log.invalid.map((w) => ({ w, kind: 'warnings' as const }))];
  for (const { w, kind } of unread.sort((a, b) => a.w.line - b.w.line)) noteProblem(report, w, kind);

  const decoder = new BundleDecoder(new PayloadStore(files.dir), opts.content.capture);
  const assembler = new BundleAssembler(files.trace, { traceId: manifest?.trace_id ?? undefined, rootThreadId: manifest?.root_thread_id ?? undefined });
  for (const event of log.events) {
    const decoded = await decoder.decode(event);
    if (decoded.warning) noteProblem(report, decoded.warning, 'warnings');
    decoded.problems.forEach(gap);
    for (const e of decoded.events) assembler.push(e);
  }
  const bundle = assembler.finish();
  assembler.problems.forEach(gap);
  report.samples.sort((a, b) => a.line - b.line);
  if (bundle.threads.length === 0 || bundle.rootThreadId === undefined) {
    report.error = log.events.length === 0 ? 'empty trace.jsonl' : 'no thread recorded in trace.jsonl';
    return report;
  }

  const root = bundle.rootThreadId;
  const traceId = segmentTraceId(bundleTraceId(bundle.traceId, root), opts.segment ?? 0);
  report.threadId = root;
  report.traceId = traceId;
  const resource = resourceFor(opts.serviceName ?? 'codex', undefined);
  const sourcePath = stableSourcePath(files.trace);
  for (const t of bundle.threads) {
    const mapper = new ThreadMapper(t.thread.meta, sourcePath, placementOf(t, root, traceId), resource, opts.content);
    for (const turn of t.turns) {
      const spans = mapper.turnSpans(turn);
      report.turns++;
      report.spans += spans.length;
      await opts.emit(spans, Infinity);
    }
    report.spans++;
    await opts.emit([mapper.threadSpan(t.thread)], Infinity);
  }
  return report;
}

function placementOf(t: BundleThread, root: string, traceId: string): Placement {
  return { rootThreadId: root, conversationId: root, traceId, spawnedBy: t.spawnedBy, parentNote: t.parentNote };
}
