import type { BundleEvent } from './bundle-events.js';
import { closeBundle, type AssembledBundle } from './bundle-finish.js';
import {
  newThread, newTurn,
  type CallState, type CompactionState, type ThreadState, type ToolState, type TurnState,
} from './bundle-state.js';
import { cellResponse, compactionEvent, cutOff, endTool, stopped, toolEnd, toolRuntime, turnOutcome } from './bundle-work.js';
import type { DecodeWarning } from './events.js';
import { turnStatus } from './outcome.js';
import { newModelCall, newToolCall } from './shapes.js';
import { setFact, type Compaction, type TurnStatus } from './types.js';

type Ev<K extends BundleEvent['kind']> = Extract<BundleEvent, { kind: K }>;

/**
 * Replays the explicit lifecycle of a bundle (every piece of work has a start and an end carrying
 * its own id, several threads in one log) into the same threads, turns, model calls, tool calls
 * and compactions the rollout assembler builds. Feed events in `seq` order, then `finish`.
 */
export class BundleAssembler {
  readonly problems: DecodeWarning[] = [];
  private readonly threads = new Map<string, ThreadState>();
  private readonly turns = new Map<string, TurnState>();
  private readonly calls = new Map<string, CallState>();
  private readonly tools = new Map<string, ToolState>();
  private readonly cells = new Map<string, ToolState>();
  private readonly compactions = new Map<string, CompactionState>();
  private lastTime = -Infinity;
  private traceId: string | undefined;
  private rootThreadId: string | undefined;
  private rolloutStatus: string | undefined;

  constructor(private readonly path: string, recorded: { traceId?: string; rootThreadId?: string } = {}) {
    this.traceId = recorded.traceId;
    this.rootThreadId = recorded.rootThreadId;
  }

  get threadCount(): number {
    return this.threads.size;
  }

  push(e: BundleEvent): void {
    if (e.time > this.lastTime) this.lastTime = e.time;
    switch (e.kind) {
      case 'rollout_start':
        this.traceId ??= e.traceId;
        this.rootThreadId ??= e.rootThreadId;
        return;
      case 'rollout_end':
        this.rolloutStatus = e.status;
        return;
      case 'thread_start': {
        const known = this.threads.get(e.threadId);
        if (known) return this.problem(e, 'duplicate-start', `thread ${e.threadId} started twice`);
        this.threads.set(e.threadId, newThread(e.threadId, e.facts, e.time, e.line, this.path));
        return;
      }
      case 'thread_end': {
        const ts = this.threads.get(e.threadId);
        if (!ts) return this.problem(e, 'unmatched-end', `thread ${e.threadId} ended but never started`);
        ts.endedAt = e.time;
        ts.status = e.status;
        return;
      }
      case 'turn_start':
        return this.turnStart(e);
      case 'turn_end':
        return this.turnEnd(e);
      case 'turn_outcome':
        return this.turnOutcome(e);
      case 'inference_start':
        return this.inferenceStart(e);
      case 'inference_end':
        return this.inferenceEnd(e);
      case 'tool_start':
        return this.toolStart(e);
      case 'mcp_assigned': {
        const s = this.tools.get(e.toolCallId);
        if (!s) return this.problem(e, 'unmatched-event', `MCP call assigned to unknown tool call ${e.toolCallId}`);
        s.tool.toolKind = 'mcp';
        s.tool.mcp ??= e.mcp;
        setFact(s.tool, 'mcpCallId', e.mcpCallId);
        return;
      }
      case 'tool_runtime':
        return this.toolRuntime(e);
      case 'tool_end':
        return this.toolEnd(e);
      case 'cell_start':
        return this.cellStart(e);
      case 'cell_response':
        return this.cellResponse(e);
      case 'compaction_request_start':
      case 'compaction_request_end':
      case 'compaction_installed':
        return this.compaction(e);
      case 'agent_result': {
        const parent = this.threads.get(e.parentThreadId);
        if (!parent) return this.problem(e, 'unmatched-event', `agent result for unknown parent thread ${e.parentThreadId}`);
        parent.pendingResults.push({ kind: 'agent_result', threadId: e.childThreadId, turnId: e.childTurnId });
        return;
      }
    }
  }

  /** Closes what never ended at the last recorded time and places every thread in the agent tree. */
  finish(): AssembledBundle {
    return closeBundle({
      threads: this.threads, turns: this.turns, calls: [...this.calls.values()], tools: [...this.tools.values()], cells: [...this.cells.values()],
      compactions: [...this.compactions.values()], lastTime: this.lastTime,
      traceId: this.traceId, rootThreadId: this.rootThreadId, rolloutStatus: this.rolloutStatus,
    });
  }

