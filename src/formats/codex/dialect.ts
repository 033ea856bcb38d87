import { homedir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import type { ThreadLogDialect } from '../dialect.js';
import { isObject } from '../json.js';
import { CodexDecoder } from './decoder.js';
import { codexThreadNames } from './thread-names.js';

/** Where Codex keeps its state: `$CODEX_HOME`, else `~/.codex`. */
export function codexHome(env: NodeJS.ProcessEnv = process.env): string {
  return env.CODEX_HOME ?? join(homedir(), '.codex');
}

const CODEX_NAME = /^rollout-(\d{4})-(\d{2})-(\d{2})T\d{2}-\d{2}-\d{2}-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}.*?\.jsonl(?:\.zst)?$/;

const LINE_TYPE_WITHIN = 256;

/** Codex session rollouts: `~/.codex/sessions/YYYY/MM/DD/rollout-<time>-<thread id>.jsonl[.zst]`. */
export const codex: ThreadLogDialect = {
  name: 'codex',
  title: 'Codex rollout',
  agent: 'codex',
  shape: 'thread-log',
  detect(v) {
    // Codex envelopes carry `payload`; pre-envelope files open with a bare session record.
    if (typeof v.type === 'string' && isObject(v.payload)) return true;
    return v.record_type !== undefined || (typeof v.id === 'string' && typeof v.timestamp === 'string' && !('type' in v));
  },
  homes: (env) => [join(codexHome(env), 'sessions'), join(codexHome(env), 'archived_sessions')],
  decoder: () => new CodexDecoder(),
  threadNames: (env) => codexThreadNames(codexHome(env)),
  // a line's type follows its time, within its first hundred bytes or so
  listMarkers: (meta) => [
    { text: '_started"', within: LINE_TYPE_WITHIN }, // task_started, turn_started
    { text: '"user_message"', prompt: true, within: LINE_TYPE_WITHIN },
    // every count: each one that changed the total is a model call, priced with the model then in force
    { text: '"token_count"', within: LINE_TYPE_WITHIN },
    { text: '"turn_context"', within: LINE_TYPE_WITHIN },
    // pre-envelope files: each real user message opens a turn
    ...(meta?.inferredTiming ? [{ text: '"role":"user"', prompt: true, within: LINE_TYPE_WITHIN }] : []),
  ],
  threadIdFromName(path) {
    const m = /rollout-.{19}-([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})/.exec(basename(path));
    return m?.[1];
  },
  // as Codex first wrote it, `sessions/YYYY/MM/DD/<name>.jsonl`, also for `archived_sessions/` and `.zst` copies
  sourcePathOf(path) {
    const name = basename(path);
    const m = CODEX_NAME.exec(name);
    return m ? `sessions/${m[1]}/${m[2]}/${m[3]}/${name.replace(/\.zst$/, '')}` : undefined;
  },
  /** `…/sessions/2026/05/08/x.jsonl` → `…/sessions` and its sibling `archived_sessions`. */
  treeRootsOf(file) {
    let dir = dirname(file);
    for (let i = 0; i < 5 && dir !== dirname(dir); i++, dir = dirname(dir)) {
      const name = basename(dir);
      if (name === 'sessions' || name === 'archived_sessions') return [join(dirname(dir), 'sessions'), join(dirname(dir), 'archived_sessions')];
    }
    return undefined;
  },
};
