import type { DecodeWarning, RolloutEvent, ThreadMeta, TokenUsage as Usage, ToolIdentity, ToolResultInfo } from '../../model/events.js';
import type { Note } from '../../model/types.js';
import type { Decoded, LineDecoder } from '../decoder.js';
import { isObject, jsonObject, jsonText } from '../json.js';
import { contentText } from '../text.js';
import { usableTime } from '../time.js';
import * as S from './schemas.js';
import { decodeMcpName, durationMs, errorInfoName, mcpFailure, parseToolOutput } from './tool-output.js';
import { argumentsSummary, commandSummary, patchChangesSummary, searchSummary } from './tool-summary.js';
import { IGNORED_EVENT_MSGS, IGNORED_LINE_TYPES, IGNORED_RESPONSE_ITEMS } from './known.js';

export type { Decoded };

const NONE: Decoded = { events: [] };
// Pre-envelope files have no per-line time: lines are laid out 1 ms apart from the session start.
const INFERRED_STEP_MS = 1;

/** Decodes one Codex rollout file, line by line (stateful: remembers the format generation). */
export class CodexDecoder implements LineDecoder {
  private legacy = false;
  private legacyStart = 0;
  private paginated = false;
  private seenMeta = false;
  private lastTime = 0;
  private readonly spawnCalls = new Set<string>();

  decode(value: unknown, line: number): Decoded {
    if (!isObject(value)) return warn(line, typeof value, 'line is not a JSON object');
    if ('payload' in value && typeof value.type === 'string') return this.enveloped(value, line);
    if (value.record_type !== undefined) return NONE;
    if (!this.seenMeta && typeof value.id === 'string' && typeof value.timestamp === 'string' && !('type' in value)) {
      return this.legacyMeta(value, line);
    }
    if (this.legacy && typeof value.type === 'string') {
      const time = this.legacyStart + (line - 1) * INFERRED_STEP_MS;
      return this.responseItem(value, time, line, undefined);
    }
    return warn(line, String(value.type ?? 'unknown'), 'not a Codex rollout line');
  }

  private legacyMeta(value: Record<string, unknown>, line: number): Decoded {
    const meta = sessionMetaOf(value);
    if (!meta.data) return warn(line, 'session_meta', meta.problem);
    this.legacy = true;
    this.seenMeta = true;
    this.legacyStart = usableTime(Date.parse(meta.data.timestamp));
    return withProblem({ events: [{ kind: 'thread_start', time: this.legacyStart, line, meta: toMeta(meta.data, true) }] }, line, meta.problem);
  }

  private enveloped(value: Record<string, unknown>, line: number): Decoded {
    // The envelope is checked by hand: it is on every line, and a schema would copy each one.
    const { timestamp, type, payload, ordinal } = value;
    if (typeof timestamp !== 'string' || !isObject(payload)) return warn(line, String(type), 'malformed envelope');
    let time = usableTime(parseTimestamp(timestamp));
    let timeWarning: DecodeWarning | undefined;
    if (Number.isNaN(time)) {
      // Keep the line's meaning; place it at the last good time.
      time = this.lastTime;
      timeWarning = { line, type: String(type), message: `unreadable timestamp ${jsonText(timestamp).slice(0, 40)}; placed at the previous line's time` };
    } else this.lastTime = time;
    const decoded = this.envelopedAt(String(type), payload, typeof ordinal === 'number' ? ordinal : undefined, time, line);
    return timeWarning && !decoded.warning ? { ...decoded, warning: timeWarning } : decoded;
  }

  private envelopedAt(type: string, payload: Record<string, unknown>, ordinal: number | undefined, time: number, line: number): Decoded {
    switch (type) {
      case 'session_meta':
        return this.sessionMeta(payload, time, line, ordinal);
      case 'response_item':
        return this.responseItem(payload, time, line, ordinal);
      case 'event_msg':
        return this.eventMsg(payload, time, line, ordinal);
      case 'turn_context':
        return one(parse(S.TurnContext, payload, line, 'turn_context'), (p) => ({
          kind: 'turn_context', time, line, ordinal,
          turnId: p.turn_id ?? undefined,
          model: p.model ?? undefined,
          cwd: p.cwd ?? undefined,
          approvalPolicy: policyName(p.approval_policy),
          sandboxPolicy: policyName(p.sandbox_policy),
          effort: p.effort ?? undefined,
        }));
      case 'compacted':
        return one(parse(S.Compacted, payload, line, 'compacted'), (p) => ({
          kind: 'compaction', time, line, ordinal, marker: false,
          remote: p.message === '',
          replacementItems: p.replacement_history?.length,
          windowNumber: p.window_number ?? undefined,
        }));
      default:
        if (IGNORED_LINE_TYPES.has(type)) return NONE;
        return warn(line, type, 'unknown line type');
    }
  }

