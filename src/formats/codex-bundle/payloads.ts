import type { z } from 'zod';
import type { TokenUsage, ToolResultInfo } from '../../model/events.js';
import type { ThreadFacts } from '../../model/bundle-events.js';
import { durationMs, errorInfoName, mcpFailure, parseToolOutput } from '../codex/tool-output.js';
import { contentText } from '../text.js';
import { commandSummary, patchChangesSummary } from '../codex/tool-summary.js';
import * as S from './schemas.js';
import { jsonText } from '../json.js';

// What the translator takes from each kind of payload file. Every reader takes `bad`, where the
// fields it found but could not use are named (see `readPayload`).

export function threadFacts(value: unknown, eventPath: string | undefined, bad: string[]): ThreadFacts {
  const facts: ThreadFacts = { agentPath: eventPath };
  const d = S.readPayload(S.SessionMetadata, value, bad);
  if (!d) return facts;
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
export function usageOf(value: unknown, bad: string[]): TokenUsage | undefined {
  if (value === null) return undefined;
  const u = S.readPayload(S.TokenUsage, value, bad);
  if (!u) return undefined;
  const { input_tokens: input, cached_input_tokens: cached, output_tokens: output, reasoning_output_tokens: reasoning } = u;
  if (typeof input !== 'number' || typeof cached !== 'number' || typeof output !== 'number' || typeof reasoning !== 'number') return undefined;
  const n = (x: number | null | undefined) => Math.max(0, x ?? 0);
  const usage: TokenUsage = { input: n(input), cachedInput: n(cached), output: n(output), reasoningOutput: n(reasoning), total: n(u.total_tokens ?? input + output) };
  if (typeof u.cache_write_input_tokens === 'number') usage.cacheWriteInput = n(u.cache_write_input_tokens);
  return usage;
}

export interface RuntimeFacts {
  result: ToolResultInfo;
  terminalId?: string;
  command?: string;
  spawnedThreadId?: string;
  targetThreadIds: string[];
  /** the status the protocol body gives (`completed`, `failed`, `declined` …) */
  status?: string;
}

/** A protocol begin/end body: process, patch, MCP call or agent activity, told apart by its fields. */
export function runtimeFacts(value: unknown, bad: string[]): RuntimeFacts | undefined {
  const d = S.readPayload(S.RuntimeEvent, value, bad);
  if (!d) return undefined;
  const result: ToolResultInfo = {};
  if (typeof d.exit_code === 'number') result.exitCode = d.exit_code;
  const duration = durationMs(d.duration);
  if (duration !== undefined) result.durationMs = duration;
  // a declined command or patch was not run: not a failure (the call's own status says what the model got)
  if (d.status === 'failed') result.success = false;
  if (d.success === false && d.status !== 'declined') fail(result, 'patch_failed');
  const raw = value as { parsed_cmd?: unknown; changes?: unknown };
  const summary = commandSummary(d.command, raw.parsed_cmd) ?? patchChangesSummary(raw.changes);
  if (summary) result.summary = summary;
  if (d.invocation) {
    if (d.invocation.server) result.mcpServer = d.invocation.server;
    if (d.invocation.tool) result.mcpTool = d.invocation.tool;
    const f = mcpFailure(d.result);
    if (f) fail(result, f.errorType, f.message || undefined);
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
    status: typeof d.status === 'string' ? d.status : undefined,
  };
}

/** A dispatch result: what went back to the model or to JS, or the dispatch error. */
export function dispatchResult(value: unknown, terminal: boolean, bad: string[]): { result: ToolResultInfo; output?: unknown } {
  const d = S.readPayload(S.DispatchResult, value, bad);
  if (!d) return { result: {} };
  if (d.type === 'error') return { result: { success: false, errorMessage: d.error ?? undefined }, output: d.error };
  const output = d.response_item?.output ?? d.value;
  const result: ToolResultInfo = terminal ? parseToolOutput(output) : {};
  const exit = (d.value as { exit_code?: unknown } | null | undefined)?.exit_code;
  if (terminal && typeof exit === 'number') result.exitCode ??= exit;
  return { result, output };
}

/** A code cell's runtime answer: its text and, for a failed cell, the error. */
export function cellResult(value: unknown, bad: string[]): { errorMessage?: string; output?: string } {
  const r = S.readPayload(S.CellResult, value, bad);
  const body = r?.response ? Object.values(r.response)[0] : undefined;
  if (!body) return {};
  return { errorMessage: body.error_text ?? undefined, output: contentText(body.content_items) || undefined };
}

export function checkpointSizes(value: unknown, bad: string[]): { inputItems?: number; replacementItems?: number } {
  const c = S.readPayload(S.Checkpoint, value, bad);
  return { inputItems: c?.input_history?.length, replacementItems: c?.replacement_history?.length };
}

export interface RecordedError {
  message: string;
  /** the kind Codex gives it (`codex_error_info`: `context_window_exceeded`, `http_connection_failed` …) */
  type?: string;
}

/** What a protocol breadcrumb says about its turn: the error it ended with, why it was aborted. */
export function protocolFacts(eventType: string, value: unknown, bad: string[]): { turnId?: string; error?: RecordedError; abortReason?: string } {
  const e = S.readPayload(S.ProtocolEvent, value, bad);
  if (!e) return {};
  const error = eventType === 'error' ? errorOf({ message: e.message ?? 'error', codex_error_info: e.codex_error_info }) : errorOf(e.error);
  return { turnId: e.turn_id ?? undefined, error, abortReason: eventType === 'turn_aborted' ? (e.reason ?? undefined) : undefined };
}

/** An error as text or `{message, codex_error_info}`. */
function errorOf(error: unknown): RecordedError | undefined {
  if (error === undefined || error === null) return undefined;
  if (typeof error === 'string') return { message: error };
  const { message, codex_error_info: info } = error as { message?: unknown; codex_error_info?: unknown };
  return { message: typeof message === 'string' ? message : jsonText(error), type: errorInfoName(info) };
}

function fail(result: ToolResultInfo, type: string, message?: string): void {
  result.success = false;
  result.errorType ??= type;
  if (message !== undefined) result.errorMessage ??= message;
}
