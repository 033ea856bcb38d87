import type { RolloutEvent, ThreadMeta, TokenUsage } from './events.js';
import { noteError, OTHER } from './outcome.js';
import { newModelCall } from './shapes.js';
import { addUsage, emptyUsage, setFact, type ModelCall, type Note, type Thread, type Turn } from './types.js';
import { isEstimate, MAX_TURN_ITEMS, MAX_TURN_NOTES, TurnBuilder, type TurnContextState } from './turn-builder.js';
import { withShortNames } from './names.js';

export interface AssemblerOptions {
  path: string;
  keepContent?: boolean;
  /** thread id to use when the file has no session_meta (taken from the file name) */
  fallbackThreadId?: string;
}

/**
 * Turns one thread's events into turns, incrementally: `push` returns the turns that closed,
 * `finish` closes what is still open. Backfill and live mode run the same code.
 */
export class ThreadAssembler {
  meta: ThreadMeta | undefined;
  private turn: TurnBuilder | undefined;
  private explicitTurns = false;
  private turnIndex = 0;
  private callIndex = 0;
  private compactionIndex = 0;
  private lastLineTime = -Infinity;
  private maxTime = -Infinity;
  private lastTurnEnd = -Infinity;
  private tokenBaseline: TokenUsage | undefined;
  private compactedPending = false;
  private copying = false;
  private copiedLines = 0;
  private ctx: TurnContextState = {};
  private readonly usage = emptyUsage();
  private readonly notes: Note[] = [];
  private turnCount = 0;
  private lastModel: string | undefined;
  private readonly keepContent: boolean;

  constructor(private readonly opts: AssemblerOptions) {
    this.keepContent = opts.keepContent ?? false;
  }

  get started(): boolean {
    return this.meta !== undefined;
  }

  get lastTime(): number {
    return this.maxTime;
  }

