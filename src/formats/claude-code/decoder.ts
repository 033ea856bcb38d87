import type { DecodeWarning, RolloutEvent, ThreadMeta, TokenUsage } from '../../model/events.js';
import type { Note } from '../../model/types.js';
import type { Decoded, LineDecoder } from '../decoder.js';
import { isObject, jsonText } from '../json.js';
import { contentText } from '../text.js';
import * as S from './schemas.js';
import { agentIdOf, providerOf, resultOf, toolIdentity } from './tools.js';

export interface ClaudeDecoderOptions {
  /** thread id when no line names its session (the file name) */
  fallbackThreadId?: string;
  /** a sub-agent whose lines its parent's log carries (`agent_progress`): who it is */
  agent?: { agentId: string; sessionId: string; role?: string };
  /** true when a sub-agent's own transcript lies beside this one: its inline progress is then not read */
  hasTranscript?: (sessionId: string, agentId: string) => boolean;
}

const NONE: Decoded = { events: [] };
const AGENT = 'claude-code';
/** line types that carry nothing a trace shows (bookkeeping, titles, file snapshots, prompt queue) */
const QUIET = new Set([
  'summary', 'file-history-snapshot', 'file-history-delta', 'queue-operation', 'permission-mode', 'mode', 'last-prompt',
  'ai-title', 'custom-title', 'agent-name', 'pr-link', 'bridge-session', 'continued-in', 'tag',
]);
const INTERRUPT = '[Request interrupted by user';
/** user text the harness writes around local commands: not a prompt */
const LOCAL_COMMAND_OUTPUT = /^\s*<(local-command-stdout|local-command-stderr|local-command-caveat|bash-stdout|bash-stderr)>/;
const SPAWNING_TOOLS = new Set(['Task', 'Agent']);

type Line = S.Infer<typeof S.Line>;
type Base = { time: number; line: number };

/**
 * Decodes a Claude Code transcript: a turn per typed prompt (or background-task notification), one
 * model call per response id however many lines it was written over, tool calls paired with their
 * results by id, compactions, API retries, hook errors, and the sub-agents it spawned.
 */
export class ClaudeDecoder implements LineDecoder {
  private started = false;
  private lastTime: number | undefined;
  private turnOpen = false;
  private promptId: string | undefined;
  /** uuids of the open turn's lines: a turn's end may be written before its last line */
  private turnLines = new Set<string>();
  private pendingEnd: { waitFor: string; event: RolloutEvent } | undefined;
  /** spawning call id → the sub-agent type it asked for */
  private readonly spawns = new Map<string, string | undefined>();
  /** inline sub-agents by agent id; null when their own transcript is read instead */
  private readonly children = new Map<string, ClaudeDecoder | null>();
  /** the open turn's tool calls, and results written before their call (a call's lines may trail its result) */
  private calls = new Set<string>();
  private early = new Map<string, RolloutEvent[]>();
  /** inline sub-agent lines already read (progress may repeat one) */
  private readonly seen: Set<string> | undefined;

  constructor(private readonly opts: ClaudeDecoderOptions = {}) {
    this.seen = opts.agent ? new Set() : undefined;
  }

  decode(value: unknown, line: number): Decoded {
    const parsed = S.Line.safeParse(value);
    if (!parsed.success) return warn(line, typeOf(value), 'not a Claude Code transcript line');
    const l = parsed.data;
    if (this.seen && l.uuid) {
      if (this.seen.has(l.uuid)) return NONE;
      this.seen.add(l.uuid);
    }
    const t = l.timestamp ? Date.parse(l.timestamp) : NaN;
    if (!Number.isNaN(t)) this.lastTime = t;
    const events: RolloutEvent[] = [];
    if (!this.started && this.lastTime !== undefined && (l.sessionId || l.session_id || this.opts.agent)) events.push(this.threadStart(l, this.lastTime, line));
    // A turn's end waits for its last line only while that line's response is still being written.
    if (this.pendingEnd && l.type !== 'assistant') this.flushEnd(events);
    const decoded = this.line(l, value as Record<string, unknown>, line);
    if (decoded.events.length > 0) {
      if (!this.started) events.push(this.threadStart(l, this.lastTime ?? 0, line));
      events.push(...decoded.events);
    }
    if (l.uuid) {
      this.turnLines.add(l.uuid);
      if (this.pendingEnd?.waitFor === l.uuid) this.flushEnd(events);
    }
    if (events.length === 0) return decoded.warning ? decoded : NONE;
    return decoded.warning ? { events, warning: decoded.warning } : { events };
  }

