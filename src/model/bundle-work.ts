import type { BundleEvent, EndStatus } from './bundle-events.js';
import type { CallState, CompactionState, ToolState, TurnState } from './bundle-state.js';
import { cutOffStatus, noteError, OTHER, turnStatus } from './outcome.js';
import { mergeResult, setFact, type ModelCall, type ToolCall } from './types.js';

// What each recorded report or end does to the piece of work it names, once the replay found it.
// Only failures fail: work Codex stopped (cancelled, aborted, declined, terminated) says so in an
// attribute and keeps its span's status unset.

type Ev<K extends BundleEvent['kind']> = Extract<BundleEvent, { kind: K }>;

/** A response Codex stopped reading (interrupt, preemption, its turn ended): not a failure. */
export function stopped(call: ModelCall, status: string, reason: string | undefined): void {
  setFact(call, 'status', status);
  setFact(call, 'cancelReason', reason);
}

/** A response still streaming when its turn ended was cut off: cancelled, a failure only when the turn failed. */
export function cutOff(c: CallState, turnStatus: EndStatus, time: number): void {
  c.open = false;
  c.call.end = time;
  const why = `the turn ended (${turnStatus}) before the response did`;
  const status = cutOffStatus(turnStatus);
  if (status === 'failed') {
    c.call.error = { type: 'failed', message: why };
    setFact(c.call, 'status', 'failed');
  } else stopped(c.call, status, why);
}

/**
 * What the protocol said about a turn: an abort keeps its reason; an error is an `exception` event
 * and fails the turn, unless it was aborted (a turn still running fails when it ends).
 */
export function turnOutcome(s: TurnState, e: Ev<'turn_outcome'>): void {
  const t = s.turn;
  if (e.abortReason) t.abortReason = e.abortReason;
  const error = e.error;
  if (!error) return;
  noteError(t.notes, e.time, error.type, error.message);
  if (t.errorMessage !== undefined) return;
  t.errorType = error.type ?? OTHER;
  t.errorMessage = error.message;
  if (s.ended) t.status = turnStatus(t.status, true);
}

export function endTool(s: ToolState, time: number, result: ToolCall['result']): void {
  s.open = false;
  s.tool.end = time;
  s.tool.incomplete = false;
  mergeResult(s.tool.result, result);
}

/** A protocol begin/end report of a running tool: its process, its agents, how it went. */
export function toolRuntime(s: ToolState, e: Ev<'tool_runtime'>): void {
  const tool = s.tool;
  mergeResult(tool.result, e.result);
  if (e.status === 'failed') mergeResult(tool.result, { success: false });
  const stop = e.protocolStatus === 'declined' ? 'declined' : e.status === 'cancelled' || e.status === 'aborted' ? e.status : undefined;
  setFact(tool, 'runtimeStatus', stop);
  if (e.spawnedThreadId) s.targetThreads.add(e.spawnedThreadId);
  for (const t of e.targetThreadIds ?? []) s.targetThreads.add(t);
  if (!s.terminalKind) return;
  const op = (tool.terminal ??= { operation: s.terminalKind, line: e.line, start: e.time, end: NaN });
  op.terminalId ??= e.terminalId;
  op.command ??= e.command;
  if (e.phase === 'end') {
    op.end = e.time;
    op.exitCode ??= e.result.exitCode;
    op.durationMs ??= e.result.durationMs;
  }
}

/**
 * The caller-facing end of a tool call. A cancelled or aborted call did not fail: the failure its
 * result tells is kept as `codex.tool.stop_reason`; an exit code stays (a non-zero one is a failure),
 * and so does a failure its runtime reported.
 */
export function toolEnd(s: ToolState, e: Ev<'tool_end'>): void {
  if (e.status === 'failed') endTool(s, e.time, { ...e.result, success: false });
  else if (e.status === 'completed') endTool(s, e.time, e.result);
  else {
    const { success, errorType, errorMessage, ...rest } = e.result;
    endTool(s, e.time, rest);
    setFact(s.tool, 'stopReason', errorMessage ?? (success === false ? errorType : undefined));
  }
  if (e.output !== undefined) s.tool.output = e.output;
  if (e.status !== 'completed') setFact(s.tool, 'status', e.status);
  // without runtime reports, the terminal operation is what the dispatch result says
  if (s.terminalKind) {
    const op = (s.tool.terminal ??= { operation: s.terminalKind, line: e.line, start: s.tool.start, end: NaN });
    if (Number.isNaN(op.end) && !e.result.stillRunning) op.end = e.time;
    op.exitCode ??= e.result.exitCode;
    if (e.result.stillRunning) op.stillRunning = true;
  }
}

/** A code cell's first or final response; a terminated cell was stopped, not failed. */
export function cellResponse(s: ToolState, e: Ev<'cell_response'>): void {
  if (!e.final) {
    setFact(s.tool, 'codeCellInitialStatus', e.status);
    if (e.status === 'completed' || e.status === 'failed' || e.status === 'terminated') s.provisionalEnd = e.time;
    return;
  }
  if (!s.open) return;
  endTool(s, e.time, e.status === 'failed' ? { success: false, errorType: 'script_failed', errorMessage: e.errorMessage } : {});
  setFact(s.tool, 'codeCellStatus', e.status);
  if (e.output !== undefined) s.tool.output = e.output;
}

/** A compaction's attempt or install; returns the request id of an end whose start was not recorded. */
export function compactionEvent(s: CompactionState, e: Ev<'compaction_request_start'> | Ev<'compaction_request_end'> | Ev<'compaction_installed'>): string | undefined {
  const c = s.compaction;
  if (e.kind === 'compaction_installed') {
    s.installedAt = e.time;
    c.replacementItems = e.replacementItems;
    setFact(c, 'inputItems', e.inputItems);
    s.turn.thread.compactedPending = true;
    return undefined;
  }
  let a = s.attempts.get(e.requestId);
  const unmatched = !a && e.kind === 'compaction_request_end' ? e.requestId : undefined;
  if (!a) {
    const provider = s.turn.thread.facts.provider ?? (e.kind === 'compaction_request_start' ? e.provider?.toLowerCase() : undefined);
    a = { attempt: { id: e.requestId, line: e.line, start: e.time, end: e.time, provider, model: e.kind === 'compaction_request_start' ? e.model : undefined }, open: true };
    c.attempts?.push(a.attempt);
    s.attempts.set(e.requestId, a);
  }
  if (e.kind === 'compaction_request_end' && a.open) {
    a.open = false;
    a.attempt.end = e.time;
    a.attempt.error = e.error;
  }
  return unmatched;
}