  push(event: RolloutEvent): Turn[] {
    const e = withShortNames(event);
    if (e.kind === 'thread_start') {
      this.start(e.meta, e.time);
      return [];
    }
    if (!this.meta) this.start(this.syntheticMeta(e.time), e.time);
    const previousLineTime = this.lastLineTime;
    this.lastLineTime = e.time;
    if (this.copying && !this.endsCopy(e)) {
      this.copiedLines++;
      if (e.kind === 'token_count') this.tokenBaseline = e.total;
      return [];
    }
    if (e.time > this.maxTime) this.maxTime = e.time;
    if (this.turn?.full && this.overLimit(e, this.turn)) {
      this.turn.touch(e.time);
      return [];
    }
    const closed: Turn[] = [];
    switch (e.kind) {
      case 'turn_start': {
        if (this.turn) closed.push(this.closeTurn(this.turn.lastEventTime, this.turn.implicit ? 'completed' : 'incomplete'));
        this.explicitTurns = true;
        const t = this.openTurn(e.time, e.line, false, previousLineTime, e.startedAtMs);
        t.turnId = e.turnId && this.uniqueTurnId(e.turnId, e.line);
        t.rootTurnId = e.rootTurnId;
        break;
      }
      case 'turn_end': {
        const t = this.turn;
        if (!t || (e.turnId && t.turnId && e.turnId !== t.turnId)) {
          this.note({ kind: 'unmatched_turn_end', time: e.time, turnId: e.turnId ?? '' });
          break;
        }
        if (e.errorMessage !== undefined || e.errorType !== undefined) t.error({ time: e.time, errorType: e.errorType, message: e.errorMessage });
        closed.push(this.closeTurn(e.time, e.outcome === 'aborted' ? 'aborted' : 'completed', { abortReason: e.reason, startedAtMs: e.startedAtMs, durationMs: e.durationMs }));
        break;
      }
      case 'user_message': {
        if (!this.explicitTurns && this.turn) closed.push(this.closeTurn(this.turn.lastEventTime, 'completed'));
        let t = this.turn;
        if (!t) {
          t = this.openTurn(e.time, e.line, true, previousLineTime);
          if (e.turnId) t.turnId = this.uniqueTurnId(e.turnId, e.line);
        }
        t.userMessage(e);
        break;
      }
      case 'turn_context':
        this.ctx = { ...this.ctx, ...definedOnly(e) };
        if (this.turn && (!e.turnId || !this.turn.turnId || e.turnId === this.turn.turnId)) this.turn.ctx = { ...this.ctx };
        if (e.model) this.lastModel = e.model;
        break;
      case 'model_output': {
        const t = this.current(e, previousLineTime);
        const responseId = e.responseId;
        if (responseId !== undefined) t.response({ ...e, responseId }, partOf(e, this.keepContent), () => this.openCall(t, e));
        else t.modelOutput(e.time, e.line, partOf(e, this.keepContent), e);
        if (e.model) this.lastModel = e.model;
        break;
      }
      case 'tool_call':
        this.toolCall(e, previousLineTime);
        break;
      case 'tool_output':
        if (!this.turn?.toolOutput(e)) this.note({ kind: 'orphan_tool_output', time: e.time, callId: e.callId });
        break;
      case 'tool_result': {
        const t = this.current(e, previousLineTime);
        t.toolResult(e, previousLineTime, t.knows(e.callId) ? e.callId : this.uniqueToolKey(e.callId, e.line));
        break;
      }
      case 'token_count':
        this.tokenCount(e, previousLineTime);
        break;
      case 'compaction': {
        const start = e.durationMs !== undefined ? e.time - e.durationMs : Math.min(previousLineTime, e.time);
        const added = this.current(e, previousLineTime).compaction({
          index: this.compactionIndex, line: e.line, start, end: e.time,
          remote: e.remote, replacementItems: e.replacementItems, windowNumber: e.windowNumber, tokensAfter: e.tokensAfter, facts: e.facts,
        }, e.marker);
        if (added) this.compactionIndex++;
        this.compactedPending = true;
        break;
      }
      case 'turn_note':
        (this.turn ? this.turn.note(e.note) : this.note(e.note));
        break;
      case 'thread_note':
        this.note(e.note);
        break;
      case 'subagent_event':
        this.subagentEvent(e, previousLineTime);
        break;
      case 'error':
        if (this.turn) this.turn.error(e);
        else {
          this.error ??= { type: e.errorType ?? OTHER, message: e.message };
          if (this.notes.length < MAX_TURN_NOTES) noteError(this.notes, e.time, e.errorType, e.message);
          else this.droppedNotes++;
        }
        break;
    }
    this.turn?.touch(e.time);
    return closed;
  }

  /** Closes the open turn (the file ended or went idle mid-turn) and returns the thread. */
  finish(): { turns: Turn[]; thread: Thread | undefined } {
    const turns = this.turn ? [this.closeTurn(this.turn.lastEventTime, this.turn.implicit ? 'completed' : 'incomplete')] : [];
    if (!this.meta) return { turns, thread: undefined };
    const end = Math.max(this.maxTime, this.lastTurnEnd, this.meta.startTime);
    const thread: Thread = {
      meta: this.meta,
      path: this.opts.path,
      line: 1,
      start: Math.min(this.meta.startTime, this.firstChildStart),
      end,
      turnCount: this.turnCount,
      usage: this.usage,
      notes: this.notes,
      copiedLines: this.copiedLines,
      lastModel: this.lastModel,
      error: this.error,
    };
    if (this.droppedNotes > 0) setFact(thread, 'droppedNotes', this.droppedNotes);
    return { turns, thread };
  }

  /** A note on the thread; past MAX_TURN_NOTES of them, counted instead. */
  private note(n: Note): void {
    if (this.notes.length < MAX_TURN_NOTES) this.notes.push(n);
    else this.droppedNotes++;
  }
  private droppedNotes = 0;

  private firstChildStart = Infinity;
  private error: Thread['error'];
  private readonly toolKeys = new Set<string>();
  private readonly turnIds = new Set<string>();

  private start(meta: ThreadMeta, time: number): void {
    if (this.meta) return;
    this.meta = meta;
    if (Number.isNaN(meta.startTime)) meta.startTime = time;
    this.lastLineTime = Math.min(meta.startTime, time);
    this.maxTime = Math.max(time, meta.startTime);
    this.copying = meta.forkedFromId !== undefined || meta.ownHistoryStartOrdinal !== undefined;
  }

