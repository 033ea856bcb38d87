import type { DecodeWarning, RolloutEvent, ThreadMeta, TokenUsage, ToolResultInfo } from '../../model/events.js';
import type { Decoded, LineDecoder } from '../decoder.js';
import { contentText } from '../text.js';
import { usableTime } from '../time.js';
import * as S from './schemas.js';
import { jsonText } from '../json.js';

export interface GenericDecoderOptions {
  /** thread id when the file has no session_meta id (derived from the file name) */
  fallbackThreadId: string;
  /** where to lay out lines when none of them carries a time (the file's modification time) */
  fallbackStart: number;
}

// Lines without a time of their own are laid out this far apart after the previous one.
const INFERRED_STEP_MS = 1;
const NONE: Decoded = { events: [] };
const IGNORED = new Set(['session_end', 'session_ended', 'heartbeat']);

/**
 * Decodes the generic append-only rollout pattern: `session_meta`, `user_message`,
 * `assistant_message`, `reasoning`, `tool_call`, `tool_result`, `error`, one per line.
 */
export class GenericDecoder implements LineDecoder {
  private lastTime: number | undefined;
  private inferred = false;
  private seenMeta = false;

  constructor(private readonly opts: GenericDecoderOptions) {}

  decode(value: unknown, line: number): Decoded {
    const parsed = S.Line.safeParse(value);
    if (!parsed.success) return warn(line, typeOf(value), 'not a generic rollout line ({"type", "seq", "item"})');
    const l = parsed.data;
    const item = l.item ?? {};
    const { time, warning } = this.timeOf(l, item, line);
    const base = { time, line, ordinal: l.seq ?? undefined };
    let decoded = this.item(l.type, item, base);
    // A log that names no session still has one: the file's, with the same reading as any other.
    if (!this.seenMeta) {
      this.seenMeta = true;
      decoded = { ...decoded, events: [{ kind: 'thread_start', ...base, meta: this.threadMeta(this.opts.fallbackThreadId, base.time) }, ...decoded.events] };
    }
    return warning && !decoded.warning ? { ...decoded, warning } : decoded;
  }

  private threadMeta(threadId: string, startTime: number): ThreadMeta {
    return { threadId, startTime, inferredTiming: this.inferred, callsFromOutputs: true };
  }

  private item(type: string, item: Record<string, unknown>, base: { time: number; line: number; ordinal?: number }): Decoded {
    switch (type) {
      case 'session_meta':
        return this.sessionMeta(item, base);
      case 'user_message':
        return one(S.Message, item, base.line, type, (m) => ({ kind: 'user_message', ...base, text: contentText(m.text ?? m.content ?? m.message) }));
      case 'assistant_message':
      case 'reasoning':
        return one(S.Message, item, base.line, type, (m) => ({
          kind: 'model_output', ...base,
          item: type === 'reasoning' ? 'reasoning' : 'message',
          text: contentText(m.text ?? m.content ?? m.message),
          model: m.model ?? undefined,
          usage: usageOf(m.usage),
        }));
      case 'tool_call':
        return this.toolCall(item, base);
      case 'turn_start':
      case 'turn_started':
        return one(S.Turn, item, base.line, type, (t) => ({ kind: 'turn_start', ...base, turnId: t.turn_id ?? t.id ?? undefined }));
      case 'turn_end':
      case 'turn_ended':
      case 'turn_complete':
      case 'turn_completed':
        return one(S.Turn, item, base.line, type, (t) => {
          const status = t.status?.toLowerCase();
          const aborted = status === 'aborted' || status === 'cancelled' || status === 'interrupted';
          const failed = status === 'failed' || status === 'error';
          return {
            kind: 'turn_end', ...base, turnId: t.turn_id ?? t.id ?? undefined, outcome: aborted ? 'aborted' : 'completed',
            reason: aborted ? status : undefined,
            errorMessage: failed ? (t.error ?? 'turn failed') : undefined,
          };
        });
      case 'tool_result':
        return one(S.ToolResult, item, base.line, type, (r) => {
          const callId = S.callIdOf(r);
          if (!callId) return undefined;
          return { kind: 'tool_output', ...base, callId, output: r.output ?? r.result ?? r.content, result: resultOf(r) };
        }, 'tool_result without call_id');
      case 'error':
        return one(S.ErrorItem, item, base.line, type, (e) => {
          const message = contentText(e.message ?? e.error ?? e.text) || 'error';
          const errorType = e.type ?? (e.code != null ? String(e.code) : undefined);
          const callId = S.callIdOf({ call_id: e.call_id, tool_call_id: e.tool_call_id });
          if (callId) return { kind: 'tool_result', ...base, callId, result: { success: false, errorType: errorType ?? '_OTHER', errorMessage: message } };
          return { kind: 'error', ...base, message, errorType };
        });
      default:
        if (IGNORED.has(type)) return NONE;
        return warn(base.line, type, 'unknown event type');
    }
  }

  private sessionMeta(item: Record<string, unknown>, base: { time: number; line: number; ordinal?: number }): Decoded {
    if (this.seenMeta) return { events: [{ kind: 'thread_note', ...base, note: { kind: 'session_meta_repeated', time: base.time } }] };
    const m = S.SessionMeta.safeParse(item);
    if (!m.success) return warn(base.line, 'session_meta', issue(m.error));
    this.seenMeta = true;
    const s = m.data;
    const threadId = s.id ?? s.thread_id ?? s.session_id ?? this.opts.fallbackThreadId;
    const events: RolloutEvent[] = [{
      kind: 'thread_start', ...base,
      meta: {
        ...this.threadMeta(threadId, base.time),
        sessionId: s.session_id && s.session_id !== threadId ? s.session_id : undefined,
        parentThreadId: s.parent_id ?? s.parent_session_id ?? undefined,
        agentName: s.agent ?? s.agent_name ?? s.name ?? undefined,
        provider: s.provider ?? undefined,
        cwd: s.cwd ?? undefined,
        cliVersion: s.version ?? s.agent_version ?? undefined,
      },
    }];
    if (s.model) events.push({ kind: 'turn_context', ...base, model: s.model });
    return { events };
  }