  private sessionMeta(payload: unknown, time: number, line: number, ordinal?: number): Decoded {
    // Only the first session_meta names the file's thread; later ones are copied history.
    if (this.seenMeta) {
      const id = (payload as { id?: unknown }).id;
      return note('thread_note', { time, line, ordinal }, { kind: 'session_meta_repeated', time, threadId: typeof id === 'string' ? id : '' });
    }
    const meta = sessionMetaOf(payload);
    if (!meta.data) return warn(line, 'session_meta', meta.problem);
    this.seenMeta = true;
    this.paginated = meta.data.history_mode === 'paginated';
    const m = toMeta(meta.data, false);
    if (Number.isNaN(m.startTime)) m.startTime = time;
    if (!this.lastTime) this.lastTime = time;
    return withProblem({ events: [{ kind: 'thread_start', time, line, ordinal, meta: m }] }, line, meta.problem);
  }

  private responseItem(p: Record<string, unknown>, time: number, line: number, ordinal?: number): Decoded {
    const base = { time, line, ordinal };
    const type = String(p.type);
    switch (type) {
      case 'message': {
        const m = parse(S.Message, p, line, 'message');
        if (!m.ok) return m.decoded;
        if (m.value.role === 'assistant') {
          return { events: [{ kind: 'model_output', ...base, item: 'message', text: contentText(m.value.content) }] };
        }
        // Envelope files record the prompt again as a user_message event; only pre-envelope
        // files need the response item to find turns.
        if (this.legacy && m.value.role === 'user') {
          const text = contentText(m.value.content);
          if (!isInjectedContext(text)) return { events: [{ kind: 'user_message', ...base, text }] };
        }
        return NONE;
      }
      case 'reasoning':
        return { events: [{ kind: 'model_output', ...base, item: 'reasoning', text: reasoningText(p) }] };
      case 'function_call':
        return one(parse(S.FunctionCall, p, line, type), (c) => {
          if (SPAWN_TOOLS.has(c.name) && c.call_id) this.spawnCalls.add(c.call_id);
          const mcp = decodeMcpName(c.name, c.namespace);
          return {
            kind: 'tool_call', ...base,
            callId: c.call_id ?? undefined,
            name: c.name,
            namespace: c.namespace ?? undefined,
            toolKind: mcp ? 'mcp' : 'function',
            mcp,
            agents: AGENT_TOOLS.has(c.name) ? agentsNamed(c.arguments) : undefined,
            arguments: typeof c.arguments === 'string' ? c.arguments : jsonText(c.arguments),
            summary: argumentsSummary(c.name, c.arguments),
          };
        });
      case 'custom_tool_call':
        return one(parse(S.CustomToolCall, p, line, type), (c) => ({
          kind: 'tool_call', ...base,
          callId: c.call_id ?? undefined,
          name: c.name,
          namespace: c.namespace ?? undefined,
          toolKind: 'custom',
          arguments: typeof c.input === 'string' ? c.input : jsonText(c.input),
          summary: argumentsSummary(c.name, c.input),
        }));
      case 'local_shell_call':
        return one(parse(S.LocalShellCall, p, line, type), (c) => ({
          kind: 'tool_call', ...base, callId: c.call_id ?? undefined, name: 'local_shell', toolKind: 'local_shell',
          arguments: jsonText(c.action ?? null),
          summary: isObject(c.action) ? commandSummary(c.action.command) : undefined,
        }));
      case 'web_search_call':
        return { events: [{ kind: 'tool_call', ...base, name: 'web_search', toolKind: 'web_search', arguments: jsonText(p.action ?? null), summary: searchSummary(p.action) }] };
      case 'image_generation_call':
        return { events: [{ kind: 'tool_call', ...base, callId: typeof p.id === 'string' ? p.id : undefined, name: 'image_generation', toolKind: 'image_generation' }] };
      case 'tool_search_call':
        return one(parse(S.ToolOutput, p, line, type), (c) => ({
          kind: 'tool_call', ...base, callId: c.call_id ?? undefined, name: 'tool_search', toolKind: 'tool_search',
          arguments: jsonText(p.arguments ?? null),
        }));
      case 'function_call_output':
      case 'custom_tool_call_output':
      case 'tool_search_output': {
        const o = parse(S.ToolOutput, p, line, type);
        if (!o.ok) return o.decoded;
        if (!o.value.call_id) return NONE;
        const output = type === 'tool_search_output' ? p.tools : o.value.output;
        const events: RolloutEvent[] = [{ kind: 'tool_output', ...base, callId: o.value.call_id, output, result: parseToolOutput(output) }];
        if (this.spawnCalls.delete(o.value.call_id)) events.push(...spawnedBy(o.value.call_id, output, base));
        return { events };
      }
      default:
        if (IGNORED_RESPONSE_ITEMS.has(type)) return NONE;
        return warn(line, `response_item:${type}`, 'unknown response item type');
    }
  }

