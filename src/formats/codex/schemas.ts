import type { z } from 'zod';
import { isObject } from '../json.js';
import { lazySchemas, type Infer, type Schema } from '../lazy-schema.js';

// The hand-written checks below answer for the lines Codex usually writes; zod only for the rest.

export type { Infer, Schema };

function build(z: typeof import('zod').z) {
  // Only the fields the translator reads are declared; every object stays open (looseObject)
  // because Codex adds fields almost every week. Optional fields accept null as well.
  const opt = <T extends z.ZodTypeAny>(t: T) => t.nullish();
  const str = opt(z.string());
  // Numbers Codex writes as numbers; some tools rewrite them as strings. Unusable values become absent.
  const num = z
    .unknown()
    .transform((v) => {
      if (typeof v === 'number' && Number.isFinite(v)) return v;
      if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
      return undefined;
    })
    .optional();

  const TokenUsage = z.looseObject({
    input_tokens: z.number().default(0),
    cached_input_tokens: z.number().default(0),
    output_tokens: z.number().default(0),
    reasoning_output_tokens: z.number().default(0),
    cache_write_input_tokens: num,
    total_tokens: z.number().default(0),
  });

  const ThreadSpawn = z.looseObject({
    parent_thread_id: z.string(),
    depth: num,
    agent_path: str,
    agent_nickname: str,
    agent_role: str,
    agent_type: str,
  });

  const SessionMeta = z.looseObject({
    id: z.string(),
    timestamp: z.string(),
    session_id: str,
    parent_thread_id: str,
    forked_from_id: str,
    cwd: str,
    originator: str,
    cli_version: str,
    source: z.unknown().optional(),
    model_provider: str,
    agent_nickname: str,
    agent_role: str,
    agent_type: str,
    agent_path: str,
    history_mode: str,
    subagent_history_start_ordinal: num,
    git: opt(z.looseObject({ commit_hash: str, branch: str, repository_url: str })),
  });

  const TurnStarted = z.looseObject({ turn_id: str, started_at: num, root_turn_id: str });

  const ErrorEvent = z.looseObject({ message: str, codex_error_info: z.unknown().optional() });

  const TurnEnded = z.looseObject({
    turn_id: str,
    reason: str,
    error: opt(ErrorEvent),
    started_at: num,
    completed_at: num,
    duration_ms: num,
  });

  const TurnContext = z.looseObject({
    turn_id: str,
    model: str,
    cwd: str,
    approval_policy: z.unknown().optional(),
    sandbox_policy: z.unknown().optional(),
    effort: str,
  });

  const TokenCount = z.looseObject({
    info: opt(z.looseObject({ total_token_usage: TokenUsage, last_token_usage: TokenUsage })),
  });

  const UserMessageEvent = z.looseObject({ message: z.string().default(''), kind: str });

  const Duration = z.looseObject({ secs: z.number(), nanos: z.number().default(0) });

  const ExecCommandEnd = z.looseObject({
    call_id: z.string(),
    exit_code: num,
    duration: opt(Duration),
    status: str,
    completed_at_ms: num,
  });

  const PatchApplyEnd = z.looseObject({ call_id: z.string(), success: opt(z.boolean()), status: str });

  const McpToolCallEnd = z.looseObject({
    call_id: z.string(),
    invocation: opt(z.looseObject({ server: str, tool: str })),
    duration: opt(Duration),
    result: z.unknown().optional(),
  });

  const WebSearchEnd = z.looseObject({ call_id: z.string(), query: str });

  const CallIdEvent = z.looseObject({
    call_id: z.string(),
    completed_at_ms: num,
    status: z.unknown().optional(),
    success: opt(z.boolean()),
    duration: opt(Duration),
  });

  const ItemCompleted = z.looseObject({
    turn_id: str,
    started_at_ms: num,
    completed_at_ms: num,
    item: z.looseObject({ type: z.string(), id: str }),
  });

  const Compacted = z.looseObject({
    message: z.string().default(''),
    replacement_history: opt(z.array(z.unknown())),
    window_number: num,
  });

  const FunctionCall = z.looseObject({
    name: z.string(),
    namespace: str,
    arguments: z.unknown().optional(),
    call_id: str,
  });

  const CustomToolCall = z.looseObject({ name: z.string(), namespace: str, input: z.unknown().optional(), call_id: str });

  const ToolOutput = z.looseObject({ call_id: str, output: z.unknown().optional() });

  const LocalShellCall = z.looseObject({ call_id: str, action: z.unknown().optional() });

  const Message = z.looseObject({ role: z.string(), content: z.unknown().optional() });

  return { TokenUsage, ThreadSpawn, SessionMeta, TurnStarted, ErrorEvent, TurnEnded, TurnContext, TokenCount, UserMessageEvent, Duration, ExecCommandEnd, PatchApplyEnd, McpToolCallEnd, WebSearchEnd, CallIdEvent, ItemCompleted, Compacted, FunctionCall, CustomToolCall, ToolOutput, LocalShellCall, Message };
}

