import type { AgentAction, ThreadFacts } from './bundle-events.js';
import type { ThreadMeta } from './events.js';
import { emptyUsage, type AgentEdge, type Compaction, type CompactionAttempt, type ModelCall, type Thread, type ToolCall, type Turn } from './types.js';

// The working state of a bundle replay: the domain objects being filled in, and what is still open.

export interface ThreadState {
  thread: Thread;
  facts: ThreadFacts;
  turns: TurnState[];
  /** recorded end (`thread_ended`) */
  endedAt?: number;
  status?: string;
  /** a compaction was installed and no response has completed since */
  compactedPending: boolean;
  /** results of child agents delivered since the last model call */
  pendingResults: AgentEdge[];
  calls: number;
  compactions: number;
}

export interface TurnState {
  turn: Turn;
  thread: ThreadState;
  ended: boolean;
}

export interface CallState {
  call: ModelCall;
  turn: TurnState;
  open: boolean;
}

export interface ToolState {
  tool: ToolCall;
  turn: TurnState;
  open: boolean;
  terminalKind?: 'exec_command' | 'write_stdin';
  action?: AgentAction;
  targetPaths?: string[];
  targetThreads: Set<string>;
  /** a code cell's end from its first response, used when no later end is recorded */
  provisionalEnd?: number;
}

export interface CompactionState {
  compaction: Compaction;
  turn: TurnState;
  attempts: Map<string, { attempt: CompactionAttempt; open: boolean }>;
  installedAt?: number;
}

export function newThread(threadId: string, facts: ThreadFacts, time: number, line: number, path: string): ThreadState {
  const meta: ThreadMeta = {
    threadId,
    startTime: time,
    inferredTiming: false,
    agentPath: facts.agentPath,
    agentNickname: facts.nickname,
    agentRole: facts.role,
    parentThreadId: facts.parentThreadId,
    depth: facts.depth,
    source: facts.source,
    subagentKind: facts.subagentKind,
    cwd: facts.cwd,
    provider: facts.provider,
  };
  return {
    thread: { meta, path, line, start: time, end: time, turnCount: 0, usage: emptyUsage(), notes: [], copiedLines: 0 },
    facts, turns: [], compactedPending: false, pendingResults: [], calls: 0, compactions: 0,
  };
}

export function newTurn(ts: ThreadState, turnId: string | undefined, time: number, line: number): TurnState {
  const turn: Turn = {
    index: ts.turns.length, turnId, line, start: time, end: time, status: 'incomplete', implicit: turnId === undefined,
    model: ts.facts.model, cwd: ts.facts.cwd, approvalPolicy: ts.facts.approvalPolicy, sandboxPolicy: ts.facts.sandboxPolicy,
    usage: emptyUsage(), modelCalls: [], tools: [], compactions: [], notes: [],
  };
  const state: TurnState = { turn, thread: ts, ended: false };
  ts.turns.push(state);
  return state;
}
