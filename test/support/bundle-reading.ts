import { lstatSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

// An independent, deliberately simple reading of a Codex rollout trace bundle: what its trace must agree with.

export interface Usage {
  input: number;
  cached: number;
  output: number;
  reasoning: number;
}

export interface Work {
  id: string;
  threadId: string;
  turnId: string | null;
  line: number;
  startNs: bigint;
  endNs?: bigint;
  status?: string;
  /** what failed, or (a turn) the error it met */
  error?: string;
  /** why a response was cancelled, as recorded */
  reason?: string;
}

export interface BundleReading {
  traceId: string;
  rootThreadId: string;
  lastNs: bigint;
  /** `startNs` is where the span must start: inside its spawn call; `recordedStartNs` the recorded start */
  threads: Map<string, Work & { agentPath: string; parent?: string; recordedStartNs: bigint }>;
  turns: Map<string, Work>;
  inferences: Map<string, Work & { usage?: Usage }>;
  /** tool calls and code cells, by the call id a span shows (the model's, else the dispatch id) */
  tools: Map<string, Work & { exitCode?: number; cell?: string; runtimeFailed?: boolean }>;
  /** child thread → the spawn call that reported it */
  spawns: Map<string, string>;
}

const ns = (ms: number) => BigInt(ms) * 1_000_000n;

export function readBundle(dir: string): BundleReading {
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  const events = readFileSync(join(dir, 'trace.jsonl'), 'utf8').split('\n').flatMap((text, i) => {
    try {
      return [{ line: i + 1, ...JSON.parse(text) }];
    } catch {
      return [];
    }
  }).sort((a, b) => a.seq - b.seq);
  // only regular files inside payloads/ count: anything else is not the bundle's own evidence
  const payload = (ref: { path: string } | null) => {
    if (!ref || !/^payloads\/\d+\.json$/.test(ref.path)) return undefined;
    try {
      return lstatSync(join(dir, ref.path)).isFile() ? JSON.parse(readFileSync(join(dir, ref.path), 'utf8')) : undefined;
    } catch {
      return undefined;
    }
  };
  const r: BundleReading = {
    traceId: manifest.trace_id.replace(/-/g, ''), rootThreadId: manifest.root_thread_id, lastNs: 0n,
    threads: new Map(), turns: new Map(), inferences: new Map(), tools: new Map(), spawns: new Map(),
  };
  const cells = new Map<string, string>();
  const toolKey = new Map<string, string>();
  // an `error` breadcrumb has no context: it is the turn's of the last line that named one, else the next turn to end
  let lastTurn: string | undefined;
  let unplaced: string[] = [];
  const turnError = (turn: string | undefined, message: string | undefined) => {
    const t = turn === undefined ? undefined : r.turns.get(turn);
    if (t && message !== undefined) t.error ??= message;
  };
  for (const e of events) {
    const p = e.payload;
    const at = ns(e.wall_time_unix_ms);
    if (at > r.lastNs) r.lastNs = at;
    const base = { line: e.line, startNs: at, threadId: e.thread_id, turnId: e.codex_turn_id };
    const previousTurn = lastTurn;
    if (e.codex_turn_id) lastTurn = e.codex_turn_id;
    switch (p.type) {
      case 'thread_started': {
        const meta = payload(p.metadata_payload);
        r.threads.set(p.thread_id, { ...base, id: p.thread_id, threadId: p.thread_id, agentPath: p.agent_path, parent: meta?.session_source?.subagent?.thread_spawn?.parent_thread_id, recordedStartNs: at });
        break;
      }
      case 'thread_ended':
        r.threads.get(p.thread_id)!.endNs = at;
        break;
      case 'codex_turn_started':
        r.turns.set(p.codex_turn_id, { ...base, id: p.codex_turn_id, threadId: p.thread_id });
        break;
      case 'codex_turn_ended': {
        Object.assign(r.turns.get(p.codex_turn_id)!, { endNs: at, status: p.status });
        // a response still streaming is cut off: cancelled, or failed with a failed turn
        for (const i of r.inferences.values()) {
          if (i.turnId === p.codex_turn_id && i.endNs === undefined) Object.assign(i, { endNs: at, status: p.status === 'completed' ? 'cancelled' : p.status });
        }
        for (const message of unplaced) turnError(p.codex_turn_id, message);
        unplaced = [];
        break;
      }
      case 'protocol_event_observed': {
        const body = payload(p.event_payload);
        if (p.event_type === 'error' && previousTurn !== undefined) turnError(previousTurn, body?.message);
        else if (p.event_type === 'error') unplaced.push(body?.message);
        if (p.event_type === 'turn_complete' && body?.error) turnError(body.turn_id, typeof body.error === 'string' ? body.error : body.error.message);
        break;
      }
      case 'inference_started':
        r.inferences.set(p.inference_call_id, { ...base, id: p.inference_call_id, threadId: p.thread_id, turnId: p.codex_turn_id });
        break;
      case 'inference_completed':
      case 'inference_failed':
      case 'inference_cancelled': {
        const u = payload(p.response_payload ?? p.partial_response_payload)?.token_usage;
        const call = r.inferences.get(p.inference_call_id)!;
        // a response its turn already cut off keeps that end; the late evidence still counts
        if (call.endNs === undefined) Object.assign(call, { endNs: at, status: p.type.replace('inference_', ''), error: p.error, reason: p.reason });
        if (u) call.usage ??= { input: u.input_tokens, cached: u.cached_input_tokens, output: u.output_tokens, reasoning: u.reasoning_output_tokens };
        break;
      }
      case 'tool_call_started': {
        const id = p.model_visible_call_id ?? p.tool_call_id;
        toolKey.set(p.tool_call_id, id);
        r.tools.set(id, { ...base, id, cell: p.requester.type === 'code_cell' ? cells.get(p.requester.runtime_cell_id) : undefined });
        break;
      }
      case 'tool_call_runtime_ended': {
        const body = payload(p.runtime_payload);
        const tool = r.tools.get(toolKey.get(p.tool_call_id)!)!;
        if (typeof body?.exit_code === 'number') tool.exitCode = body.exit_code;
        if (p.status === 'failed' || body?.status === 'failed') tool.runtimeFailed = true;
        // a spawn reports its child as CollabAgentSpawnEnd, or as SubAgentActivity `started`
        if (body?.new_thread_id) r.spawns.set(body.new_thread_id, tool.id);
        if (body?.agent_thread_id && body.kind === 'started') r.spawns.set(body.agent_thread_id, tool.id);
        break;
      }
      case 'tool_call_ended': {
        const tool = Object.assign(r.tools.get(toolKey.get(p.tool_call_id)!)!, { endNs: at, status: p.status });
        // a terminal's exit code may only be in what the call handed back
        const result = payload(p.result_payload);
        const exited = /Process exited with code (-?\d+)/.exec(String(result?.response_item?.output ?? ''))?.[1] ?? result?.value?.exit_code;
        if (tool.exitCode === undefined && exited !== undefined) tool.exitCode = Number(exited);
        break;
      }
      case 'code_cell_started':
        cells.set(p.runtime_cell_id, p.model_visible_call_id);
        r.tools.set(p.model_visible_call_id, { ...base, id: p.model_visible_call_id });
        break;
      case 'code_cell_ended':
        Object.assign(r.tools.get(cells.get(p.runtime_cell_id)!)!, { endNs: at, status: p.status });
        break;
    }
  }
  // a child's span starts inside the call that spawned it, though it may be recorded later
  for (const [child, call] of r.spawns) {
    const t = r.threads.get(child);
    const end = r.tools.get(call)?.endNs;
    if (t && end !== undefined && t.startNs > end) t.startNs = end;
  }
  return r;
}
