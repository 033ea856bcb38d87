import { mergeSummary, type ThreadMeta, type TokenUsage, type ToolIdentity, type ToolResultInfo } from './events.js';

/**
 * Something that happened at one moment of a thread or turn, told by kind; `otel/` decides how it
 * reads on a span. Markers are recorded moments that carry nothing else.
 */
export type Note =
  | { kind: 'exception'; time: number; errorType: string; message: string }
  /** a user message sent while the turn ran */
  | { kind: 'steering'; time: number; length: number }
  | { kind: 'unmatched_turn_end'; time: number; turnId: string }
  | { kind: 'orphan_tool_output'; time: number; callId: string }
  /** a child agent's result delivered after the parent's last model call */
  | { kind: 'agent_result'; time: number; threadId: string; turnId?: string }
  /** `threadId` as the repeated header gave it, where the dialect reads one */
  | { kind: 'session_meta_repeated'; time: number; threadId?: string }
  | { kind: 'thread_rolled_back'; time: number; turns?: number }
  | { kind: 'thread_name_updated'; time: number; name: string }
  | { kind: 'marker'; time: number; name: MarkerName }
  /** a request that failed and was retried; noted on the model call that followed (else on the turn) */
  | { kind: 'api_retry'; time: number; statusCode?: number; errorType?: string; attempt?: number; maxRetries?: number; delayMs?: number }
  /** a hook (a user-configured command the agent runs at lifecycle points) failed */
  | { kind: 'hook_error'; time: number; hookEvent?: string; command?: string; message?: string };

export type MarkerName = 'entered_review_mode' | 'exited_review_mode' | 'undo_completed' | 'sub_agent_activity' | 'plan';

/** Lifecycle facts of a model call that only some inputs record (trace bundles), in the order they were learned. */
export interface ModelCallFacts {
  callId?: string;
  startMissing?: boolean;
  responseId?: string;
  upstreamRequestId?: string;
  lateEnd?: string;
  status?: string;
  cancelReason?: string;
}

export interface ToolCallFacts {
  codeModeToolId?: string;
  codeCellId?: string;
  dispatchId?: string;
  mcpCallId?: string;
  runtimeStatus?: string;
  stopReason?: string;
  status?: string;
  codeCellInitialStatus?: string;
  codeCellStatus?: string;
  /** from the call to the output the model was given, where both were recorded (ms) */
  modelWaitMs?: number;
}

export interface TurnFacts {
  recordedStatus?: string;
  /** model and tool calls past the per-turn limit: counted, not traced */
  untracedItems?: number;
  /** events past the per-turn limit (steering, errors, notes): counted, not kept */
  droppedNotes?: number;
}

export interface CompactionFacts {
  inputItems?: number;
  installed?: boolean;
  attempts?: number;
  /** micro-compaction: old tool results cleared, no summary */
  micro?: boolean;
  trigger?: string;
  tokensBefore?: number;
  tokensSaved?: number;
  clearedToolResults?: number;
}

export interface ThreadRecordFacts {
  /** notes past the limit of one thread (orphan outputs, errors outside turns): counted, not kept */
  droppedNotes?: number;
  recordedStartUnixMs?: number;
  status?: string;
  rolloutStatus?: string;
}

export interface ModelCall {
  /** position among the thread's model calls (stable identity) */
  index: number;
  line: number;
  start: number;
  end: number;
  model?: string;
  usage?: TokenUsage;
  compacted: boolean;
  input?: ContentPart[];
  output?: ContentPart[];
  /** the call's own recorded id, where the input has one: names its span instead of the position */
  id?: string;
  provider?: string;
  /** the call failed or was cancelled, as recorded */
  error?: { type: string; message?: string };
  /** no end was recorded: closed at the last recorded time */
  incomplete?: boolean;
  facts?: ModelCallFacts;
  /** other agents' work this call relates to (a child's result it delivered) */
  edges?: AgentEdge[];
  /** moments of the request: failed attempts before it succeeded */
  notes?: Note[];
}

export type ContentPart =
  | { type: 'text'; role: 'user' | 'assistant'; text: string }
  | { type: 'reasoning'; text: string }
  | { type: 'tool_call'; id?: string; name: string; arguments?: string }
  | { type: 'tool_result'; id: string; result: unknown };

export interface ToolCall extends ToolIdentity {
  /** call id as recorded, or `line:N` for items that carry none */
  key: string;
  line: number;
  start: number;
  end: number;
  /** true when no output or result was ever recorded */
  incomplete: boolean;
  result: ToolResultInfo;
  /** call key of the code-mode cell that made this call */
  parentKey?: string;
  arguments?: string;
  output?: unknown;
  /** the terminal (process) work the call did, where recorded */
  terminal?: TerminalOperation;
  facts?: ToolCallFacts;
  /** the agents this call addressed, by what the input records */
  edges?: AgentEdge[];
}

/** One command run in, or input written to, a terminal session on behalf of a tool call. */
export interface TerminalOperation {
  operation: 'exec_command' | 'write_stdin';
  terminalId?: string;
  line: number;
  start: number;
  end: number;
  exitCode?: number;
  durationMs?: number;
  /** the process went on after the call returned */
  stillRunning?: boolean;
  incomplete?: boolean;
  command?: string;
}

