import type { z } from 'zod';
import type { TokenUsage, ToolResultInfo } from '../../model/events.js';
import type { ThreadFacts } from '../../model/bundle-events.js';
import { durationMs, parseToolOutput } from '../codex/tool-output.js';
import { textOf } from './content.js';
import * as S from './schemas.js';

// What the translator takes from each kind of payload file.

export function threadFacts(value: unknown, eventPath: string | undefined): ThreadFacts {
  const facts: ThreadFacts = { agentPath: eventPath };
  const m = S.SessionMetadata.safeParse(value);
  if (!m.success) return facts;
  const d = m.data;
  const source = d.session_source;
  const spawn = typeof source === 'object' && source && typeof source.subagent === 'object' ? source.subagent?.thread_spawn : undefined;
  return {
    // the spawn record's path wins over the thread's own field
    agentPath: spawn?.agent_path ?? d.agent_path ?? eventPath,
    nickname: d.nickname ?? spawn?.agent_nickname ?? undefined,
    role: d.agent_role ?? spawn?.agent_role ?? undefined,
    parentThreadId: spawn?.parent_thread_id ?? undefined,
    depth: spawn?.depth ?? undefined,
    ...sourceOf(source),
    cwd: d.cwd ?? undefined,
    model: d.model ?? undefined,
    provider: d.provider_name ?? undefined,
    approvalPolicy: d.approval_policy ?? undefined,
    sandboxPolicy: d.sandbox_policy ?? undefined,
  };
}

function sourceOf(source: z.infer<typeof S.SessionMetadata>['session_source']): Pick<ThreadFacts, 'source' | 'subagentKind'> {
  if (typeof source === 'string') return { source };
  if (!source) return {};
  const sub = source.subagent;
  if (sub === undefined || sub === null) return { source: Object.keys(source)[0] };
  if (typeof sub === 'string') return { source: 'subagent', subagentKind: sub };
  return { source: 'subagent', subagentKind: sub.thread_spawn ? 'thread_spawn' : Object.keys(sub)[0] };
}

/** Usage counts only with its four required fields; negative numbers count as zero. */
export function usageOf(value: unknown): TokenUsage | undefined {
  const u = S.TokenUsage.safeParse(value);
  if (!u.success) return undefined;
  const n = (x: number | null | undefined) => Math.max(0, x ?? 0);
  const usage: TokenUsage = {
    input: n(u.data.input_tokens),
    cachedInput: n(u.data.cached_input_tokens),
    output: n(u.data.output_tokens),
    reasoningOutput: n(u.data.reasoning_output_tokens),
    total: n(u.data.total_tokens ?? u.data.input_tokens + u.data.output_tokens),
  };
  if (u.data.cache_write_input_tokens !== undefined && u.data.cache_write_input_tokens !== null) usage.cacheWriteInput = n(u.data.cache_write_input_tokens);
  return usage;
}

export interface RuntimeFacts {
  result: ToolResultInfo;
  terminalId?: string;
  command?: string;
  spawnedThreadId?: string;
  targetThreadIds: string[];
}

/** A protocol begin/end body: process, patch, MCP call or agent activity, told apart by its fields. */
export function runtimeFacts(value: unknown): RuntimeFacts | undefined {
  const r = S.RuntimeEvent.safeParse(value);
  if (!r.success) return undefined;
  const d = r.data;
  const result: ToolResultInfo = {};
  if (typeof d.exit_code === 'number') result.exitCode = d.exit_code;
  const duration = durationMs(d.duration);
  if (duration !== undefined) result.durationMs = duration;
  if (d.status === 'declined') fail(result, 'declined');
  if (d.success === false) fail(result, 'patch_failed');
  if (d.invocation) {
    if (d.invocation.server) result.mcpServer = d.invocation.server;
    if (d.invocation.tool) result.mcpTool = d.invocation.tool;
    const err = mcpError(d.result);
    if (err !== undefined) fail(result, 'mcp_error', err || undefined);
  }
  const activity = d.agent_thread_id ?? undefined;
  const spawned = d.new_thread_id ?? (activity && d.kind === 'started' ? activity : undefined);
  const targets = [d.receiver_thread_id, ...(d.receiver_thread_ids ?? []), activity && d.kind !== 'started' ? activity : undefined];
  return {
    result,
    terminalId: d.process_id ?? undefined,
    command: d.command?.join(' '),
    spawnedThreadId: spawned,
    targetThreadIds: targets.filter((t): t is string => typeof t === 'string' && t !== ''),
  };
}

/** `{Err: text}` or `{Ok: {isError: true}}`: the error text ('' when there is none); undefined when it went well. */
function mcpError(result: unknown): string | undefined {
  if (typeof result !== 'object' || result === null) return undefined;
  const r = result as { Err?: unknown; Ok?: { isError?: unknown; is_error?: unknown; content?: unknown } };
  if (r.Err !== undefined) return typeof r.Err === 'string' ? r.Err : JSON.stringify(r.Err);
  if (r.Ok?.isError === true || r.Ok?.is_error === true) return textOf(r.Ok.content);
  return undefined;
}

/** A dispatch result: what went back to the model or to JS, or the dispatch error. */
export function dispatchResult(value: unknown, terminal: boolean): { result: ToolResultInfo; output?: unknown } {
  const r = S.DispatchResult.safeParse(value);
  if (!r.success) return { result: {} };
  const d = r.data;
  if (d.type === 'error') return { result: { success: false, errorMessage: d.error ?? undefined }, output: d.error };
  const output = d.response_item?.output ?? d.value;
  const result: ToolResultInfo = terminal ? parseToolOutput(output) : {};
  const exit = (d.value as { exit_code?: unknown } | null | undefined)?.exit_code;
  if (terminal && typeof exit === 'number') result.exitCode ??= exit;
  return { result, output };
}

/** A code cell's runtime answer: its text and, for a failed cell, the error. */
export function cellResult(value: unknown): { errorMessage?: string; output?: string } {
  const r = S.CellResult.safeParse(value);
  const body = r.success && r.data.response ? Object.values(r.data.response)[0] : undefined;
  if (!body) return {};
  return { errorMessage: body.error_text ?? undefined, output: textOf(body.content_items) || undefined };
}

export function checkpointSizes(value: unknown): { inputItems?: number; replacementItems?: number } {
  const c = S.Checkpoint.safeParse(value);
  if (!c.success) return {};
  return { inputItems: c.data.input_history?.length, replacementItems: c.data.replacement_history?.length };
}

/** The error a protocol `turn_complete` carries, as text. */
export function errorText(error: unknown): string | undefined {
  if (error === undefined || error === null) return undefined;
  if (typeof error === 'string') return error;
  const message = (error as { message?: unknown }).message;
  return typeof message === 'string' ? message : JSON.stringify(error);
}

function fail(result: ToolResultInfo, type: string, message?: string): void {
  result.success = false;
  result.errorType ??= type;
  if (message !== undefined) result.errorMessage ??= message;
}
