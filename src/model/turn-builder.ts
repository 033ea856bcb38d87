import { mergeSummary, type RolloutEvent, type TokenUsage, type ToolIdentity } from './events.js';
import { noteError, OTHER, turnStatus, type Failure } from './outcome.js';
import { newModelCall, newPendingTool as newTool, newToolCall, type PendingTool as ToolState } from './shapes.js';
import { addUsage, emptyUsage, largestUsage, mergeResult, setFact, type Compaction, type ContentPart, type EmbeddedAgent, type ModelCall, type Note, type ToolCall, type Turn, type TurnFacts, type TurnStatus } from './types.js';

/**
 * What one turn holds at most: model and tool calls (with the output runs and compactions between
 * them), and notes. Real turns hold hundreds; a turn is kept whole until it closes, so a log with
 * millions of calls in one turn must not hold them all: past the limit they are counted.
 */
export const MAX_TURN_ITEMS = 10_000;
export const MAX_TURN_NOTES = 1_000;

type Ev<K extends RolloutEvent['kind']> = Extract<RolloutEvent, { kind: K }>;

/** A run of model output items with no input between them: one model response's visible work. */
interface OutputGroup {
  start: number;
  end: number;
  line: number;
  claimed: boolean;
  input: ContentPart[];
  output: ContentPart[];
  /** usage and model recorded on the output items themselves (generic logs) */
  usage?: TokenUsage;
  model?: string;
}

interface PendingCall {
  call: ModelCall;
  group?: OutputGroup;
  fallbackStart: number;
  fallbackEnd: number;
}

export interface TurnContextState {
  model?: string;
  cwd?: string;
  approvalPolicy?: string;
  sandboxPolicy?: string;
  effort?: string;
}

/**
 * Collects one turn's events. Model calls are the token_count events that carry new usage; their
 * times come from the output items around them, which may be written before or after the count.
 */
export class TurnBuilder {
  readonly notes: Note[] = [];
  private readonly groups: OutputGroup[] = [];
  private openGroup: OutputGroup | undefined;
  private nextGroup = 0;
  private readonly calls: PendingCall[] = [];
  /** calls recorded over several lines, by their response id */
  private readonly responses = new Map<string, PendingCall & { group: OutputGroup }>();
  private lastResponse: (PendingCall & { group: OutputGroup }) | undefined;
  /** failed attempts not yet followed by a model call */
  private retries: Note[] = [];
  private readonly tools = new Map<string, ToolState>();
  private readonly compactions: Compaction[] = [];
  private lastInput: number;
  private lastTime: number;
  private pendingInput: ContentPart[] = [];
  private lastExecCell: string | undefined;
  prompt: string | undefined;
  ctx: TurnContextState = {};
  turnId: string | undefined;
  rootTurnId: string | undefined;

  constructor(
    readonly index: number,
    readonly line: number,
    readonly startEvidence: number,
    private readonly lowerBound: number,
    readonly implicit: boolean,
    private readonly keepContent: boolean,
  ) {
    this.lastInput = Math.max(startEvidence, lowerBound);
    this.lastTime = this.lastInput;
  }

  get lastEventTime(): number {
    return this.lastTime;
  }

  /** calls past MAX_TURN_ITEMS, counted, not traced */
  untraced = 0;
  facts: TurnFacts | undefined;
  private droppedNotes = 0;

  /** holds MAX_TURN_ITEMS calls, output runs and compactions: what would add one is counted instead */
  get full(): boolean {
    return this.tools.size + this.calls.length + this.groups.length + this.compactions.length >= MAX_TURN_ITEMS;
  }

  private keep(n: Note): void {
    if (this.notes.length < MAX_TURN_NOTES) this.notes.push(n);
    else this.droppedNotes++;
  }

  touch(time: number): void {
    if (time > this.lastTime) this.lastTime = time;
  }