  private eventMsg(p: Record<string, unknown>, time: number, line: number, ordinal?: number): Decoded {
    const base = { time, line, ordinal };
    const type = String(p.type);
    switch (type) {
      case 'task_started':
      case 'turn_started':
        return one(parse(S.TurnStarted, p, line, type), (t) => ({
          kind: 'turn_start', ...base, turnId: t.turn_id ?? undefined,
          startedAtMs: t.started_at != null ? t.started_at * 1000 : undefined,
          rootTurnId: t.root_turn_id ?? undefined,
        }));
      case 'task_complete':
      case 'turn_complete':
      case 'turn_aborted':
        return one(parse(S.TurnEnded, p, line, type), (t) => ({
          kind: 'turn_end', ...base,
          turnId: t.turn_id ?? undefined,
          outcome: type === 'turn_aborted' ? 'aborted' : 'completed',
          reason: t.reason ?? undefined,
          errorMessage: t.error?.message ?? undefined,
          errorType: t.error ? errorInfoName(t.error.codex_error_info) : undefined,
          startedAtMs: t.started_at != null ? t.started_at * 1000 : undefined,
          completedAtMs: t.completed_at != null ? t.completed_at * 1000 : undefined,
          durationMs: t.duration_ms ?? undefined,
        }));
      case 'user_message':
        return one(parse(S.UserMessageEvent, p, line, type), (u) =>
          u.kind && u.kind !== 'plain' ? null : { kind: 'user_message', ...base, text: u.message });
      case 'agent_message':
        return { events: [{ kind: 'model_output', ...base, item: 'message', text: typeof p.message === 'string' ? p.message : undefined }] };
      case 'agent_reasoning':
      case 'agent_reasoning_raw_content':
        return { events: [{ kind: 'model_output', ...base, item: 'reasoning', text: typeof p.text === 'string' ? p.text : undefined }] };
      case 'token_count':
        return one(parse(S.TokenCount, p, line, type), (t) =>
          t.info ? { kind: 'token_count', ...base, total: usage(t.info.total_token_usage), last: usage(t.info.last_token_usage) } : null);
      case 'context_compacted':
        return { events: [{ kind: 'compaction', ...base, remote: false, marker: true }] };
      case 'exec_command_end':
        return one(parse(S.ExecCommandEnd, p, line, type), (e) => result(base, e.call_id, {
          exitCode: e.exit_code ?? undefined,
          durationMs: durationMs(e.duration),
          completedAtMs: e.completed_at_ms || undefined,
          ...statusFailure(e.status),
          summary: commandSummary(p.command, p.parsed_cmd),
        }, { name: 'exec_command', content: p.aggregated_output }));
      case 'patch_apply_end':
        return one(parse(S.PatchApplyEnd, p, line, type), (e) => result(base, e.call_id,
          { ...(e.success === false || e.status === 'failed' ? { success: false, errorType: 'patch_failed' } : statusFailure(e.status)), summary: patchChangesSummary(p.changes) },
          { name: 'apply_patch', content: p.stdout }));
      case 'mcp_tool_call_end':
        return one(parse(S.McpToolCallEnd, p, line, type), (e) => result(base, e.call_id, {
          durationMs: durationMs(e.duration),
          mcpServer: e.invocation?.server ?? undefined,
          mcpTool: e.invocation?.tool ?? undefined,
          ...failed(mcpFailure(e.result)),
        }, { name: e.invocation?.tool ?? undefined, toolKind: 'mcp', content: e.result }));
      case 'web_search_end':
        return one(parse(S.WebSearchEnd, p, line, type), (e) =>
          result(base, e.call_id, { summary: searchSummary(p.action, e.query) }, { name: 'web_search', toolKind: 'web_search', standalone: true, content: e.query }));
      case 'collab_agent_spawn_end': {
        const decoded = this.callIdEvent(p, base, type);
        if (typeof p.new_thread_id === 'string' && typeof p.call_id === 'string') {
          decoded.events.push({ kind: 'agent_spawned', ...base, callId: p.call_id, threadId: p.new_thread_id });
        }
        return decoded;
      }
      case 'image_generation_end':
      case 'view_image_tool_call':
      case 'dynamic_tool_call_response':
      case 'collab_agent_interaction_end':
      case 'collab_waiting_end':
      case 'collab_close_end':
      case 'collab_resume_end':
        return this.callIdEvent(p, base, type);
      case 'item_completed':
        return this.itemCompleted(p, base);
      case 'thread_rolled_back':
        return note('thread_note', base, { kind: 'thread_rolled_back', time: base.time, turns: num(p.num_turns) });
      case 'thread_name_updated':
        return note('thread_note', base, { kind: 'thread_name_updated', time: base.time, name: String(p.thread_name ?? '') });
      case 'entered_review_mode':
      case 'exited_review_mode':
      case 'undo_completed':
      case 'sub_agent_activity':
        return note('turn_note', base, { kind: 'marker', time: base.time, name: type });
      case 'thread_settings_applied': {
        const s = p.thread_settings as Record<string, unknown> | undefined;
        return typeof s?.model === 'string' ? { events: [{ kind: 'turn_context', ...base, model: s.model }] } : NONE;
      }
      case 'error':
        // the error that ended a turn (Extended history): the same outcome as `task_complete.error`
        return { events: [{ kind: 'error', ...base, message: String(p.message ?? ''), errorType: errorInfoName(p.codex_error_info) }] };
      default:
        if (IGNORED_EVENT_MSGS.has(type)) return NONE;
        return warn(line, `event_msg:${type}`, 'unknown event type');
    }
  }

