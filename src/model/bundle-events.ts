// Domain events of inputs that record every piece of work explicitly, with a start and an end
// that carry its own id (Codex rollout trace bundles). Several threads share one log. Times are
// epoch milliseconds; `line` is the 1-based line of the log that recorded the event.
import type { TokenUsage, ToolKind, ToolResultInfo } from './events.js';
import type { ContentPart } from './types.js';

interface At {
  time: number;
  line: number;
  /** the thread and turn the log says the event happened in, where it says */
  threadId?: string;
  turnId?: string;
}

/** The status a piece of work ended with, as recorded. */
export type EndStatus = 'completed' | 'failed' | 'cancelled' | 'aborted';

/** What a multi-agent tool does to the agents it names. */
export type AgentAction = 'spawn_agent' | 'followup_task' | 'send_message' | 'wait_agent' | 'close_agent';

export interface ThreadFacts {
  agentPath?: string;
  nickname?: string;
  role?: string;
  parentThreadId?: string;
  depth?: number;
  source?: string;
  subagentKind?: string;
  cwd?: string;
  model?: string;
  provider?: string;
  approvalPolicy?: string;
  sandboxPolicy?: string;
}

export type BundleEvent =
  | (At & { kind: 'rollout_start'; traceId?: string; rootThreadId?: string })
  | (At & { kind: 'rollout_end'; status?: string })
  | (At & { kind: 'thread_start'; threadId: string; facts: ThreadFacts })
  | (At & { kind: 'thread_end'; threadId: string; status?: string })
  | (At & { kind: 'turn_start'; threadId?: string; turnId: string })
  | (At & { kind: 'turn_end'; turnId: string; status: EndStatus })
  /** what the protocol said about a turn: an error it met (`error` event, `turn_complete.error`), why it was aborted */
  | (At & { kind: 'turn_outcome'; turnId: string; error?: { message: string; type?: string }; abortReason?: string })
  | (At & { kind: 'inference_start'; callId: string; model?: string; provider?: string; input?: ContentPart[] })
  | (At & {
      kind: 'inference_end';
      callId: string;
      status: 'completed' | 'failed' | 'cancelled';
      /** what failed (`failed` only) */
      error?: string;
      /** why Codex stopped reading the response (`cancelled` only): not a failure */
      reason?: string;
      usage?: TokenUsage;
      responseId?: string;
      upstreamRequestId?: string;
      output?: ContentPart[];
    })
  | (At & {
      kind: 'tool_start';
      /** the dispatch id (`exec-…` for calls a code cell made) */
      toolCallId: string;
      /** the call id the model saw */
      modelCallId?: string;
      /** the code cell that made the call */
      cellId?: string;
      name: string;
      namespace?: string;
      toolKind: ToolKind;
      mcp?: { server: string; tool: string };
      terminal?: 'exec_command' | 'write_stdin';
      terminalId?: string;
      agentAction?: AgentAction;
      /** agent paths the call names */
      targetPaths?: string[];
      arguments?: string;
      /** the code-mode runtime's own id of the tool */
      codeModeToolId?: string;
    })
  | (At & { kind: 'mcp_assigned'; toolCallId: string; mcpCallId?: string; mcp?: { server: string; tool: string } })
  /** what the running tool reported (process, patch, MCP server, agents) */
  | (At & {
      kind: 'tool_runtime';
      toolCallId: string;
      phase: 'start' | 'end';
      status?: EndStatus;
      /** the status the protocol body gives (`declined` …) */
      protocolStatus?: string;
      result: ToolResultInfo;
      terminalId?: string;
      command?: string;
      /** the thread a spawn created */
      spawnedThreadId?: string;
      /** threads the call addressed */
      targetThreadIds?: string[];
    })
  | (At & { kind: 'tool_end'; toolCallId: string; status: EndStatus; result: ToolResultInfo; output?: unknown })
  | (At & { kind: 'cell_start'; cellId: string; modelCallId: string; source?: string })
  | (At & { kind: 'cell_response'; cellId: string; final: boolean; status?: string; errorMessage?: string; output?: unknown })
  | (At & { kind: 'compaction_request_start'; compactionId: string; requestId: string; model?: string; provider?: string })
  | (At & { kind: 'compaction_request_end'; compactionId: string; requestId: string; error?: string })
  | (At & { kind: 'compaction_installed'; compactionId: string; inputItems?: number; replacementItems?: number })
  | (At & { kind: 'agent_result'; childThreadId: string; childTurnId?: string; parentThreadId: string });