const make = lazySchemas(build);
// the quick check is looked up at use: the checks below are written against the schemas themselves
type Built = ReturnType<typeof build>;
function lazy<K extends keyof Built>(name: K): Schema<z.output<Built[K]>> {
  const schema: Schema<z.output<Built[K]>> = make(name, (value) => QUICK_CHECKS.get(schema as Schema<unknown>)?.(value));
  return schema;
}

export const TokenUsage = lazy('TokenUsage');
export const ThreadSpawn = lazy('ThreadSpawn');
export const SessionMeta = lazy('SessionMeta');
export const TurnStarted = lazy('TurnStarted');
export const ErrorEvent = lazy('ErrorEvent');
export const TurnEnded = lazy('TurnEnded');
export const TurnContext = lazy('TurnContext');
export const TokenCount = lazy('TokenCount');
export const UserMessageEvent = lazy('UserMessageEvent');
export const Duration = lazy('Duration');
export const ExecCommandEnd = lazy('ExecCommandEnd');
export const PatchApplyEnd = lazy('PatchApplyEnd');
export const McpToolCallEnd = lazy('McpToolCallEnd');
export const WebSearchEnd = lazy('WebSearchEnd');
export const CallIdEvent = lazy('CallIdEvent');
export const ItemCompleted = lazy('ItemCompleted');
export const Compacted = lazy('Compacted');
export const FunctionCall = lazy('FunctionCall');
export const CustomToolCall = lazy('CustomToolCall');
export const ToolOutput = lazy('ToolOutput');
export const LocalShellCall = lazy('LocalShellCall');
export const Message = lazy('Message');

// Hand-written checks for the commonest lines, where zod's copying dominated decoding. Each one
// accepts a value only when the schema would accept it and return it unchanged (every field already
// in its output form: no default to fill, no number to convert) and then hands back the value itself;
// anything else goes through the schema, so results and warnings stay the schema's.
type Obj = Record<string, unknown>;
const isObj = isObject;
/** `str` */
const isStr = (v: unknown) => v === undefined || v === null || typeof v === 'string';
/** `num`, when it keeps the value as it is */
const isNum = (v: unknown) => v === undefined || (typeof v === 'number' && Number.isFinite(v));
/** `z.number().default(0)`, when the default is not needed */
const isCount = (v: unknown) => typeof v === 'number' && Number.isFinite(v);
const isBool = (v: unknown) => v === undefined || v === null || typeof v === 'boolean';
const isDuration = (v: unknown) => v === undefined || v === null || (isObj(v) && isCount(v.secs) && isCount(v.nanos));
const isUsage = (u: unknown) =>
  isObj(u) && isCount(u.input_tokens) && isCount(u.cached_input_tokens) && isCount(u.output_tokens) &&
  isCount(u.reasoning_output_tokens) && isNum(u.cache_write_input_tokens) && isCount(u.total_tokens);

const when = <T>(_schema: Schema<T>, ok: (v: Obj) => boolean) => (v: unknown): T | undefined =>
  isObj(v) && ok(v) ? (v as T) : undefined;