  private callIdEvent(p: Record<string, unknown>, base: { time: number; line: number; ordinal?: number }, type: string): Decoded {
    return one(parse(S.CallIdEvent, p, base.line, type), (e) => result(base, e.call_id, {
      completedAtMs: e.completed_at_ms || undefined,
      durationMs: durationMs(e.duration),
      ...(e.success === false ? { success: false, errorType: 'tool_error' } : statusFailure(e.status)),
    }, { name: typeof p.tool === 'string' ? p.tool : EVENT_TOOL_NAMES[type] }));
  }

  private itemCompleted(p: Record<string, unknown>, base: { time: number; line: number; ordinal?: number }): Decoded {
    const parsed = parse(S.ItemCompleted, p, base.line, 'item_completed');
    if (!parsed.ok) return parsed.decoded;
    const ic = parsed.value;
    const item = ic.item as Record<string, unknown> & { type: string; id?: string | null };
    const timing = { startedAtMs: ic.started_at_ms ?? undefined, completedAtMs: ic.completed_at_ms || undefined };
    const id = item.id ?? undefined;
    switch (item.type) {
      case 'UserMessage':
        if (!this.paginated) return NONE;
        return { events: [{ kind: 'user_message', ...base, text: contentText(item.content) }] };
      case 'AgentMessage':
      case 'Reasoning':
        return this.paginated ? { events: [{ kind: 'model_output', ...base, item: item.type === 'Reasoning' ? 'reasoning' : 'message' }] } : NONE;
      case 'CommandExecution':
      case 'McpToolCall':
      case 'FileChange':
      case 'DynamicToolCall':
      case 'CollabAgentToolCall':
      case 'WebSearch':
      case 'ImageView':
      case 'ImageGeneration': {
        if (!id) return NONE;
        const d = S.Duration.safeParse(item.duration);
        const info: ToolResultInfo = {
          ...timing,
          exitCode: typeof item.exit_code === 'number' ? item.exit_code : undefined,
          durationMs: d.success ? durationMs(d.data) : undefined,
          ...statusFailure(item.status),
          summary: itemSummary(item),
        };
        if (item.type === 'McpToolCall') {
          info.mcpServer = typeof item.server === 'string' ? item.server : undefined;
          info.mcpTool = typeof item.tool === 'string' ? item.tool : undefined;
        }
        const spawned: RolloutEvent[] = item.type === 'CollabAgentToolCall' && item.tool === 'spawn_agent' && Array.isArray(item.receiver_thread_ids)
          ? item.receiver_thread_ids.filter((t): t is string => typeof t === 'string').map((threadId) => ({ kind: 'agent_spawned', ...base, callId: id, threadId }))
          : [];
        const extra = item.type === 'WebSearch'
          ? { name: 'web_search', toolKind: 'web_search' as const, standalone: true }
          : { name: typeof item.tool === 'string' ? item.tool : ITEM_TOOL_NAMES[item.type], toolKind: item.type === 'McpToolCall' ? 'mcp' as const : undefined };
        return { events: [result(base, id, info, extra), ...spawned] };
      }
      case 'ContextCompaction':
        return { events: [{ kind: 'compaction', ...base, remote: false, marker: true }] };
      case 'Plan':
        return note('turn_note', base, { kind: 'marker', time: base.time, name: 'plan' });
      default:
        return NONE;
    }
  }
}