  private turnStart(e: Ev<'turn_start'>): void {
    const ts = this.threadFor(e);
    if (!ts) return this.problem(e, 'unknown-thread', `turn ${e.turnId} names no known thread`);
    if (this.turns.has(e.turnId)) return this.problem(e, 'duplicate-start', `turn ${e.turnId} started twice`);
    this.turns.set(e.turnId, newTurn(ts, e.turnId, e.time, e.line));
  }

  private turnEnd(e: Ev<'turn_end'>): void {
    const s = this.turns.get(e.turnId);
    if (!s) return this.problem(e, 'unmatched-end', `turn ${e.turnId} ended but never started`);
    if (s.ended) return this.problem(e, 'duplicate-end', `turn ${e.turnId} ended twice`);
    s.ended = true;
    s.turn.end = e.time;
    // a turn that completed after an error was recorded failed
    const ended: TurnStatus = e.status === 'completed' || e.status === 'failed' ? e.status : 'aborted';
    s.turn.status = turnStatus(ended, s.turn.errorMessage !== undefined);
    if (e.status !== 'completed') setFact(s.turn, 'recordedStatus', e.status);
    // A response still streaming when its turn ends was cut off: cancelled, a failure only when the
    // turn failed. A cell still running is terminated too (not a failure), unless the turn
    // completed (a yielded cell may outlive it).
    for (const c of this.calls.values()) if (c.turn === s && c.open) cutOff(c, e.status, e.time);
    if (e.status === 'completed') return;
    for (const cell of this.cells.values()) {
      if (cell.turn !== s || !cell.open) continue;
      endTool(cell, e.time, {});
      setFact(cell.tool, 'codeCellStatus', 'terminated');
    }
  }

  private turnOutcome(e: Ev<'turn_outcome'>): void {
    const s = this.turns.get(e.turnId);
    if (s) turnOutcome(s, e);
    else if (e.error) this.problem(e, 'unmatched-event', `error for unknown turn ${e.turnId}: ${e.error.message}`);
  }

  private inferenceStart(e: Ev<'inference_start'>): void {
    const turn = this.turnFor(e, 'model call');
    if (!turn) return;
    if (this.calls.has(e.callId)) return this.problem(e, 'duplicate-start', `inference ${e.callId} started twice`);
    const ts = turn.thread;
    const call = newModelCall(ts.calls++, e.line, e.time, e.model, undefined, false);
    call.id = e.callId;
    call.provider = ts.facts.provider ?? e.provider?.toLowerCase();
    call.input = e.input;
    call.facts = { callId: e.callId };
    call.edges = ts.pendingResults.length ? ts.pendingResults.splice(0) : undefined;
    turn.turn.modelCalls.push(call);
    this.calls.set(e.callId, { call, turn, open: true });
  }

  private inferenceEnd(e: Ev<'inference_end'>): void {
    let s = this.calls.get(e.callId);
    if (!s) {
      // The producer skips a start whose payload could not be written, but may still record the end.
      this.problem(e, 'unmatched-end', `inference ${e.callId} ended but its start was not recorded`);
      this.inferenceStart({ ...e, kind: 'inference_start' });
      s = this.calls.get(e.callId);
      if (!s) return;
      setFact(s.call, 'startMissing', true);
    }
    const call = s.call;
    call.usage ??= e.usage;
    if (e.output) call.output = e.output;
    setFact(call, 'responseId', e.responseId);
    setFact(call, 'upstreamRequestId', e.upstreamRequestId);
    if (!s.open) {
      // the turn ended first: its status stands, the late evidence is kept
      setFact(call, 'lateEnd', e.status);
      return;
    }
    s.open = false;
    call.end = e.time;
    if (e.status === 'failed') {
      call.error = { type: e.status, message: e.error };
      setFact(call, 'status', e.status);
    } else if (e.status === 'cancelled') stopped(call, e.status, e.reason);
    else if (s.turn.thread.compactedPending) {
      call.compacted = true;
      s.turn.thread.compactedPending = false;
    }
  }

  private toolStart(e: Ev<'tool_start'>): void {
    const cell = e.cellId !== undefined ? this.cellFor(e.threadId, e.cellId) : undefined;
    // calls a code cell makes belong under the cell, in the cell's turn
    const turn = cell?.turn ?? this.turnFor(e, 'tool call');
    if (!turn) return;
    let key = e.toolCallId;
    if (this.tools.has(key)) {
      this.problem(e, 'duplicate-start', `tool call ${key} started twice`);
      key = `${key}@${e.line}`;
    }
    const tool = newToolCall(key, { callId: e.modelCallId ?? e.toolCallId, name: e.name, namespace: e.namespace, toolKind: e.toolKind, mcp: e.mcp }, e.line, e.time, cell?.tool.key, true);
    tool.arguments = e.arguments;
    setFact(tool, 'codeModeToolId', e.codeModeToolId);
    if (e.terminal === 'write_stdin') tool.terminal = { operation: 'write_stdin', terminalId: e.terminalId, line: e.line, start: e.time, end: NaN };
    if (e.toolCallId !== tool.callId) setFact(tool, 'dispatchId', e.toolCallId);
    turn.turn.tools.push(tool);
    this.tools.set(key, { tool, turn, open: true, terminalKind: e.terminal, action: e.agentAction, targetPaths: e.targetPaths, targetThreads: new Set() });
  }