/** A multi-agent interaction: spawn, message, follow-up task, result, close … */
export interface AgentEdge {
  kind: string;
  threadId: string;
  /** the turn of that thread, when the interaction concerns one turn (a result) */
  turnId?: string;
}

/** One request to a remote compaction endpoint; a compaction may need several. */
export interface CompactionAttempt {
  id: string;
  line: number;
  start: number;
  end: number;
  model?: string;
  provider?: string;
  error?: string;
  incomplete?: boolean;
}

export interface Compaction {
  index: number;
  line: number;
  start: number;
  end: number;
  remote: boolean;
  replacementItems?: number;
  windowNumber?: number;
  tokensAfter?: number;
  /** recorded id, where the input has one */
  id?: string;
  attempts?: CompactionAttempt[];
  incomplete?: boolean;
  facts?: CompactionFacts;
}

export type TurnStatus = 'completed' | 'aborted' | 'failed' | 'incomplete';

export interface Turn {
  index: number;
  turnId?: string;
  rootTurnId?: string;
  line: number;
  start: number;
  end: number;
  status: TurnStatus;
  /** true when no task_started/task_complete marked it (older files) */
  implicit: boolean;
  abortReason?: string;
  errorType?: string;
  errorMessage?: string;
  model?: string;
  cwd?: string;
  approvalPolicy?: string;
  sandboxPolicy?: string;
  effort?: string;
  usage: TokenUsage;
  modelCalls: ModelCall[];
  tools: ToolCall[];
  compactions: Compaction[];
  notes: Note[];
  prompt?: string;
  /** no end was recorded: closed at the last recorded time */
  incomplete?: boolean;
  facts?: TurnFacts;
  /** sub-agents whose work the log records inline (not in files of their own) */
  agents?: EmbeddedAgent[];
}

/** A sub-agent recorded inside its parent's log, with the parent's call that spawned it. */
export interface EmbeddedAgent {
  thread: Thread;
  turns: Turn[];
  callKey?: string;
}

export interface Thread {
  meta: ThreadMeta;
  path: string;
  line: number;
  start: number;
  end: number;
  turnCount: number;
  usage: TokenUsage;
  notes: Note[];
  copiedLines: number;
  lastModel?: string;
  /** an error recorded outside any turn */
  error?: { type: string; message: string };
  /** no end was recorded: closed at the last recorded time */
  incomplete?: boolean;
  facts?: ThreadRecordFacts;
}

/**
 * A response recorded over several lines repeats its usage, growing as it streams: each count is the
 * largest recorded, never a sum.
 */
export function largestUsage(a: TokenUsage, b: TokenUsage): TokenUsage {
  const u: TokenUsage = {
    input: Math.max(a.input, b.input), cachedInput: Math.max(a.cachedInput, b.cachedInput), output: Math.max(a.output, b.output),
    reasoningOutput: Math.max(a.reasoningOutput, b.reasoningOutput), total: 0,
  };
  if (a.cacheWriteInput !== undefined || b.cacheWriteInput !== undefined) u.cacheWriteInput = Math.max(a.cacheWriteInput ?? 0, b.cacheWriteInput ?? 0);
  u.total = u.input + u.output;
  return u;
}

export function emptyUsage(): TokenUsage {
  return { input: 0, cachedInput: 0, output: 0, reasoningOutput: 0, total: 0 };
}

export function addUsage(into: TokenUsage, u: TokenUsage): void {
  into.input += u.input;
  into.cachedInput += u.cachedInput;
  into.output += u.output;
  into.reasoningOutput += u.reasoningOutput;
  into.total += u.total;
  if (u.cacheWriteInput !== undefined) into.cacheWriteInput = (into.cacheWriteInput ?? 0) + u.cacheWriteInput;
}

/** Records a fact, keeping the order facts were first learned in. */
export function setFact<F extends object, K extends keyof F>(target: { facts?: F }, key: K, value: F[K] | undefined): void {
  if (value === undefined) return;
  target.facts = { ...target.facts, [key]: value } as F;
}

/** Fills what `into` does not know yet from `from`; a failure is kept whichever side reports it. */
export function mergeResult(into: ToolResultInfo, from: ToolResultInfo): void {
  const target = into as Record<string, unknown>;
  const source = from as Record<string, unknown>;
  for (const k in source) {
    if (!Object.prototype.hasOwnProperty.call(source, k)) continue;
    const v = source[k];
    if (v !== undefined && target[k] === undefined) target[k] = v;
  }
  // a summary is merged field by field: the call tells the program, the end event its kind
  if (from.summary && into.summary !== from.summary) into.summary = mergeSummary(into.summary, from.summary);
  if (from.success === false) into.success = false;
}

/** Where a thread sits in its agent tree, as far as is known. */
export interface Placement {
  /** root thread of the tree: names the trace */
  rootThreadId: string;
  conversationId: string;
  /** the call that spawned this thread; only the parent thread when the call is unknown */
  spawnedBy?: { threadId: string; callKey?: string };
  /** why the parent is not the spawning call */
  parentNote?: string;
  /** calls in the parent that addressed this agent after spawning it */
  addressedBy?: { threadId: string; callKey: string }[];
  /** the OTel trace id, when the input names its trace itself (a trace bundle) */
  traceId?: string;
}