export const QUICK_CHECKS = new Map<Schema<unknown>, (v: unknown) => unknown>([
  [TokenCount, when(TokenCount, (v) => v.info === undefined || v.info === null || (isObj(v.info) && isUsage(v.info.total_token_usage) && isUsage(v.info.last_token_usage)))],
  [FunctionCall, when(FunctionCall, (v) => typeof v.name === 'string' && isStr(v.namespace) && isStr(v.call_id))],
  [CustomToolCall, when(CustomToolCall, (v) => typeof v.name === 'string' && isStr(v.namespace) && isStr(v.call_id))],
  [ToolOutput, when(ToolOutput, (v) => isStr(v.call_id))],
  [Message, when(Message, (v) => typeof v.role === 'string')],
  [TurnContext, when(TurnContext, (v) => isStr(v.turn_id) && isStr(v.model) && isStr(v.cwd) && isStr(v.effort))],
  [ExecCommandEnd, when(ExecCommandEnd, (v) => typeof v.call_id === 'string' && isNum(v.exit_code) && isDuration(v.duration) && isStr(v.status) && isNum(v.completed_at_ms))],
  [PatchApplyEnd, when(PatchApplyEnd, (v) => typeof v.call_id === 'string' && isBool(v.success) && isStr(v.status))],
  [CallIdEvent, when(CallIdEvent, (v) => typeof v.call_id === 'string' && isNum(v.completed_at_ms) && isBool(v.success) && isDuration(v.duration))],
  [TurnStarted, when(TurnStarted, (v) => isStr(v.turn_id) && isNum(v.started_at) && isStr(v.root_turn_id))],
  [TurnEnded, when(TurnEnded, (v) =>
    isStr(v.turn_id) && isStr(v.reason) && isNum(v.started_at) && isNum(v.completed_at) && isNum(v.duration_ms) &&
    (v.error === undefined || v.error === null || (isObj(v.error) && isStr(v.error.message))))],
  [UserMessageEvent, when(UserMessageEvent, (v) => typeof v.message === 'string' && isStr(v.kind))],
  [SessionMeta, when(SessionMeta, (v) =>
    typeof v.id === 'string' && typeof v.timestamp === 'string' && isStr(v.session_id) && isStr(v.parent_thread_id) &&
    isStr(v.forked_from_id) && isStr(v.cwd) && isStr(v.originator) && isStr(v.cli_version) && isStr(v.model_provider) &&
    isStr(v.agent_nickname) && isStr(v.agent_role) && isStr(v.agent_type) && isStr(v.agent_path) && isStr(v.history_mode) &&
    isNum(v.subagent_history_start_ordinal) &&
    (v.git === undefined || v.git === null || (isObj(v.git) && isStr(v.git.commit_hash) && isStr(v.git.branch) && isStr(v.git.repository_url))))],
  [ThreadSpawn, when(ThreadSpawn, (v) =>
    typeof v.parent_thread_id === 'string' && isNum(v.depth) && isStr(v.agent_path) && isStr(v.agent_nickname) && isStr(v.agent_role) && isStr(v.agent_type))],
  [Duration, when(Duration, (v) => isCount(v.secs) && isCount(v.nanos))],
  [WebSearchEnd, when(WebSearchEnd, (v) => typeof v.call_id === 'string' && isStr(v.query))],
  [ItemCompleted, when(ItemCompleted, (v) =>
    isStr(v.turn_id) && isNum(v.started_at_ms) && isNum(v.completed_at_ms) && isObj(v.item) && typeof v.item.type === 'string' && isStr(v.item.id))],
  [Compacted, when(Compacted, (v) =>
    typeof v.message === 'string' && (v.replacement_history === undefined || v.replacement_history === null || Array.isArray(v.replacement_history)) && isNum(v.window_number))],
  [McpToolCallEnd, when(McpToolCallEnd, (v) =>
    typeof v.call_id === 'string' && isDuration(v.duration) &&
    (v.invocation === undefined || v.invocation === null || (isObj(v.invocation) && isStr(v.invocation.server) && isStr(v.invocation.tool))))],
  [LocalShellCall, when(LocalShellCall, (v) => isStr(v.call_id))],
]);
