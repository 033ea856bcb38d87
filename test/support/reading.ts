import { readFileSync } from 'node:fs';

// An independent, deliberately simple reading of a Codex rollout: what the trace must agree with.

export interface Reading {
  threadId: string;
  sessionId: string;
  turnStarts: number;
  callIds: Set<string>;
  webSearchItemsWithoutEnd: number;
  modelCalls: number;
  inputTokens: number;
  outputTokens: number;
  minTimeNs: bigint;
  maxTimeNs: bigint;
  lines: number;
}

export function readRollout(path: string): Reading {
  const lines = readFileSync(path, 'utf8').split('\n');
  let prev = '';
  const r: Reading = {
    threadId: '', sessionId: '', turnStarts: 0, callIds: new Set(), webSearchItemsWithoutEnd: 0, modelCalls: 0,
    inputTokens: 0, outputTokens: 0, minTimeNs: BigInt(Number.MAX_SAFE_INTEGER) * 1000000n, maxTimeNs: 0n, lines: lines.length,
  };
  let searchEnds = 0;
  let searchItems = 0;
  for (const l of lines) {
    if (!l.trim()) continue;
    const o = JSON.parse(l);
    const p = o.payload ?? {};
    const times = [o.timestamp, o.type === 'session_meta' ? p.timestamp : undefined].filter(Boolean).map((t: string) => BigInt(Date.parse(t)) * 1000000n);
    for (const t of times) {
      if (t < r.minTimeNs) r.minTimeNs = t;
      if (t > r.maxTimeNs) r.maxTimeNs = t;
    }
    if (o.type === 'session_meta' && !r.threadId) {
      r.threadId = p.id;
      r.sessionId = p.session_id ?? p.id;
    }
    if (o.type === 'event_msg' && p.type === 'task_started') r.turnStarts++;
    if (typeof p.call_id === 'string') r.callIds.add(p.call_id);
    if (o.type === 'event_msg' && p.type === 'web_search_end' && !String(p.call_id).startsWith('exec-')) searchEnds++;
    if (o.type === 'response_item' && p.type === 'web_search_call') searchItems++;
    if (o.type === 'event_msg' && p.type === 'token_count' && p.info) {
      const t = p.info.total_token_usage;
      const last = p.info.last_token_usage;
      const key = JSON.stringify([t.input_tokens, t.cached_input_tokens, t.output_tokens, t.reasoning_output_tokens, t.total_tokens]);
      const estimate = (u: Record<string, number>) => !u.input_tokens && !u.cached_input_tokens && !u.output_tokens && !u.reasoning_output_tokens;
      if (key !== prev && !estimate(last) && !estimate(t)) {
        r.modelCalls++;
        r.inputTokens += last.input_tokens;
        r.outputTokens += last.output_tokens;
      }
      prev = key;
    }
  }
  r.webSearchItemsWithoutEnd = Math.max(0, searchItems - searchEnds);
  return r;
}
