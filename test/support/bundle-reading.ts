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
  error?: string;
}

export interface BundleReading {
  traceId: string;
  rootThreadId: string;
  lastNs: bigint;
  threads: Map<string, Work & { agentPath: string; parent?: string }>;
  turns: Map<string, Work>;
  inferences: Map<string, Work & { usage?: Usage }>;
  /** tool calls and code cells, by the call id a span shows (the model's, else the dispatch id) */
  tools: Map<string, Work & { exitCode?: number; cell?: string }>;
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
  for (const e of events) {
    const p = e.payload;
    const at = ns(e.wall_time_unix_ms);
    if (at > r.lastNs) r.lastNs = at;
    const base = { line: e.line, startNs: at, threadId: e.thread_id, turnId: e.codex_turn_id };
    switch (p.type) {
      case 'thread_started': {
        const meta = payload(p.metadata_payload);
        r.threads.set(p.thread_id, { ...base, id: p.thread_id, threadId: p.thread_id, agentPath: p.agent_path, parent: meta?.session_source?.subagent?.thread_spawn?.parent_thread_id });
        break;
      }
      case 'thread_ended':
        r.threads.get(p.thread_id)!.endNs = at;
        break;
      case 'codex_turn_started':
        r.turns.set(p.codex_turn_id, { ...base, id: p.codex_turn_id, threadId: p.thread_id });
        break;
      case 'codex_turn_ended':
        Object.assign(r.turns.get(p.codex_turn_id)!, { endNs: at, status: p.status });
        break;
      case 'inference_started':
        r.inferences.set(p.inference_call_id, { ...base, id: p.inference_call_id, threadId: p.thread_id, turnId: p.codex_turn_id });
        break;
      case 'inference_completed':
      case 'inference_failed':
      case 'inference_cancelled': {
        const u = payload(p.response_payload ?? p.partial_response_payload)?.token_usage;
        Object.assign(r.inferences.get(p.inference_call_id)!, {
          endNs: at, status: p.type.replace('inference_', ''), error: p.error ?? p.reason,
          usage: u ? { input: u.input_tokens, cached: u.cached_input_tokens, output: u.output_tokens, reasoning: u.reasoning_output_tokens } : undefined,
        });
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
        if (body?.new_thread_id) r.spawns.set(body.new_thread_id, tool.id);
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
  return r;
}