  userMessage(e: Ev<'user_message'>): void {
    if (this.prompt === undefined) this.prompt = e.text;
    else this.keep({ kind: 'steering', time: e.time, length: e.text.length });
    this.input(e.time, this.keepContent ? { type: 'text', role: 'user', text: e.text } : undefined);
  }

  modelOutput(time: number, line: number, part?: ContentPart, recorded?: { usage?: TokenUsage; model?: string }): void {
    let g = this.openGroup;
    if (!g) {
      g = { start: this.lastInput, end: time, line, claimed: false, input: this.pendingInput, output: [] };
      this.pendingInput = [];
      this.groups.push(g);
      this.openGroup = g;
      const waiting = this.calls.find((c) => !c.group && c.call.usage);
      if (waiting && this.nextGroup === this.groups.length - 1) this.claim(waiting, this.nextGroup);
    }
    if (time > g.end) g.end = time;
    if (part && this.keepContent) g.output.push(part);
    if (recorded?.usage) addUsage((g.usage ??= emptyUsage()), recorded.usage);
    if (recorded?.model) g.model ??= recorded.model;
  }

  modelCall(call: ModelCall, time: number): void {
    const pending: PendingCall = { call, fallbackStart: this.lastInput, fallbackEnd: time };
    this.calls.push(pending);
    const idx = this.groups.findIndex((g, i) => i >= this.nextGroup && !g.claimed);
    if (idx >= 0) this.claim(pending, idx);
  }

  /**
   * A line of a response recorded over several lines sharing its id: the first opens the call (from
   * the input that prompted it), the others extend it; usage is the largest recorded, never summed.
   */
  response(e: Ev<'model_output'> & { responseId: string }, part: ContentPart | undefined, open: () => ModelCall): void {
    let p = this.responses.get(e.responseId);
    if (!p) {
      const call = open();
      call.id = e.responseId;
      call.provider = e.provider;
      setFact(call, 'responseId', e.responseId);
      setFact(call, 'upstreamRequestId', e.requestId);
      if (this.retries.length > 0) {
        call.notes = this.retries;
        this.retries = [];
      }
      // a response cannot start before the one still being written when its input came
      const start = Math.max(this.lastInput, this.lastResponse?.group.end ?? -Infinity);
      const group: OutputGroup = { start, end: e.time, line: e.line, claimed: true, input: this.pendingInput, output: [] };
      this.pendingInput = [];
      p = { call, group, fallbackStart: group.start, fallbackEnd: e.time };
      this.lastResponse = p;
      this.responses.set(e.responseId, p);
      this.calls.push(p);
    } else {
      if (e.time > p.group.end) p.group.end = e.time;
      if (e.usage) p.call.usage = p.call.usage ? largestUsage(p.call.usage, e.usage) : e.usage;
      p.call.model ??= e.model;
    }
    if (part && this.keepContent) p.group.output.push(part);
  }

  toolCall(e: Ev<'tool_call'>, key: string): void {
    const parentKey = key.startsWith('exec-') ? this.lastExecCell : undefined;
    const tool = newTool(key, e, e.line, e.time, parentKey, true);
    tool.arguments = this.keepContent ? e.arguments : undefined;
    tool.result.summary = e.summary;
    this.tools.set(key, tool);
    if (key !== e.callId && e.callId !== undefined) (this.repeats.get(e.callId) ?? this.repeats.set(e.callId, []).get(e.callId)!).push(tool);
    if (e.toolKind === 'custom' && e.name === 'exec') this.lastExecCell = key;
    const part: ContentPart | undefined = this.keepContent ? { type: 'tool_call', id: e.callId, name: e.name, arguments: e.arguments } : undefined;
    const response = e.responseId !== undefined ? this.responses.get(e.responseId) : undefined;
    if (!response) return this.modelOutput(e.time, e.line, part);
    if (e.time > response.group.end) response.group.end = e.time;
    if (part) response.group.output.push(part);
  }