// Date.parse is a fair share of decoding, and every line has a time. For the form Codex writes,
// `YYYY-MM-DDTHH:MM:SS.mmmZ`, the minute is parsed once and the seconds added; anything else, or
// a minute Date.parse refuses, goes to Date.parse.
let minuteText = '';
let minuteMs = NaN;

function parseTimestamp(ts: string): number {
  if (ts.length === 24 && ts.charCodeAt(16) === 58 && ts.charCodeAt(19) === 46 && ts.charCodeAt(23) === 90) {
    const s1 = ts.charCodeAt(17) - 48;
    const s2 = ts.charCodeAt(18) - 48;
    const f1 = ts.charCodeAt(20) - 48;
    const f2 = ts.charCodeAt(21) - 48;
    const f3 = ts.charCodeAt(22) - 48;
    const hour = (ts.charCodeAt(11) - 48) * 10 + (ts.charCodeAt(12) - 48);
    if (s1 >= 0 && s1 <= 5 && s2 >= 0 && s2 <= 9 && f1 >= 0 && f1 <= 9 && f2 >= 0 && f2 <= 9 && f3 >= 0 && f3 <= 9 && hour < 24) {
      if (minuteText.length !== 16 || !ts.startsWith(minuteText)) {
        minuteText = ts.slice(0, 16);
        minuteMs = Date.parse(`${minuteText}:00.000Z`);
      }
      if (!Number.isNaN(minuteMs)) return minuteMs + (s1 * 10 + s2) * 1000 + f1 * 100 + f2 * 10 + f3;
    }
  }
  return Date.parse(ts);
}

const SPAWN_TOOLS = new Set(['spawn_agent', 'spawn_agents']);
const AGENT_TOOLS = new Set(['send_input', 'send_message', 'followup_task', 'wait', 'wait_agent', 'close_agent', 'interrupt_agent', 'resume_agent']);
const THREAD_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Multi-agent calls name their agents by thread id (v1) or path (v2) under several argument names. */
function agentsNamed(args: unknown): ToolIdentity['agents'] {
  const parsed = jsonObject(args);
  if (!parsed) return undefined;
  const names = ['id', 'target', 'agent_id', 'ids', 'targets', 'task_name', 'path', 'agent_path']
    .flatMap((k) => (Array.isArray(parsed[k]) ? (parsed[k] as unknown[]) : [parsed[k]]))
    .filter((v): v is string => typeof v === 'string' && v !== '');
  const unique = [...new Set(names)];
  const threadIds = unique.filter((v) => THREAD_ID.test(v));
  const paths = unique.filter((v) => !THREAD_ID.test(v));
  return threadIds.length || paths.length ? { threadIds, paths } : undefined;
}

/** spawn_agent answers `{"agent_id": …}` (v1) or `{"task_name": "/root/…"}` (v2). */
function spawnedBy(callId: string, output: unknown, base: { time: number; line: number; ordinal?: number }): RolloutEvent[] {
  const text = Array.isArray(output) ? (output[0] as { text?: unknown } | undefined)?.text : output;
  const out = jsonObject(text);
  const threadId = typeof out?.agent_id === 'string' ? out.agent_id : undefined;
  const path = typeof out?.task_name === 'string' ? out.task_name : undefined;
  return threadId || path ? [{ kind: 'agent_spawned', ...base, callId, threadId, path }] : [];
}

