import { z } from 'zod';

// Codex rollout trace bundles (`CODEX_ROLLOUT_TRACE_ROOT`). Only what the translator reads is
// declared; every object stays open, and every optional field accepts null, because the producer
// keeps adding variants and fields.
const str = z.string().nullish();
const num = z.number().nullish();
/** ids Codex writes as strings, that hand-written or older files may give as numbers */
const id = z.union([z.string(), z.number()]).transform(String);

export const PayloadRef = z.looseObject({
  raw_payload_id: str,
  kind: z.looseObject({ type: z.string() }).nullish(),
  path: z.string(),
});
export type PayloadRef = z.infer<typeof PayloadRef>;
const ref = PayloadRef.nullish();

export const Manifest = z.looseObject({
  schema_version: num,
  trace_id: str,
  rollout_id: str,
  root_thread_id: str,
  started_at_unix_ms: num,
});
export type Manifest = z.infer<typeof Manifest>;

/** The envelope every `trace.jsonl` line has; the payload is checked per variant. */
export const Envelope = z.looseObject({
  seq: z.number(),
  wall_time_unix_ms: z.number(),
  thread_id: str,
  codex_turn_id: str,
  payload: z.looseObject({ type: z.string() }),
});
export type Envelope = z.infer<typeof Envelope>;

const ToolKind = z.looseObject({ type: z.string(), name: str, server: str, tool: str });
const Summary = z.looseObject({ type: z.string(), label: str, target_agent_path: str });
const Requester = z.looseObject({ type: z.string(), runtime_cell_id: id.nullish() });

export const Variants = {
  rollout_started: z.looseObject({ trace_id: str, root_thread_id: str }),
  rollout_ended: z.looseObject({ status: str }),
  thread_started: z.looseObject({ thread_id: z.string(), agent_path: str, metadata_payload: ref }),
  thread_ended: z.looseObject({ thread_id: z.string(), status: str }),
  codex_turn_started: z.looseObject({ codex_turn_id: z.string(), thread_id: str }),
  codex_turn_ended: z.looseObject({ codex_turn_id: z.string(), status: str }),
  inference_started: z.looseObject({
    inference_call_id: z.string(), thread_id: str, codex_turn_id: str, model: str, provider_name: str, request_payload: ref,
  }),
  inference_completed: z.looseObject({ inference_call_id: z.string(), response_id: str, upstream_request_id: str, response_payload: ref }),
  inference_failed: z.looseObject({ inference_call_id: z.string(), upstream_request_id: str, error: str, partial_response_payload: ref }),
  inference_cancelled: z.looseObject({ inference_call_id: z.string(), upstream_request_id: str, reason: str, partial_response_payload: ref }),
  tool_call_started: z.looseObject({
    tool_call_id: z.string(),
    model_visible_call_id: str,
    code_mode_runtime_tool_id: str,
    requester: Requester.nullish(),
    kind: ToolKind.nullish(),
    summary: Summary.nullish(),
    invocation_payload: ref,
  }),
  mcp_tool_call_correlation_assigned: z.looseObject({ tool_call_id: z.string(), mcp_call_id: str }),
  tool_call_runtime_started: z.looseObject({ tool_call_id: z.string(), runtime_payload: ref }),
  tool_call_runtime_ended: z.looseObject({ tool_call_id: z.string(), status: str, runtime_payload: ref }),
  tool_call_ended: z.looseObject({ tool_call_id: z.string(), status: str, result_payload: ref }),
  code_cell_started: z.looseObject({ runtime_cell_id: id, model_visible_call_id: z.string(), source_js: str }),
  code_cell_initial_response: z.looseObject({ runtime_cell_id: id, status: str, response_payload: ref }),
  code_cell_ended: z.looseObject({ runtime_cell_id: id, status: str, response_payload: ref }),
  compaction_request_started: z.looseObject({
    compaction_id: z.string(), compaction_request_id: z.string(), thread_id: str, codex_turn_id: str, model: str, provider_name: str,
  }),
  compaction_request_completed: z.looseObject({ compaction_id: z.string(), compaction_request_id: z.string() }),
  compaction_request_failed: z.looseObject({ compaction_id: z.string(), compaction_request_id: z.string(), error: str }),
  compaction_installed: z.looseObject({ compaction_id: z.string(), checkpoint_payload: ref }),
  agent_result_observed: z.looseObject({
    edge_id: str, child_thread_id: z.string(), child_codex_turn_id: str, parent_thread_id: z.string(), carried_payload: ref,
  }),
  protocol_event_observed: z.looseObject({ event_type: z.string(), event_payload: ref }),
  other: z.looseObject({ kind: str, summary: str }),
} as const;
export type VariantType = keyof typeof Variants;
export type Variant<K extends VariantType> = z.infer<(typeof Variants)[K]>;

// ── payload files ───────────────────────────────────────────────────────────────────────────
// Each field of a payload file is read on its own: a field of an unexpected type is lost alone,
// and named (see `readPayload`), instead of taking the whole payload with it.

