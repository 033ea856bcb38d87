import type { ToolIdentity, ToolResultInfo } from '../../model/events.js';
import { isObject } from '../json.js';
import { contentText } from '../text.js';

/** `mcp__<server>__<tool>` names an MCP tool; every other name is a built-in. */
export function toolIdentity(callId: string, name: string): ToolIdentity {
  const m = /^mcp__(.+?)__(.+)$/.exec(name);
  if (m) return { callId, name, toolKind: 'mcp', mcp: { server: m[1] as string, tool: m[2] as string } };
  return { callId, name, toolKind: 'function' };
}

const REJECTED = /^The user doesn't want to (proceed|take this action)/;

/**
 * What a `tool_result` says of its call: an error (`is_error`), a call the user declined (stopped,
 * not failed), the exit code a failed command reports, the duration a tool recorded.
 */
export function resultOf(isError: boolean, content: unknown, structured: unknown): { result: ToolResultInfo; declined: boolean } {
  const result: ToolResultInfo = {};
  const s = isObject(structured) ? structured : undefined;
  const duration = num(s?.durationMs) ?? num(s?.totalDurationMs) ?? (num(s?.durationSeconds) !== undefined ? (num(s?.durationSeconds) as number) * 1000 : undefined);
  if (duration !== undefined) result.durationMs = duration;
  if (!isError) return { result, declined: false };
  const text = contentText(content);
  if (REJECTED.test(text) || structured === 'User rejected tool use') return { result, declined: true };
  result.success = false;
  const exit = /^Exit code (\d+)/.exec(text);
  if (exit) result.exitCode = Number(exit[1]);
  else result.errorType = 'tool_error';
  return { result, declined: false };
}

/** The agent a Task/Agent call started: its structured result names it, else the text's `agentId: …` line. */
export function agentIdOf(structured: unknown, content: unknown): string | undefined {
  if (isObject(structured) && typeof structured.agentId === 'string' && structured.agentId) return structured.agentId;
  const m = /agentId: ([A-Za-z0-9_-]+)/.exec(contentText(content));
  return m?.[1];
}

/** Bedrock and Vertex AI give their response ids a prefix of their own. */
export function providerOf(responseId: string): string {
  if (responseId.startsWith('msg_bdrk_')) return 'aws.bedrock';
  if (responseId.startsWith('msg_vrtx_')) return 'gcp.vertex_ai';
  return 'anthropic';
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined;
}
