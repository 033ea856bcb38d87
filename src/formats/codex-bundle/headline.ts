import { statSync } from 'node:fs';
import type { BundleHeadline, LineSource } from '../dialect.js';
import { threadFacts } from './payloads.js';
import { PayloadStore, readManifest } from './reader.js';

/** A bundle's session facts from its manifest and event log, without replaying it. */
export async function bundleHeadline(files: { dir: string; trace: string; manifest: string }, io: LineSource, depth: 'head' | 'full'): Promise<BundleHeadline | { error: string }> {
  const { manifest, problem } = await readManifest(files);
  if (!manifest) return { error: problem ?? 'no manifest.json' };
  const root = manifest.root_thread_id ?? manifest.rollout_id;
  if (!root) return { error: 'manifest.json names no root thread' };
  const bytes = statSync(files.trace).size;
  let turns = 0;
  let first: number | undefined;
  let end = manifest.started_at_unix_ms ?? 0;
  let metaRef: { path: string } | undefined;
  // the event log holds no payloads; a turn start or the root thread's record is all that is parsed
  for await (const { text } of io.lines(files.trace)) {
    const wall = /"wall_time_unix_ms":(\d+)/.exec(text.slice(0, 200));
    if (wall) {
      first ??= Number(wall[1]);
      end = Math.max(end, Number(wall[1]));
    }
    if (depth === 'head') continue;
    const turn = text.includes('"codex_turn_started"');
    const thread = !metaRef && text.includes('"thread_started"');
    if (!turn && !thread) continue;
    try {
      const v = JSON.parse(text) as { payload?: { type?: unknown; thread_id?: unknown; metadata_payload?: { path?: unknown } } };
      const p = v.payload;
      // a bundle is one trace for the root thread and its children: their turns count, as the export's do
      if (p?.type === 'codex_turn_started') turns++;
      if (p?.type === 'thread_started' && p.thread_id === root && typeof p.metadata_payload?.path === 'string') metaRef = { path: p.metadata_payload.path };
    } catch {
      // a torn line is the export's to report
    }
  }
  const headline: BundleHeadline = { id: root, path: files.dir, start: manifest.started_at_unix_ms ?? first ?? end, end, bytes };
  if (depth === 'full') headline.turns = turns;
  if (metaRef) {
    const read = await new PayloadStore(files.dir).read({ raw_payload_id: '', path: metaRef.path }, 0);
    if ('value' in read) {
      const f = threadFacts(read.value, undefined, []);
      if (f.cwd) headline.cwd = f.cwd;
      if (f.model) headline.model = f.model;
    }
  }
  return headline;
}