/** Where the fields found unusable during one `readPayload` go (parsing is synchronous). */
let unusable: string[] | undefined;

type Lenient<S extends Record<string, z.ZodType>> = { [K in keyof S]: z.ZodCatch<z.ZodOptional<S[K]>> };

/** An open object whose fields fail alone; `at` prefixes the field names reported. */
function fields<S extends Record<string, z.ZodType>>(shape: S, at = '') {
  const lenient: Record<string, z.ZodType> = {};
  for (const [key, schema] of Object.entries(shape)) {
    lenient[key] = schema.optional().catch((ctx: z.core.$ZodCatchCtx) => {
      unusable?.push(`${at}${key}${describe(ctx.issues[0], ctx.value)}`);
      return undefined;
    });
  }
  return z.looseObject(lenient as Lenient<S>);
}

const typeName = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

function describe(issue: z.core.$ZodRawIssue | undefined, value: unknown): string {
  const path = issue?.path?.length ? `.${issue.path.join('.')}` : '';
  const expected = issue?.code === 'invalid_type' ? `expected ${issue.expected}, ` : '';
  return `${path}: ${expected}got ${typeName(issue && 'input' in issue ? issue.input : value)}`;
}

/**
 * Reads a payload file's value: what is usable, and in `bad` the fields that were there but could
 * not be used (or that the value is not an object at all). An absent value is no problem.
 */
export function readPayload<T extends z.ZodType>(schema: T, value: unknown, bad: string[]): z.infer<T> | undefined {
  if (value === undefined) return undefined;
  const outer = unusable;
  unusable = [];
  try {
    const r = schema.safeParse(value);
    bad.push(...unusable);
    if (!r.success) bad.push(`not an object (got ${typeName(value)})`);
    return r.success ? r.data : undefined;
  } finally {
    unusable = outer;
  }
}

const ThreadSpawn = fields({ parent_thread_id: str, depth: num, agent_path: str, agent_nickname: str, agent_role: str }, 'session_source.subagent.thread_spawn.');
const SessionSource = fields({ subagent: z.union([z.string(), fields({ thread_spawn: ThreadSpawn.nullish() }, 'session_source.subagent.')]).nullish() }, 'session_source.');

export const SessionMetadata = fields({
  agent_path: str,
  task_name: str,
  nickname: str,
  agent_role: str,
  session_source: z.union([z.string(), SessionSource]).nullish(),
  cwd: str,
  model: str,
  provider_name: str,
  approval_policy: str,
  sandbox_policy: str,
});

/** Usage counts only with its four required fields (checked by the reader). */
export const TokenUsage = fields({
  input_tokens: num,
  cached_input_tokens: num,
  cache_write_input_tokens: num,
  output_tokens: num,
  reasoning_output_tokens: num,
  total_tokens: num,
}, 'token_usage.');

export const InferenceResponse = fields({
  response_id: str,
  upstream_request_id: str,
  token_usage: z.unknown(),
  output_items: z.array(z.unknown()).nullish(),
});

export const InferenceRequest = fields({ input: z.array(z.unknown()).nullish() });

export const ToolInvocation = fields({
  tool_name: str,
  tool_namespace: str,
  payload: fields({ type: str, arguments: z.unknown(), input: z.unknown() }, 'payload.').nullish(),
});

/** What a dispatched tool handed back: to the model, to JS, or an error. */
export const DispatchResult = fields({
  type: str,
  response_item: fields({ output: z.unknown() }, 'response_item.').nullish(),
  value: z.unknown(),
  error: str,
});

/** A code cell's runtime answer: `{response: {Yielded|Terminated|Result: {...}}}`. */
export const CellResult = fields({
  response: z.record(z.string(), fields({ content_items: z.array(z.unknown()).nullish(), error_text: str }, 'response.*.')).nullish(),
});

const Duration = z.looseObject({ secs: z.number(), nanos: z.number().default(0) });

/** Protocol begin/end bodies without their type tag: told apart by their fields. */
export const RuntimeEvent = fields({
  process_id: id.nullish(),
  command: z.array(z.string()).nullish(),
  exit_code: num,
  duration: Duration.nullish(),
  status: z.unknown(),
  success: z.boolean().nullish(),
  invocation: fields({ server: str, tool: str }, 'invocation.').nullish(),
  result: z.unknown(),
  new_thread_id: str,
  receiver_thread_id: str,
  receiver_thread_ids: z.array(z.string()).nullish(),
  agent_thread_id: str,
  kind: str,
});

export const Checkpoint = fields({
  input_history: z.array(z.unknown()).nullish(),
  replacement_history: z.array(z.unknown()).nullish(),
});

/** A protocol `EventMsg` breadcrumb: turn ends, aborts and errors. */
export const ProtocolEvent = fields({
  type: str,
  turn_id: str,
  reason: str,
  /** `turn_complete.error` (older or future builds) */
  error: z.unknown(),
  /** `error` events: ErrorEvent {message, codex_error_info} */
  message: str,
  codex_error_info: z.unknown(),
});
