import { basename } from 'node:path';
import type { ThreadLogDialect } from '../dialect.js';
import { isObject } from '../json.js';
import { GenericDecoder } from './decoder.js';

/** The generic append-only pattern: one `{"type", "seq", "item"}` record per line. */
export const generic: ThreadLogDialect = {
  name: 'generic',
  title: 'generic {"type","seq","item"} rollout',
  agent: 'codex',
  shape: 'thread-log',
  detect: (v) => typeof v.type === 'string' && (typeof v.seq === 'number' || isObject(v.item)),
  decoder: (ctx) => new GenericDecoder({ fallbackThreadId: basename(ctx.path).replace(/\.jsonl(\.zst)?$/, ''), fallbackStart: ctx.mtimeMs() }),
  // a tool's result ends one model response's run of output: without it two calls would be priced as one
  listMarkers: () => [{ text: 'turn_started' }, { text: 'user_message', prompt: true }, { text: 'usage' }, { text: 'tool_result' }],
  // concurrent writers may append out of `seq` order
  orderOf: (v) => (isObject(v) && typeof v.seq === 'number' ? v.seq : undefined),
};