  private threadStart(l: Line, time: number, line: number): RolloutEvent {
    this.started = true;
    const a = this.opts.agent;
    const sessionId = a?.sessionId ?? l.sessionId ?? l.session_id ?? undefined;
    const agentId = a?.agentId ?? (l.isSidechain && l.agentId ? l.agentId : undefined);
    const meta: ThreadMeta = {
      threadId: agentId ?? sessionId ?? this.opts.fallbackThreadId ?? 'unknown',
      sessionId: agentId ? sessionId : undefined,
      parentThreadId: agentId ? sessionId : undefined,
      startTime: time,
      cwd: l.cwd ?? undefined,
      cliVersion: l.version ?? undefined,
      agentName: AGENT,
      agentRole: a?.role,
      git: l.gitBranch ? { branch: l.gitBranch } : undefined,
      inferredTiming: false,
    };
    return { kind: 'thread_start', time, line, meta };
  }

  /** Results whose call never came are handed on as they are (the assembler notes them as orphans). */
  private newTurn(events: RolloutEvent[]): void {
    for (const held of this.early.values()) events.push(...held);
    this.early.clear();
    this.calls.clear();
    this.turnLines.clear();
  }

  private flushEnd(events: RolloutEvent[]): void {
    if (this.pendingEnd) events.push(this.pendingEnd.event);
    this.pendingEnd = undefined;
  }

  private line(l: Line, raw: Record<string, unknown>, line: number): Decoded {
    const base = { time: this.lastTime ?? 0, line };
    switch (l.type) {
      case 'user':
        return this.user(l, raw, base);
      case 'assistant':
        return this.assistant(l, raw, base);
      case 'system':
        return this.system(l, raw, base);
      case 'progress':
        return this.progress(raw, base);
      case 'attachment':
        return this.attachment(raw, base);
      default:
        return QUIET.has(l.type) ? NONE : warn(line, l.type, 'unknown line type');
    }
  }

  private user(l: Line, raw: Record<string, unknown>, base: Base): Decoded {
    const r = S.UserLine.safeParse(raw);
    if (!r.success) return warn(base.line, 'user', issue(r.error));
    const u = r.data;
    // The summary that replaces the history after a compaction; the boundary before it is the compaction.
    if (u.isCompactSummary) return NONE;
    const content = u.message.content;
    const blocks = typeof content === 'string' ? [{ type: 'text', text: content }] : content;
    const events: RolloutEvent[] = [];
    let text = '';
    for (const b of blocks) {
      if (b.type === 'tool_result') this.toolResult(b, u.toolUseResult, base, events);
      else if (b.type === 'text' && typeof b.text === 'string') text += (text ? '\n' : '') + b.text;
    }
    if (text.startsWith(INTERRUPT)) {
      this.newTurn(events);
      if (this.turnOpen) events.push({ kind: 'turn_end', ...base, outcome: 'aborted', reason: 'interrupted' });
      this.turnOpen = false;
      return { events };
    }
    const hasImage = blocks.some((b) => b.type === 'image');
    const prompt = events.length === 0 && !l.isMeta && (text !== '' || hasImage) && !LOCAL_COMMAND_OUTPUT.test(text);
    if (!prompt) return { events };
    // Notifications delivered together share the prompt id of the turn they start.
    if (this.turnOpen && l.promptId && l.promptId === this.promptId) return { events };
    this.turnOpen = true;
    this.promptId = l.promptId ?? undefined;
    this.newTurn(events);
    events.push({ kind: 'user_message', ...base, text, turnId: l.promptId ?? l.uuid ?? undefined });
    return { events };
  }

  private toolResult(block: Record<string, unknown>, structured: unknown, base: Base, events: RolloutEvent[]): void {
    const r = S.ToolResultBlock.safeParse(block);
    if (!r.success) return;
    const b = r.data;
    const { result, declined } = resultOf(b.is_error === true, b.content, structured);
    const out: RolloutEvent[] = [{ kind: 'tool_output', ...base, callId: b.tool_use_id, output: b.content, result, facts: declined ? { runtimeStatus: 'declined' } : undefined }];
    const agentId = agentIdOf(structured, b.content);
    if (agentId && (this.spawns.has(b.tool_use_id) || !this.calls.has(b.tool_use_id))) out.push({ kind: 'agent_spawned', ...base, callId: b.tool_use_id, threadId: agentId });
    if (this.calls.has(b.tool_use_id)) events.push(...out);
    else this.early.set(b.tool_use_id, [...(this.early.get(b.tool_use_id) ?? []), ...out]);
  }