const EVENT_TOOL_NAMES: Record<string, string> = {
  image_generation_end: 'image_generation',
  view_image_tool_call: 'view_image',
  dynamic_tool_call_response: 'dynamic_tool',
  collab_agent_spawn_end: 'spawn_agent',
  collab_agent_interaction_end: 'send_input',
  collab_waiting_end: 'wait',
  collab_close_end: 'close_agent',
  collab_resume_end: 'resume_agent',
};

const ITEM_TOOL_NAMES: Record<string, string> = {
  CommandExecution: 'exec_command',
  FileChange: 'apply_patch',
  DynamicToolCall: 'dynamic_tool',
  CollabAgentToolCall: 'collab_agent',
  ImageView: 'view_image',
  ImageGeneration: 'image_generation',
};

type Parsed<T> = { ok: true; value: T } | { ok: false; decoded: Decoded };

function parse<T>(schema: S.Schema<T>, value: unknown, line: number, type: string): Parsed<T> {
  const r = schema.safeParse(value);
  if (r.success) return { ok: true, value: r.data };
  return { ok: false, decoded: warn(line, type, issueText(r.error)) };
}

/**
 * The record that starts a session: a field of an unexpected shape (a newer or broken writer) is
 * left out and named, so the session keeps its id, time and everything else it recorded.
 */
type SessionMetaData = Extract<ReturnType<typeof S.SessionMeta.safeParse>, { success: true }>['data'];

function sessionMetaOf(value: unknown): { data?: SessionMetaData; problem: string } {
  const first = S.SessionMeta.safeParse(value);
  if (first.success) return { data: first.data, problem: '' };
  const problem = issueText(first.error);
  const again = S.SessionMeta.safeParse(omitPaths(value, first.error.issues.map((i) => i.path)));
  return again.success ? { data: again.data, problem: `${problem}; left out` } : { problem };
}

/** A copy of `value` without the fields at `paths` (only the objects along them are copied). */
function omitPaths(value: unknown, paths: PropertyKey[][]): unknown {
  const copy = (v: unknown): Record<PropertyKey, unknown> | undefined => (isObject(v) ? { ...v } : undefined);
  let root = value;
  for (const path of paths) {
    if (path.length === 0) return value;
    const top = copy(root);
    if (!top) return value;
    root = top;
    let at = top;
    for (const key of path.slice(0, -1)) {
      const next = copy(at[key]);
      if (!next) break;
      at[key] = next;
      at = next;
    }
    delete at[path[path.length - 1]!];
  }
  return root;
}

function withProblem(d: Decoded, line: number, problem: string): Decoded {
  return problem ? { ...d, warning: { line, type: 'session_meta', message: problem } } : d;
}

/** A schema failure naming the field it is about. */
function issueText(error: { issues: { path: PropertyKey[]; message: string }[] }): string {
  const issue = error.issues[0];
  return `${issue?.path.map(String).join('.') || 'payload'}: ${issue?.message ?? 'invalid'}`;
}

function one<T>(p: Parsed<T>, f: (v: T) => RolloutEvent | null): Decoded {
  if (!p.ok) return p.decoded;
  const e = f(p.value);
  return e ? { events: [e] } : NONE;
}

function warn(line: number, type: string, message: string): Decoded {
  return { events: [], warning: { line, type, message } };
}

function note(kind: 'thread_note' | 'turn_note', base: { time: number; line: number; ordinal?: number }, n: Note): Decoded {
  return { events: [{ kind, ...base, note: n }] };
}

function result(
  base: { time: number; line: number; ordinal?: number },
  callId: string,
  info: ToolResultInfo,
  extra: { name?: string; toolKind?: 'mcp' | 'web_search'; standalone?: boolean; content?: unknown } = {},
): RolloutEvent {
  return { kind: 'tool_result', ...base, callId, result: info, ...extra };
}

/** A failure as the result of the call, without its text (that is content). */
function failed(f: { errorType: string } | undefined): ToolResultInfo {
  return f ? { success: false, errorType: f.errorType } : {};
}