  private toolRuntime(e: Ev<'tool_runtime'>): void {
    const s = this.tools.get(e.toolCallId);
    if (!s) return this.problem(e, 'unmatched-event', `runtime event for unknown tool call ${e.toolCallId}`);
    toolRuntime(s, e);
  }

  private toolEnd(e: Ev<'tool_end'>): void {
    const s = this.tools.get(e.toolCallId);
    if (!s) return this.problem(e, 'unmatched-end', `tool call ${e.toolCallId} ended but never started`);
    if (!s.open) return this.problem(e, 'duplicate-end', `tool call ${e.toolCallId} ended twice`);
    toolEnd(s, e);
  }

  private cellStart(e: Ev<'cell_start'>): void {
    const turn = this.turnFor(e, 'code cell');
    if (!turn) return;
    const tool = newToolCall(`code_cell:${e.modelCallId}`, { callId: e.modelCallId, name: 'exec', toolKind: 'custom' }, e.line, e.time, undefined, true);
    tool.arguments = e.source;
    setFact(tool, 'codeCellId', e.cellId);
    turn.turn.tools.push(tool);
    this.cells.set(`${turn.thread.thread.meta.threadId}/${e.cellId}`, { tool, turn, open: true, targetThreads: new Set() });
  }

  private cellResponse(e: Ev<'cell_response'>): void {
    const s = this.cellFor(e.threadId, e.cellId);
    if (!s) return this.problem(e, 'unmatched-event', `response of unknown code cell ${e.cellId}`);
    cellResponse(s, e);
  }

  private compaction(e: Ev<'compaction_request_start'> | Ev<'compaction_request_end'> | Ev<'compaction_installed'>): void {
    let s = this.compactions.get(e.compactionId);
    if (!s) {
      const turn = this.turnFor(e, 'compaction');
      if (!turn) return;
      const ts = turn.thread;
      const compaction: Compaction = { index: ts.compactions++, id: e.compactionId, line: e.line, start: e.time, end: e.time, remote: true, attempts: [] };
      turn.turn.compactions.push(compaction);
      s = { compaction, turn, attempts: new Map() };
      this.compactions.set(e.compactionId, s);
    }
    const unmatched = compactionEvent(s, e);
    if (unmatched) this.problem(e, 'unmatched-end', `compaction request ${unmatched} ended but never started`);
  }

  /** The turn an event belongs to: the one it names, else its thread's latest (an implicit one if none). */
  private turnFor(e: BundleEvent, what: string): TurnState | undefined {
    const named = e.turnId !== undefined ? this.turns.get(e.turnId) : undefined;
    if (named) return named;
    const ts = this.threadFor(e);
    if (!ts) {
      this.problem(e, 'unknown-thread', `${what} in no known thread or turn`);
      return undefined;
    }
    this.problem(e, 'unknown-turn', `${what} in ${e.turnId ? `unknown turn ${e.turnId}` : 'no turn'}; placed in the thread's latest turn`);
    return ts.turns.at(-1) ?? newTurn(ts, undefined, e.time, e.line);
  }

  /** The thread an event names; one that never started is taken as started here. */
  private threadFor(e: BundleEvent): ThreadState | undefined {
    const id = e.threadId ?? (e.turnId !== undefined ? this.turns.get(e.turnId)?.thread.thread.meta.threadId : undefined);
    if (id === undefined) return undefined;
    let ts = this.threads.get(id);
    if (!ts) {
      this.problem(e, 'unknown-thread', `thread ${id} was not started; taken as started here`);
      ts = newThread(id, {}, e.time, e.line, this.path);
      this.threads.set(id, ts);
    }
    return ts;
  }

  /** Cell ids are unique per thread only; events without a thread fall back to the latest cell of that id. */
  private cellFor(threadId: string | undefined, cellId: string): ToolState | undefined {
    if (threadId !== undefined) return this.cells.get(`${threadId}/${cellId}`);
    return [...this.cells.entries()].reverse().find(([k]) => k.endsWith(`/${cellId}`))?.[1];
  }

  private problem(e: { line: number }, type: string, message: string): void {
    this.problems.push({ line: e.line, type, message });
  }
}