  private assistant(l: Line, raw: Record<string, unknown>, base: Base): Decoded {
    const r = S.AssistantLine.safeParse(raw);
    if (!r.success) return warn(base.line, 'assistant', issue(r.error));
    const a = r.data;
    const m = a.message;
    const blocks = typeof m.content === 'string' ? [{ type: 'text', text: m.content }] : (m.content ?? []);
    if (m.model === '<synthetic>') {
      // Harness-made messages are not model calls; an API error shown to the user fails its turn.
      if (a.isApiErrorMessage !== true) return NONE;
      const message = contentText(blocks) || 'API error';
      return { events: [{ kind: 'error', ...base, message, errorType: apiErrorType(message, a.error) }] };
    }
    const responseId = m.id ?? l.uuid ?? `line:${base.line}`;
    const common = { ...base, responseId, requestId: a.requestId ?? undefined, model: m.model ?? undefined, usage: usageOf(m.usage), provider: providerOf(responseId) };
    const events: RolloutEvent[] = [];
    for (const b of blocks) {
      if (b.type === 'tool_use') {
        const t = S.ToolUseBlock.safeParse(b);
        if (!t.success) continue;
        const { id, name, input } = t.data;
        events.push({ kind: 'model_output', ...common, item: 'tool_call' });
        events.push({ kind: 'tool_call', ...base, ...toolIdentity(id, name), arguments: input === undefined ? undefined : jsonText(input), responseId });
        if (SPAWNING_TOOLS.has(name)) this.spawns.set(id, isObject(input) && typeof input.subagent_type === 'string' ? input.subagent_type : undefined);
        this.calls.add(id);
        const held = this.early.get(id);
        if (held) {
          this.early.delete(id);
          events.push(...held);
        }
      } else if (b.type === 'thinking') {
        events.push({ kind: 'model_output', ...common, item: 'reasoning', text: typeof b.thinking === 'string' ? b.thinking : undefined });
      } else if (b.type === 'redacted_thinking') {
        events.push({ kind: 'model_output', ...common, item: 'reasoning' });
      } else {
        events.push({ kind: 'model_output', ...common, item: 'message', text: b.type === 'text' && typeof b.text === 'string' ? b.text : undefined });
      }
    }
    // a response line with no block still is the response
    if (events.length === 0) events.push({ kind: 'model_output', ...common, item: 'message' });
    return { events };
  }

  private system(l: Line, raw: Record<string, unknown>, base: Base): Decoded {
    switch (l.subtype) {
      case 'turn_duration': {
        const d = S.TurnDuration.safeParse(raw);
        if (!this.turnOpen) return NONE;
        this.turnOpen = false;
        const event: RolloutEvent = { kind: 'turn_end', ...base, outcome: 'completed', durationMs: d.success ? (d.data.durationMs ?? undefined) : undefined };
        // Its parent is the turn's last line, which may be written after it.
        const last = typeof raw.parentUuid === 'string' ? raw.parentUuid : undefined;
        if (last && !this.turnLines.has(last)) {
          this.pendingEnd = { waitFor: last, event };
          return NONE;
        }
        return { events: [event] };
      }
      case 'api_error': {
        const r = S.ApiError.safeParse(raw);
        if (!r.success) return warn(base.line, 'system/api_error', issue(r.error));
        const e = r.data;
        const note: Note = {
          kind: 'api_retry', time: base.time,
          statusCode: e.error?.status ?? undefined, errorType: e.error?.error?.error?.type ?? undefined,
          attempt: e.retryAttempt ?? undefined, maxRetries: e.maxRetries ?? undefined, delayMs: e.retryInMs ?? undefined,
        };
        return { events: [{ kind: 'turn_note', ...base, note }] };
      }
      case 'compact_boundary':
      case 'microcompact_boundary':
        return this.compaction(l.subtype, raw, base);
      case 'stop_hook_summary': {
        const r = S.HookSummary.safeParse(raw);
        if (!r.success || !r.data.hookErrors?.length) return NONE;
        const command = r.data.hookInfos?.length === 1 ? (r.data.hookInfos[0]?.command ?? undefined) : undefined;
        return { events: r.data.hookErrors.map((e) => ({ kind: 'turn_note', ...base, note: { kind: 'hook_error', time: base.time, hookEvent: 'Stop', command, message: hookMessage(e) } }) as RolloutEvent) };
      }
      default:
        // local commands, away summaries, bridge status and subtypes yet unknown carry no work of the agent
        return NONE;
    }
  }

  private compaction(subtype: 'compact_boundary' | 'microcompact_boundary', raw: Record<string, unknown>, base: Base): Decoded {
    const r = S.Compact.safeParse(raw);
    if (!r.success) return warn(base.line, `system/${subtype}`, issue(r.error));
    if (subtype === 'microcompact_boundary') {
      const m = r.data.microcompactMetadata;
      return {
        events: [{
          kind: 'compaction', ...base, remote: false, marker: false,
          facts: { micro: true, trigger: m?.trigger ?? undefined, tokensBefore: m?.preTokens ?? undefined, tokensSaved: m?.tokensSaved ?? undefined, clearedToolResults: m?.compactedToolIds?.length },
        }],
      };
    }
    const m = r.data.compactMetadata;
    return {
      events: [{
        kind: 'compaction', ...base, remote: false, marker: false, durationMs: m?.durationMs ?? undefined, tokensAfter: m?.postTokens ?? undefined,
        facts: { trigger: m?.trigger ?? undefined, tokensBefore: m?.preTokens ?? undefined },
      }],
    };
  }

