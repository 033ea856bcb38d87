// Domain events: what a rollout line says happened, free of any input dialect or OTel concept.
// Times are epoch milliseconds (fractional allowed); `line` is the 1-based source line.
import type { CompactionFacts, Note, ToolCallFacts } from './types.js';

export interface TokenUsage {
  input: number;
  cachedInput: number;
  output: number;
  reasoningOutput: number;
  cacheWriteInput?: number;
  total: number;
}

export interface ThreadMeta {
  threadId: string;
  sessionId?: string;
  parentThreadId?: string;
  forkedFromId?: string;
  startTime: number;
  cwd?: string;
  originator?: string;
  cliVersion?: string;
  source?: string;
  /** e.g. thread_spawn, review, compact, guardian, agent_job:…, memory_consolidation */
  subagentKind?: string;
  provider?: string;
  agentNickname?: string;
  agentRole?: string;
  agentPath?: string;
  depth?: number;
  git?: { commit?: string; branch?: string; repositoryUrl?: string };
  historyMode?: string;
  /** paginated sub-agent files: ordinals below this are inherited parent context */
  ownHistoryStartOrdinal?: number;
  /** true when lines carry no time of their own (pre-envelope files) */
  inferredTiming: boolean;
  /** the agent's own name, where the log records one (generic rollouts) */
  agentName?: string;
  /** each run of model output is one model response (logs without Codex token_count events) */
  callsFromOutputs?: boolean;
}

export interface ToolResultInfo {
  exitCode?: number;
  durationMs?: number;
  startedAtMs?: number;
  completedAtMs?: number;
  /** false when the tool reports failure without an exit code (patch failed, MCP isError, declined) */
  success?: boolean;
  errorType?: string;
  /** what the failure said, where recorded */
  errorMessage?: string;
  mcpServer?: string;
  mcpTool?: string;
  /** the process kept running after the call returned (unified exec sessions, code cells) */
  stillRunning?: boolean;
  /** what the call did, as far as its records tell */
  summary?: ToolSummary;
}

/**
 * What a tool call did, without content: the counts and kinds are exported always; `command`,
 * `paths` and `query` are content (exported only when content is captured).
 */
export interface ToolSummary {
  /** the program a command ran: first word, directory stripped */
  executable?: string;
  /** Codex's reading of the command: read, list_files, search, unknown (comma-joined when several) */
  commandKind?: string;
  command?: string;
  /** apply_patch: files added, updated (or moved), deleted, and hunks */
  filesAdded?: number;
  filesUpdated?: number;
  filesDeleted?: number;
  hunks?: number;
  paths?: string[];
  /** web search: search, open_page, find_in_page */
  searchAction?: string;
  query?: string;
}

/** Fills what `into` does not know from `from`, field by field. */
export function mergeSummary(into: ToolSummary | undefined, from: ToolSummary | undefined): ToolSummary | undefined {
  if (!from) return into;
  if (!into) return { ...from };
  for (const k of Object.keys(from) as (keyof ToolSummary)[]) if (into[k] === undefined) (into as Record<string, unknown>)[k] = from[k];
  return into;
}

export type ToolKind = 'function' | 'custom' | 'local_shell' | 'web_search' | 'tool_search' | 'image_generation' | 'mcp' | 'dynamic';

/** What a tool call item says about itself; shared by the event and the assembled call. */
export interface ToolIdentity {
  callId?: string;
  name: string;
  namespace?: string;
  toolKind: ToolKind;
  mcp?: { server: string; tool: string };
  /** the agents a multi-agent call addresses (send_input, wait, followup_task …): v1 by thread id, v2 by path */
  agents?: { threadIds: string[]; paths: string[] };
}

interface Base {
  time: number;
  line: number;
  /** ordinal of paginated files */
  ordinal?: number;
}

export type RolloutEvent =
  | (Base & { kind: 'thread_start'; meta: ThreadMeta })
  | (Base & { kind: 'turn_start'; turnId?: string; startedAtMs?: number; rootTurnId?: string })
  | (Base & {
      kind: 'turn_end';
      turnId?: string;
      outcome: 'completed' | 'aborted';
      reason?: string;
      errorMessage?: string;
      errorType?: string;
      startedAtMs?: number;
      completedAtMs?: number;
      durationMs?: number;
    })
  | (Base & {
      kind: 'turn_context';
      turnId?: string;
      model?: string;
      cwd?: string;
      approvalPolicy?: string;
      sandboxPolicy?: string;
      effort?: string;
    })
  /** `turnId` names the turn the message opens, where the log records one */
  | (Base & { kind: 'user_message'; text: string; turnId?: string })
  /**
   * something the model produced: reasoning, assistant text, a tool call item. `responseId` names the
   * response it belongs to where the log records one response over several lines (Claude Code):
   * those lines are one model call, whatever is written between them.
   */
  | (Base & {
      kind: 'model_output'; item: 'message' | 'reasoning' | 'tool_call'; text?: string; model?: string; usage?: TokenUsage;
      responseId?: string; requestId?: string; provider?: string;
    })
  | (Base & ToolIdentity & { kind: 'tool_call'; arguments?: string; responseId?: string; summary?: ToolSummary })
  /** a spawn call's result names the agent it created */
  | (Base & { kind: 'agent_spawned'; callId: string; threadId?: string; path?: string })
  | (Base & { kind: 'tool_output'; callId: string; output: unknown; result: ToolResultInfo; facts?: ToolCallFacts })
  /** an event that completes or describes a call: exec_command_end, patch_apply_end, item_completed … */
  | (Base & {
      kind: 'tool_result';
      callId: string;
      name?: string;
      toolKind?: ToolKind;
      result: ToolResultInfo;
      /** web_search_end / nested code-mode calls have no call item of their own */
      standalone?: boolean;
      content?: unknown;
    })
  | (Base & { kind: 'token_count'; total: TokenUsage; last: TokenUsage })
  | (Base & {
      kind: 'compaction'; remote: boolean; replacementItems?: number; windowNumber?: number; marker: boolean;
      /** how long it took, where recorded: the compaction ends at the event */
      durationMs?: number;
      tokensAfter?: number;
      facts?: CompactionFacts;
    })
  /** an event of a sub-agent whose work its parent's log records inline, spawned by the parent's call `callId` */
  | (Base & { kind: 'subagent_event'; agentId: string; callId?: string; event: RolloutEvent })
  /** an error the log records outside any tool call */
  | (Base & { kind: 'error'; message: string; errorType?: string })
  /** a moment of the thread as a whole */
  | (Base & { kind: 'thread_note'; note: Note })
  /** a moment of the open turn (of the thread when none is open) */
  | (Base & { kind: 'turn_note'; note: Note });

export interface DecodeWarning {
  line: number;
  type: string;
  message: string;
}
