import { z } from 'zod';

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

export const TokenUsage = z.looseObject({
  input_tokens: z.number().default(0),
  cached_input_tokens: z.number().default(0),
  output_tokens: z.number().default(0),
  reasoning_output_tokens: z.number().default(0),
  cache_write_input_tokens: num,
  total_tokens: z.number().default(0),
});

export const ThreadSpawn = z.looseObject({
  parent_thread_id: z.string(),
  depth: num,
  agent_path: str,
  agent_nickname: str,
  agent_role: str,
  agent_type: str,
});

export const SessionMeta = z.looseObject({
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

export const TurnStarted = z.looseObject({ turn_id: str, started_at: num, root_turn_id: str });

export const ErrorEvent = z.looseObject({ message: str, codex_error_info: z.unknown().optional() });

export const TurnEnded = z.looseObject({
  turn_id: str,
  reason: str,
  error: opt(ErrorEvent),
  started_at: num,
  completed_at: num,
  duration_ms: num,
});

export const TurnContext = z.looseObject({
  turn_id: str,
  model: str,
  cwd: str,
  approval_policy: z.unknown().optional(),
  sandbox_policy: z.unknown().optional(),
  effort: str,
});

export const TokenCount = z.looseObject({
  info: opt(z.looseObject({ total_token_usage: TokenUsage, last_token_usage: TokenUsage })),
});

export const UserMessageEvent = z.looseObject({ message: z.string().default(''), kind: str });

export const Duration = z.looseObject({ secs: z.number(), nanos: z.number().default(0) });

export const ExecCommandEnd = z.looseObject({
  call_id: z.string(),
  exit_code: num,
  duration: opt(Duration),
  status: str,
  completed_at_ms: num,
});

export const PatchApplyEnd = z.looseObject({ call_id: z.string(), success: opt(z.boolean()), status: str });

export const McpToolCallEnd = z.looseObject({
  call_id: z.string(),
  invocation: opt(z.looseObject({ server: str, tool: str })),
  duration: opt(Duration),
  result: z.unknown().optional(),
});

export const WebSearchEnd = z.looseObject({ call_id: z.string(), query: str });

export const CallIdEvent = z.looseObject({
  call_id: z.string(),
  completed_at_ms: num,
  status: z.unknown().optional(),
  success: opt(z.boolean()),
  duration: opt(Duration),
});

export const ItemCompleted = z.looseObject({
  turn_id: str,
  started_at_ms: num,
  completed_at_ms: num,
  item: z.looseObject({ type: z.string(), id: str }),
});

export const Compacted = z.looseObject({
  message: z.string().default(''),
  replacement_history: opt(z.array(z.unknown())),
  window_number: num,
});

export const FunctionCall = z.looseObject({
  name: z.string(),
  namespace: str,
  arguments: z.unknown().optional(),
  call_id: str,
});

export const CustomToolCall = z.looseObject({ name: z.string(), namespace: str, input: z.unknown().optional(), call_id: str });

export const ToolOutput = z.looseObject({ call_id: str, output: z.unknown().optional() });

export const LocalShellCall = z.looseObject({ call_id: str, action: z.unknown().optional() });

export const Message = z.looseObject({ role: z.string(), content: z.unknown().optional() });

// Hand-written checks for the commonest lines, where zod's copying dominated decoding. Each one
// accepts a value only when the schema would accept it and return it unchanged (every field already
// in its output form: no default to fill, no number to convert) and then hands back the value itself;
// anything else goes through the schema, so results and warnings stay the schema's.
type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
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

const when = <T extends z.ZodTypeAny>(_schema: T, ok: (v: Obj) => boolean) => (v: unknown): z.infer<T> | undefined =>
  isObj(v) && ok(v) ? (v as z.infer<T>) : undefined;

export const QUICK_CHECKS = new Map<z.ZodTypeAny, (v: unknown) => unknown>([
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
]);