  private attachment(raw: Record<string, unknown>, base: Base): Decoded {
    const r = S.Attachment.safeParse(raw);
    if (!r.success) return NONE;
    const a = r.data.attachment;
    if (a.type !== 'hook_non_blocking_error' && a.type !== 'hook_blocking_error' && a.type !== 'hook_error' && a.type !== 'hook_cancelled') return NONE;
    const message = a.stderr ?? a.error ?? (a.type === 'hook_cancelled' ? 'hook cancelled' : undefined);
    return { events: [{ kind: 'turn_note', ...base, note: { kind: 'hook_error', time: base.time, hookEvent: a.hookEvent ?? undefined, command: a.command ?? a.hookName ?? undefined, message } }] };
  }

  /** A running sub-agent's messages, carried inline by its parent (Claude Code 2.1.12 – 2.1.81). */
  private progress(raw: Record<string, unknown>, base: Base): Decoded {
    const r = S.Progress.safeParse(raw);
    if (!r.success || r.data.data.type !== 'agent_progress') return NONE;
    const { data, parentToolUseID } = r.data;
    const agentId = data.agentId;
    if (!agentId || !data.message) return NONE;
    let child = this.children.get(agentId);
    if (child === undefined) {
      const sessionId = this.opts.agent?.sessionId ?? (typeof raw.sessionId === 'string' ? raw.sessionId : undefined) ?? this.opts.fallbackThreadId ?? 'unknown';
      // The sub-agent's own transcript, when it is there, is read as its own thread: never twice.
      child = this.opts.hasTranscript?.(sessionId, agentId)
        ? null
        : new ClaudeDecoder({ agent: { agentId, sessionId, role: parentToolUseID ? this.spawns.get(parentToolUseID) : undefined } });
      this.children.set(agentId, child);
    }
    if (!child) return NONE;
    const inner = child.decode(data.message, base.line);
    const callId = parentToolUseID ?? undefined;
    return { events: inner.events.map((event) => ({ kind: 'subagent_event', ...base, agentId, callId, event })), warning: inner.warning };
  }
}

/** Anthropic usage as the GenAI conventions count it: input includes cache reads and cache writes. */
function usageOf(u: S.Infer<typeof S.AssistantLine>['message']['usage']): TokenUsage | undefined {
  if (!u) return undefined;
  const cacheRead = u.cache_read_input_tokens ?? 0;
  const cacheWrite = u.cache_creation_input_tokens ?? 0;
  const input = (u.input_tokens ?? 0) + cacheRead + cacheWrite;
  const output = u.output_tokens ?? 0;
  return { input, cachedInput: cacheRead, output, reasoningOutput: 0, cacheWriteInput: cacheWrite, total: input + output };
}

/** `API Error: 529 {"type":"error","error":{"type":"overloaded_error",…}}` → overloaded_error; else the status or the recorded kind. */
function apiErrorType(message: string, recorded: unknown): string {
  const m = /API Error:\s*(\d{3})?\s*(\{.*\})?/s.exec(message);
  if (m?.[2]) {
    try {
      const body: unknown = JSON.parse(m[2]);
      const type = isObject(body) && isObject(body.error) ? body.error.type : undefined;
      if (typeof type === 'string') return type;
    } catch {
      // not JSON: the status says it
    }
  }
  if (m?.[1]) return m[1];
  return typeof recorded === 'string' && recorded !== 'unknown' ? recorded : 'api_error';
}

function hookMessage(e: unknown): string | undefined {
  if (typeof e === 'string') return e;
  if (isObject(e)) for (const k of ['error', 'message', 'stderr']) if (typeof e[k] === 'string') return e[k] as string;
  return undefined;
}

function issue(error: { issues: { path: PropertyKey[]; message: string }[] }): string {
  const i = error.issues[0];
  return i ? `${i.path.join('.') || 'line'}: ${i.message}` : 'invalid';
}

function warn(line: number, type: string, message: string): Decoded {
  return { events: [], warning: { line, type, message } as DecodeWarning };
}

function typeOf(v: unknown): string {
  if (isObject(v) && typeof v.type === 'string') return v.type;
  return Array.isArray(v) ? 'array' : typeof v;
}