  private syntheticMeta(time: number): ThreadMeta {
    return { threadId: this.opts.fallbackThreadId ?? 'unknown', startTime: time, inferredTiming: false };
  }

  /** Forked files start with a copy of the parent's lines; the thread's own history follows. */
  private endsCopy(e: RolloutEvent): boolean {
    const meta = this.meta;
    if (!meta) return true;
    if (meta.ownHistoryStartOrdinal !== undefined && e.ordinal !== undefined) {
      if (e.ordinal < meta.ownHistoryStartOrdinal) return false;
      this.copying = false;
      return true;
    }
    if (e.kind !== 'turn_start') return false;
    const created = e.turnId ? uuidV7Time(e.turnId) : undefined;
    if (created !== undefined && created < meta.startTime - 2000) return false;
    this.copying = false;
    return true;
  }

  private openTurn(time: number, line: number, implicit: boolean, previousLineTime: number, startedAtMs?: number): TurnBuilder {
    const evidence = Math.min(time, startedAtMs ?? Infinity);
    // Recorded start times have one-second precision: never let them reach before the line that preceded the turn.
    const lowerBound = Math.max(this.meta?.startTime ?? -Infinity, this.lastTurnEnd, Math.min(previousLineTime, time));
    const t = new TurnBuilder(this.turnIndex++, line, evidence, lowerBound, implicit, this.keepContent);
    t.ctx = { ...this.ctx };
    this.turn = t;
    return t;
  }

  private current(e: { time: number; line: number }, previousLineTime: number): TurnBuilder {
    return this.turn ?? this.openTurn(e.time, e.line, true, previousLineTime);
  }

  private toolCall(e: Extract<RolloutEvent, { kind: 'tool_call' }>, previousLineTime: number): void {
    const t = this.current(e, previousLineTime);
    if (e.toolKind === 'web_search' && !e.callId) {
      const earlier = t.takeUnpairedSearch();
      if (earlier) return t.pairSearch(earlier, e);
    }
    t.toolCall(e, this.uniqueToolKey(e.callId ?? `line:${e.line}`, e.line));
  }

  /**
   * An event that would add a call, an output run or a compaction to a turn that holds MAX_TURN_ITEMS:
   * counted instead. What completes a call already held (its output, its result) still goes in.
   */
  private overLimit(e: RolloutEvent, t: TurnBuilder): boolean {
    switch (e.kind) {
      case 'model_output':
        if (e.responseId !== undefined && t.knowsResponse(e.responseId)) return false;
        t.untraced++;
        return true;
      case 'tool_call':
      case 'compaction':
        t.untraced++;
        return true;
      case 'token_count':
        this.tokenBaseline = e.total;
        t.untraced++;
        return true;
      case 'tool_output':
        return !t.knows(e.callId);
      case 'tool_result':
        if (t.knows(e.callId)) return false;
        t.untraced++;
        return true;
      default:
        return false;
    }
  }

  /** A turn id seen twice in one thread (a replayed prompt) still needs its own span. */
  private uniqueTurnId(id: string, line: number): string {
    const unique = this.turnIds.has(id) ? `${id}@${line}` : id;
    this.turnIds.add(id);
    return unique;
  }

  private openCall(t: TurnBuilder, e: { line: number; time: number; model?: string; usage?: TokenUsage }): ModelCall {
    const call = newModelCall(this.callIndex++, e.line, e.time, e.model ?? t.ctx.model ?? this.ctx.model, e.usage, this.compactedPending);
    this.compactedPending = false;
    return call;
  }