  /** web_search_call items carry no call id: pair them with a web_search_end seen before them. */
  takeUnpairedSearch(): ToolState | undefined {
    for (const t of this.tools.values()) {
      if (t.toolKind === 'web_search' && t.callId && !t.callId.startsWith('exec-') && t.key === t.callId && t.searchItemSeen !== true) {
        return t;
      }
    }
    return undefined;
  }

  pairSearch(t: ToolState, e: Ev<'tool_call'>): void {
    t.searchItemSeen = true;
    t.result.summary = mergeSummary(t.result.summary, e.summary);
    t.start = Math.min(t.callTime, e.time);
    t.callTime = t.start;
    t.outputTime = Math.max(t.resultTime ?? e.time, e.time);
    this.modelOutput(e.time, e.line, this.keepContent ? { type: 'tool_call', id: t.callId, name: 'web_search', arguments: e.arguments } : undefined);
  }

  /** The call an output or result of `callId` belongs to: the first of that id still waiting for one. */
  private callFor(callId: string, waiting: (t: ToolState) => boolean): ToolState | undefined {
    const first = this.tools.get(callId);
    const again = this.repeats.get(callId);
    if (!again || (first && waiting(first))) return first;
    return again.find(waiting) ?? again.at(-1);
  }
  /** calls whose id was used before in the thread, by that id, in order */
  private readonly repeats = new Map<string, ToolState[]>();

  toolOutput(e: Ev<'tool_output'>): boolean {
    const t = this.callFor(e.callId, (c) => c.outputTime === undefined);
    if (!t) return false;
    t.outputTime = e.time;
    t.incomplete = false;
    mergeResult(t.result, e.result);
    if (e.facts) t.facts = { ...t.facts, ...e.facts };
    if (this.keepContent) t.output = e.output;
    this.input(e.time, this.keepContent ? { type: 'tool_result', id: e.callId, result: e.output } : undefined);
    return true;
  }

  knowsResponse(responseId: string): boolean {
    return this.responses.has(responseId);
  }

  knows(callId: string): boolean {
    return this.tools.has(callId) || this.repeats.has(callId);
  }

  /** `newKey` names the span when the result belongs to no call item seen in this turn. */
  toolResult(e: Ev<'tool_result'>, previousLineTime: number, newKey: string): void {
    let t = this.callFor(e.callId, (c) => c.resultTime === undefined);
    if (!t) {
      // Nested code-mode calls and server-side searches have no call item of their own.
      const parentKey = e.callId.startsWith('exec-') ? this.lastExecCell : undefined;
      const parent = parentKey ? this.tools.get(parentKey) : undefined;
      const start = Math.max(previousLineTime, parent?.callTime ?? -Infinity, this.lastInput);
      t = newTool(newKey, { callId: e.callId, name: e.name ?? 'unknown', toolKind: e.toolKind ?? 'function' }, e.line, start, parentKey, false);
      t.end = e.time;
      t.outputTime = e.standalone ? e.time : undefined;
      this.tools.set(e.callId, t);
    }
    t.resultTime = e.time;
    t.incomplete = false;
    if (e.standalone && t.outputTime === undefined) t.outputTime = e.time;
    if (e.toolKind === 'mcp') t.toolKind = 'mcp';
    // what an end event recorded of the work itself wins over what the call or its output said
    if (e.result.durationMs !== undefined) t.result.durationMs = e.result.durationMs;
    if (e.result.summary) t.result.summary = mergeSummary({ ...e.result.summary }, t.result.summary);
    mergeResult(t.result, e.result);
    if (this.keepContent && t.output === undefined && e.content !== undefined) t.output = e.content;
  }

