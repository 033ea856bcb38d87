import type { TokenUsage, ToolIdentity, ToolResultInfo } from './events.js';
import type { ModelCall, ToolCall } from './types.js';

// The objects the hot paths make by the thousand, each built here with every field present in one
// order: V8 then gives all of them one hidden class, and the code that reads them is compiled once
// instead of again for each new shape. test/shapes.test.ts pins the orders.

export function newModelCall(index: number, line: number, time: number, model: string | undefined, usage: TokenUsage | undefined, compacted: boolean): ModelCall {
  return {
    index, line, start: time, end: time, model, usage, compacted, input: undefined, output: undefined,
    id: undefined, provider: undefined, error: undefined, incomplete: undefined, facts: undefined, edges: undefined, notes: undefined,
  };
}

export function emptyResult(): ToolResultInfo {
  return {
    exitCode: undefined, durationMs: undefined, startedAtMs: undefined, completedAtMs: undefined, success: undefined,
    errorType: undefined, errorMessage: undefined, mcpServer: undefined, mcpTool: undefined, stillRunning: undefined, summary: undefined,
  };
}

export function newToolCall(key: string, id: ToolIdentity, line: number, time: number, parentKey: string | undefined, incomplete: boolean): ToolCall {
  return {
    key, callId: id.callId, name: id.name, namespace: id.namespace, toolKind: id.toolKind, mcp: id.mcp, agents: id.agents,
    line, start: time, end: time, incomplete, result: emptyResult(), parentKey,
    arguments: undefined, output: undefined, terminal: undefined, facts: undefined, edges: undefined,
  };
}

/** A tool call a rollout turn is still collecting, with the times its records gave. */
export interface PendingTool extends ToolCall {
  callTime: number;
  outputTime?: number;
  resultTime?: number;
  searchItemSeen?: boolean;
}

export function newPendingTool(key: string, id: ToolIdentity, line: number, time: number, parentKey: string | undefined, incomplete: boolean): PendingTool {
  return {
    key, callId: id.callId, name: id.name, namespace: id.namespace, toolKind: id.toolKind, mcp: id.mcp, agents: id.agents,
    line, start: time, end: time, incomplete, result: emptyResult(), parentKey,
    arguments: undefined, output: undefined, terminal: undefined, facts: undefined, edges: undefined,
    callTime: time, outputTime: undefined, resultTime: undefined, searchItemSeen: undefined,
  };
}
