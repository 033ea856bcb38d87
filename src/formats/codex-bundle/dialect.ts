import { basename, dirname, join } from 'node:path';
import type { BundleDialect, BundleLog } from '../dialect.js';
import { isObject } from '../json.js';

const TRACE_FILE = 'trace.jsonl';
const MANIFEST_FILE = 'manifest.json';

/** Codex rollout trace bundles: a directory with `trace.jsonl`, `manifest.json` and payload files. */
export const codexBundle: BundleDialect = {
  name: 'bundle',
  title: 'Codex rollout trace bundle',
  agent: 'codex',
  shape: 'bundle',
  detect: (v) => typeof v.schema_version === 'number' && 'rollout_id' in v && isObject(v.payload),
  // A directory the user named is a bundle when it holds either file; one found while walking needs
  // its trace.jsonl beside a manifest.json or under the bundle's own name, so other traces are left alone.
  claimsDirectory: (dir, files, named) =>
    named ? files.has(TRACE_FILE) || files.has(MANIFEST_FILE) : files.has(TRACE_FILE) && (files.has(MANIFEST_FILE) || basename(dir).startsWith('trace-')),
  claimsFile: (path) => basename(path) === TRACE_FILE || basename(path) === MANIFEST_FILE,
  logOf: (path) => locate(path).trace,
  // where Codex writes bundles when asked to
  homes: (env) => (env.CODEX_ROLLOUT_TRACE_ROOT ? [env.CODEX_ROLLOUT_TRACE_ROOT] : []),
  async headline(path, io, depth) {
    const { bundleHeadline } = await import('./headline.js');
    return bundleHeadline(locate(path), io, depth);
  },
  async open(path, io, capture): Promise<BundleLog> {
    // the bundle's schemas are loaded only when one is met: they are a good part of start-up
    const { readManifest, readTraceLog, PayloadStore } = await import('./reader.js');
    const { BundleDecoder } = await import('./decoder.js');
    const files = locate(path);
    const log: BundleLog = { source: files.trace, lines: 0, recorded: {}, problems: [], decode: async function* () {} };
    const { manifest, problem } = await readManifest(files);
    if (problem) log.problems.push({ line: 0, type: 'manifest', message: problem, kind: 'gaps' });
    log.recorded = { traceId: manifest?.trace_id ?? undefined, rootThreadId: manifest?.root_thread_id ?? undefined };
    const trace = await readTraceLog(files.trace, io);
    log.lines = trace.lines;
    const unread = [...trace.bad.map((w) => ({ ...w, kind: 'badLines' as const })), ...trace.invalid.map((w) => ({ ...w, kind: 'warnings' as const }))];
    log.problems.push(...unread.sort((a, b) => a.line - b.line));
    const decoder = new BundleDecoder(new PayloadStore(files.dir), capture);
    log.decode = async function* () {
      for (const event of trace.events) yield await decoder.decode(event);
    };
    return log;
  },
};

/** A bundle given as its directory, its `trace.jsonl` or its `manifest.json`. */
function locate(path: string): { dir: string; trace: string; manifest: string } {
  const name = basename(path);
  const dir = name === TRACE_FILE || name === MANIFEST_FILE ? dirname(path) : path;
  return { dir, trace: join(dir, TRACE_FILE), manifest: join(dir, MANIFEST_FILE) };
}