  /**
   * A sub-agent recorded inside this log is assembled as a thread of its own; it is handed out with
   * the turn it worked in (its parent's call waited for it there).
   */
  private subagentEvent(e: Extract<RolloutEvent, { kind: 'subagent_event' }>, previousLineTime: number): void {
    const t = this.current(e, previousLineTime);
    // the sub-agents' turns are held with the parent's turn: they share its limit
    if (this.childItems >= MAX_TURN_ITEMS) {
      t.untraced++;
      return;
    }
    let child = this.children.get(e.agentId);
    if (!child) {
      child = { assembler: new ThreadAssembler({ path: this.opts.path, keepContent: this.keepContent, fallbackThreadId: e.agentId }), callKey: e.callId, turns: [] };
      this.children.set(e.agentId, child);
    }
    for (const turn of child.assembler.push(e.event)) {
      child.turns.push(turn);
      this.childItems += turn.tools.length + turn.modelCalls.length + turn.compactions.length + 1;
    }
  }
  private childItems = 0;
  private readonly children = new Map<string, { assembler: ThreadAssembler; callKey?: string; turns: Turn[] }>();

  /** A call id seen twice in one thread (copied or replayed history) still needs its own span. */
  private uniqueToolKey(key: string, line: number): string {
    const unique = this.toolKeys.has(key) ? `${key}@${line}` : key;
    this.toolKeys.add(unique);
    return unique;
  }

  private tokenCount(e: Extract<RolloutEvent, { kind: 'token_count' }>, previousLineTime: number): void {
    const previous = this.tokenBaseline;
    this.tokenBaseline = e.total;
    if (isEstimate(e.last) || isEstimate(e.total)) {
      this.turn?.compactionEstimate(e.last.total);
      return;
    }
    if (previous && sameUsage(previous, e.total)) return;
    const t = this.current(e, previousLineTime);
    const model = t.ctx.model ?? this.ctx.model;
    t.modelCall(newModelCall(this.callIndex++, e.line, e.time, model, e.last, this.compactedPending), e.time);
    this.compactedPending = false;
  }

  private closeTurn(time: number, status: Turn['status'], extra: Partial<Pick<Turn, 'abortReason'>> & { startedAtMs?: number; durationMs?: number } = {}): Turn {
    const t = this.turn;
    if (!t) throw new Error('no open turn');
    this.turn = undefined;
    if (this.children.size > 0) {
      t.agents = [];
      for (const [, child] of this.children) {
        const { turns, thread } = child.assembler.finish();
        if (thread) t.agents.push({ thread, turns: [...child.turns, ...turns], callKey: child.callKey });
      }
      this.children.clear();
    }
    this.childItems = 0;
    const turn = t.finish({
      time, status, ...extra,
      inferredCalls: (this.meta?.inferredTiming || this.meta?.callsFromOutputs) ?? false,
      nextCallIndex: () => this.callIndex++,
      model: this.lastModel,
    });
    this.lastTurnEnd = Math.max(this.lastTurnEnd, turn.end);
    this.firstChildStart = Math.min(this.firstChildStart, turn.start);
    addUsage(this.usage, turn.usage);
    this.turnCount++;
    return turn;
  }
}

function sameUsage(a: TokenUsage, b: TokenUsage): boolean {
  return a.total === b.total && a.input === b.input && a.output === b.output && a.cachedInput === b.cachedInput && a.reasoningOutput === b.reasoningOutput;
}

function definedOnly(e: Extract<RolloutEvent, { kind: 'turn_context' }>): TurnContextState {
  const out: TurnContextState = {};
  if (e.model) out.model = e.model;
  if (e.cwd) out.cwd = e.cwd;
  if (e.approvalPolicy) out.approvalPolicy = e.approvalPolicy;
  if (e.sandboxPolicy) out.sandboxPolicy = e.sandboxPolicy;
  if (e.effort) out.effort = e.effort;
  return out;
}

function partOf(e: Extract<RolloutEvent, { kind: 'model_output' }>, keep: boolean) {
  if (!keep || !e.text) return undefined;
  return e.item === 'reasoning' ? { type: 'reasoning' as const, text: e.text } : { type: 'text' as const, role: 'assistant' as const, text: e.text };
}

/** UUIDv7 ids carry their creation time in the first 48 bits. */
export function uuidV7Time(id: string): number | undefined {
  const hex = id.replace(/-/g, '');
  if (hex.length !== 32 || hex[12] !== '7') return undefined;
  return parseInt(hex.slice(0, 12), 16);
}