/** item_completed items: CommandExecution, FileChange, WebSearch carry what the call did. */
function itemSummary(item: Record<string, unknown>): ToolResultInfo['summary'] {
  if (item.type === 'CommandExecution') return commandSummary(item.command, item.parsed_cmd);
  if (item.type === 'FileChange') return patchChangesSummary(item.changes);
  if (item.type === 'WebSearch') return searchSummary(item.action, item.query);
  return undefined;
}

function statusFailure(status: unknown): ToolResultInfo {
  if (status === 'failed') return { success: false, errorType: 'failed' };
  if (status === 'declined') return { success: false, errorType: 'declined' };
  if (isObject(status) && 'errored' in status) return { success: false, errorType: 'agent_errored' };
  return {};
}

function usage(u: S.Infer<typeof S.TokenUsage>): Usage {
  return {
    input: u.input_tokens,
    cachedInput: u.cached_input_tokens,
    output: u.output_tokens,
    reasoningOutput: u.reasoning_output_tokens,
    cacheWriteInput: u.cache_write_input_tokens ?? undefined,
    total: u.total_tokens,
  };
}

function toMeta(m: S.Infer<typeof S.SessionMeta>, inferredTiming: boolean): ThreadMeta {
  const source = sourceOf(m.source);
  const spawn = source.spawn;
  return {
    threadId: m.id,
    sessionId: m.session_id ?? undefined,
    parentThreadId: m.parent_thread_id ?? spawn?.parent_thread_id ?? undefined,
    forkedFromId: m.forked_from_id ?? undefined,
    startTime: usableTime(Date.parse(m.timestamp)),
    cwd: m.cwd ?? undefined,
    originator: m.originator ?? undefined,
    cliVersion: m.cli_version ?? undefined,
    source: source.name,
    subagentKind: source.subagent,
    provider: m.model_provider ?? undefined,
    agentNickname: m.agent_nickname ?? spawn?.agent_nickname ?? undefined,
    agentRole: m.agent_role ?? m.agent_type ?? spawn?.agent_role ?? spawn?.agent_type ?? undefined,
    agentPath: m.agent_path ?? spawn?.agent_path ?? undefined,
    depth: spawn?.depth ?? undefined,
    git: m.git ? { commit: m.git.commit_hash ?? undefined, branch: m.git.branch ?? undefined, repositoryUrl: m.git.repository_url ?? undefined } : undefined,
    historyMode: m.history_mode ?? undefined,
    ownHistoryStartOrdinal: m.subagent_history_start_ordinal ?? undefined,
    inferredTiming,
  };
}

/** SessionSource is externally tagged: "cli" | {"subagent": "review" | {"thread_spawn": …} | {"other": …}} | … */
function sourceOf(src: unknown): { name?: string; subagent?: string; spawn?: S.Infer<typeof S.ThreadSpawn> } {
  if (typeof src === 'string') return { name: src };
  if (!isObject(src)) return {};
  const [key, inner] = Object.entries(src)[0] ?? [];
  if (key !== 'subagent') return { name: key && typeof inner === 'string' ? `${key}:${inner}` : key };
  if (typeof inner === 'string') return { name: 'subagent', subagent: inner };
  if (!isObject(inner)) return { name: 'subagent' };
  const [kind, detail] = Object.entries(inner)[0] ?? [];
  if (kind === 'thread_spawn') {
    const spawn = S.ThreadSpawn.safeParse(detail);
    return { name: 'subagent', subagent: 'thread_spawn', spawn: spawn.success ? spawn.data : undefined };
  }
  if (kind === 'other' && typeof detail === 'string') return { name: 'subagent', subagent: detail };
  return { name: 'subagent', subagent: kind };
}

function policyName(p: unknown): string | undefined {
  if (typeof p === 'string') return p;
  if (!isObject(p)) return undefined;
  if (typeof p.type === 'string') return p.type;
  if (typeof p.mode === 'string') return p.mode;
  return Object.keys(p)[0];
}

function reasoningText(p: Record<string, unknown>): string | undefined {
  const text = contentText(p.summary);
  return text || undefined;
}

const INJECTED = /^\s*(?:<environment_context>|<user_instructions>|<permissions instructions>|<INSTRUCTIONS>|# AGENTS\.md instructions|<turn_aborted>|<subagent_notification>|<skills_instructions>|<collaboration_mode>|<user_shell_command>)/;

export function isInjectedContext(text: string): boolean {
  return INJECTED.test(text);
}

function num(v: unknown): number {
  return typeof v === 'number' ? v : 0;
}