  private toolCall(item: Record<string, unknown>, base: { time: number; line: number; ordinal?: number }): Decoded {
    const r = S.ToolCall.safeParse(item);
    if (!r.success) return warn(base.line, 'tool_call', issue(r.error));
    const c = r.data;
    const args = c.arguments ?? c.input ?? c.args;
    const events: RolloutEvent[] = [{
      kind: 'tool_call', ...base,
      callId: S.callIdOf(c),
      name: c.name ?? c.tool ?? c.tool_name ?? 'unknown',
      toolKind: 'function',
      arguments: args === undefined ? undefined : typeof args === 'string' ? args : jsonText(args),
    }];
    // Usage recorded on a call belongs to the model response that made the call.
    const usage = usageOf(c.usage);
    if (usage || c.model) events.push({ kind: 'model_output', ...base, item: 'tool_call', usage, model: c.model ?? undefined });
    return { events };
  }

  private timeOf(l: S.Infer<typeof S.Line>, item: Record<string, unknown>, line: number): { time: number; warning?: DecodeWarning } {
    const raw = l.timestamp ?? l.ts ?? l.time ?? item.timestamp ?? item.ts ?? item.time;
    const parsed = toMs(raw);
    if (parsed !== undefined) {
      this.lastTime = parsed;
      return { time: parsed };
    }
    if (this.lastTime === undefined) {
      this.inferred = true;
      this.lastTime = this.opts.fallbackStart;
      return { time: this.lastTime };
    }
    if (this.inferred) this.lastTime += INFERRED_STEP_MS;
    const warning = raw === undefined || this.inferred ? undefined : { line, type: l.type, message: `unreadable time ${jsonText(raw).slice(0, 40)}; placed at the previous line's time` };
    return { time: this.lastTime, warning };
  }
}

function toMs(raw: unknown): number | undefined {
  if (typeof raw === 'number' && Number.isFinite(raw)) {
    const ms = usableTime(raw < 1e11 ? raw * 1000 : raw);
    return Number.isNaN(ms) ? undefined : ms;
  }
  if (typeof raw === 'string' && raw.trim() !== '') {
    const n = Number(raw);
    if (Number.isFinite(n)) return toMs(n);
    const t = usableTime(Date.parse(raw));
    return Number.isNaN(t) ? undefined : t;
  }
  return undefined;
}

function usageOf(u: S.Infer<typeof S.Usage> | null | undefined): TokenUsage | undefined {
  if (!u) return undefined;
  const input = u.input_tokens ?? u.prompt_tokens ?? 0;
  const output = u.output_tokens ?? u.completion_tokens ?? 0;
  const cached = u.cached_input_tokens ?? u.cache_read_input_tokens ?? u.cached_tokens ?? u.input_tokens_details?.cached_tokens ?? u.prompt_tokens_details?.cached_tokens ?? 0;
  const reasoning = u.reasoning_output_tokens ?? u.reasoning_tokens ?? u.output_tokens_details?.reasoning_tokens ?? u.completion_tokens_details?.reasoning_tokens ?? 0;
  const usage: TokenUsage = { input, cachedInput: cached, output, reasoningOutput: reasoning, total: u.total_tokens ?? input + output };
  if (u.cache_creation_input_tokens != null) usage.cacheWriteInput = u.cache_creation_input_tokens;
  return usage;
}

function resultOf(r: S.Infer<typeof S.ToolResult>): ToolResultInfo {
  const exitCode = r.exit_code ?? r.exitCode ?? undefined;
  const status = r.status?.toLowerCase();
  const failed = r.is_error === true || r.success === false || (r.error != null && r.error !== false && r.error !== '')
    || status === 'error' || status === 'failed' || status === 'failure';
  const info: ToolResultInfo = { exitCode, durationMs: r.duration_ms ?? undefined };
  if (failed) {
    info.success = false;
    info.errorType = exitCode !== undefined ? String(exitCode) : status && status !== 'error' ? status : '_OTHER';
    const message = typeof r.error === 'string' ? r.error : undefined;
    if (message) info.errorMessage = message;
  }
  return info;
}

function one<T>(
  schema: S.Schema<T>, item: unknown, line: number, type: string,
  make: (v: T) => RolloutEvent | undefined, missing = 'missing fields',
): Decoded {
  const r = schema.safeParse(item);
  if (!r.success) return warn(line, type, issue(r.error));
  const e = make(r.data);
  return e ? { events: [e] } : warn(line, type, missing);
}

function issue(error: { issues: { path: PropertyKey[]; message: string }[] }): string {
  const i = error.issues[0];
  return i ? `${i.path.join('.') || 'item'}: ${i.message}` : 'invalid';
}

function warn(line: number, type: string, message: string): Decoded {
  return { events: [], warning: { line, type, message } };
}

function typeOf(v: unknown): string {
  if (v && typeof v === 'object' && typeof (v as { type?: unknown }).type === 'string') return (v as { type: string }).type;
  return Array.isArray(v) ? 'array' : typeof v;
}