  /** Returns false when the event repeats the compaction just recorded (a marker event beside the `compacted` line). */
  compaction(c: Compaction, marker: boolean): boolean {
    const last = this.compactions.at(-1);
    const adjacent = last !== undefined && this.groups.length === this.groupsAtCompaction;
    if (adjacent && marker) return false;
    if (adjacent && this.fromMarker.has(last)) {
      this.fromMarker.delete(last);
      Object.assign(last, { ...c, index: last.index, start: last.start });
      return false;
    }
    this.compactions.push(c);
    if (marker) this.fromMarker.add(c);
    this.groupsAtCompaction = this.groups.length;
    return true;
  }
  private groupsAtCompaction = -1;
  private readonly fromMarker = new Set<Compaction>();

  /** The token estimate that follows a compaction is the size of the new context. */
  compactionEstimate(tokens: number): void {
    const last = this.compactions.at(-1);
    if (last && last.tokensAfter === undefined && this.groups.length === this.groupsAtCompaction) last.tokensAfter = tokens;
  }

  note(n: Note): void {
    if (n.kind === 'api_retry' && this.retries.length < MAX_TURN_NOTES) this.retries.push(n);
    else if (n.kind === 'api_retry') this.droppedNotes++;
    else this.keep(n);
  }

  /** sub-agents recorded inline that worked during this turn */
  agents: EmbeddedAgent[] | undefined;

  /** An error recorded inside the turn, or with its end: the turn fails unless it was aborted. */
  error(e: { time: number; errorType?: string; message?: string }): void {
    this.failure ??= { type: e.errorType ?? OTHER, message: e.message };
    if (this.notes.length < MAX_TURN_NOTES) noteError(this.notes, e.time, e.errorType, e.message ?? '');
    else this.droppedNotes++;
  }
  private failure: Failure | undefined;

  finish(end: {
    time: number;
    status: TurnStatus;
    abortReason?: string;
    startedAtMs?: number;
    durationMs?: number;
    inferredCalls: boolean;
    nextCallIndex: () => number;
    model?: string;
  }): Turn {
    const turnEnd = Math.max(end.time, this.lastTime);
    let start = this.startEvidence;
    if (end.startedAtMs !== undefined) start = Math.min(start, end.startedAtMs);
    if (end.durationMs !== undefined) start = Math.min(start, end.time - end.durationMs);
    start = Math.max(start, this.lowerBound);
    const clamp = (t: number) => Math.min(Math.max(t, start), turnEnd);

    if (end.inferredCalls) {
      for (const g of this.groups) {
        this.calls.push({ call: newModelCall(end.nextCallIndex(), g.line, 0, g.model ?? this.ctx.model ?? end.model, g.usage, false), group: g, fallbackStart: g.start, fallbackEnd: g.end });
      }
    }
    const usage = emptyUsage();
    // Lists are filled from a literal, not made by map(): arrays made at one site share one elements
    // kind, empty or not, where map() gives an empty list another hidden class than a full one, and
    // the optimized code that reads turns is thrown away each time it meets the other kind.
    const modelCalls: ModelCall[] = [];
    for (const { call, group, fallbackStart, fallbackEnd } of this.calls) {
      call.start = clamp(group?.start ?? fallbackStart);
      call.end = clamp(group?.end ?? fallbackEnd);
      if (group && group.line < call.line) call.line = group.line;
      if (this.keepContent && group) {
        call.input = group.input;
        call.output = group.output;
      }
      if (call.usage) addUsage(usage, call.usage);
      modelCalls.push(call);
    }

    const tools: ToolCall[] = [];
    const byKey = new Map<string, ToolCall>();
    for (const t of this.tools.values()) {
      const tool = finishTool(t, turnEnd);
      tools.push(tool);
      byKey.set(tool.key, tool);
    }
    // A code cell keeps running after it yields; it lasts at least until its nested calls end.
    for (const t of tools) {
      const parent = t.parentKey ? byKey.get(t.parentKey) : undefined;
      if (parent && t.end > parent.end) parent.end = t.end;
    }
    for (const t of tools) {
      t.start = clamp(t.start);
      t.end = clamp(t.end);
      const parent = t.parentKey ? byKey.get(t.parentKey) : undefined;
      if (parent) t.start = Math.max(t.start, parent.start);
      if (parent && t.parentKey === t.key) t.parentKey = undefined;
    }
    for (const c of this.compactions) {
      c.start = clamp(c.start);
      c.end = clamp(c.end);
    }
    // failed attempts that no model call followed belong to the turn
    for (const r of this.retries.splice(0)) this.keep(r);
    if (this.untraced > 0) setFact(this, 'untracedItems', this.untraced);
    if (this.droppedNotes > 0) setFact(this, 'droppedNotes', this.droppedNotes);
    const model = modelCalls.find((c) => c.model)?.model ?? this.ctx.model ?? end.model;
    const status = turnStatus(end.status, this.failure !== undefined);
    const failed = status === 'failed' ? this.failure : undefined;
    return {
      index: this.index,
      turnId: this.turnId,
      rootTurnId: this.rootTurnId,
      line: this.line,
      start,
      end: turnEnd,
      status,
      implicit: this.implicit,
      abortReason: end.abortReason,
      errorType: failed?.type,
      errorMessage: failed?.message,
      model,
      cwd: this.ctx.cwd,
      approvalPolicy: this.ctx.approvalPolicy,
      sandboxPolicy: this.ctx.sandboxPolicy,
      effort: this.ctx.effort,
      usage,
      modelCalls,
      tools,
      compactions: this.compactions,
      notes: this.notes,
      prompt: this.keepContent ? this.prompt : undefined,
      facts: this.facts,
      agents: this.agents,
    };
  }

  private input(time: number, part: ContentPart | undefined): void {
    this.openGroup = undefined;
    this.lastInput = time;
    // a full turn opens no more model calls: nothing would take this input
    if (part && !this.full) this.pendingInput.push(part);
  }

  private claim(pending: PendingCall, idx: number): void {
    const g = this.groups[idx];
    if (!g) return;
    g.claimed = true;
    pending.group = g;
    this.nextGroup = idx + 1;
  }
}

/**
 * A tool span covers the work as recorded: the item's own start and end; else the recorded
 * duration ending at the end event that reported it (a process that outlived Codex's wait ends
 * there, not at the output); else from the call to its output, stretched to a longer duration
 * the output gives. How long the model waited for the output is kept apart (`modelWaitMs`).
 */
function finishTool(t: ToolState, turnEnd: number): ToolCall {
  const r = t.result;
  const waitEnd = t.outputTime ?? t.resultTime;
  let start = t.callTime;
  let end = waitEnd ?? turnEnd;
  if (r.startedAtMs !== undefined && r.completedAtMs !== undefined && r.completedAtMs >= r.startedAtMs) {
    start = r.startedAtMs;
    end = r.completedAtMs;
  } else if (r.durationMs !== undefined) {
    const ended = r.completedAtMs ?? t.resultTime;
    if (ended !== undefined && ended >= start) {
      end = ended;
      start = Math.max(start, ended - r.durationMs);
    } else if (end - start < r.durationMs) {
      // Older Codex wrote a call and its output in one batch after the tool ran.
      end = start + r.durationMs;
    }
  }
  const tool = newToolCall(t.key, t, t.line, start, t.parentKey, t.incomplete);
  tool.end = Math.max(end, start);
  tool.result = t.result;
  tool.arguments = t.arguments;
  tool.output = t.output;
  tool.terminal = t.terminal;
  tool.facts = t.facts;
  if (waitEnd !== undefined && waitEnd >= t.callTime) setFact(tool, 'modelWaitMs', waitEnd - t.callTime);
  tool.edges = t.edges;
  return tool;
}


export function isEstimate(u: TokenUsage): boolean {
  return u.input === 0 && u.cachedInput === 0 && u.output === 0 && u.reasoningOutput === 0;
}
