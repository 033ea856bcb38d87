import { lazySchemas, type Infer, type Schema } from '../lazy-schema.js';

export type { Infer, Schema };

// The generic append-only pattern: one JSON event per line, `{"type", "seq", "item", time}`.
// Writers differ in spelling, so each field accepts its common aliases; objects stay open.

function build(z: typeof import('zod').z) {
  const text = z.union([z.string(), z.array(z.unknown()), z.looseObject({})]).nullish();
  const id = z.union([z.string(), z.number().transform(String)]).nullish();
  const count = z.number().nonnegative().nullish();

  const Line = z.looseObject({
    type: z.string(),
    seq: z.number().nullish(),
    item: z.looseObject({}).nullish(),
    timestamp: z.union([z.string(), z.number()]).nullish(),
    ts: z.union([z.string(), z.number()]).nullish(),
    time: z.union([z.string(), z.number()]).nullish(),
  });

  const SessionMeta = z.looseObject({
    id,
    session_id: id,
    thread_id: id,
    parent_id: id,
    parent_session_id: id,
    agent: z.string().nullish(),
    agent_name: z.string().nullish(),
    name: z.string().nullish(),
    model: z.string().nullish(),
    provider: z.string().nullish(),
    cwd: z.string().nullish(),
    version: z.string().nullish(),
    agent_version: z.string().nullish(),
  });

  const Usage = z.looseObject({
    input_tokens: count,
    prompt_tokens: count,
    output_tokens: count,
    completion_tokens: count,
    cached_input_tokens: count,
    cache_read_input_tokens: count,
    cached_tokens: count,
    cache_creation_input_tokens: count,
    reasoning_tokens: count,
    reasoning_output_tokens: count,
    total_tokens: count,
    input_tokens_details: z.looseObject({ cached_tokens: count }).nullish(),
    prompt_tokens_details: z.looseObject({ cached_tokens: count }).nullish(),
    output_tokens_details: z.looseObject({ reasoning_tokens: count }).nullish(),
    completion_tokens_details: z.looseObject({ reasoning_tokens: count }).nullish(),
  });

  const Message = z.looseObject({
    text,
    content: text,
    message: text,
    model: z.string().nullish(),
    usage: Usage.nullish(),
  });

  // A call's id under any of its usual names; `callIdOf` picks one.
  const callIds = { call_id: id, tool_call_id: id, id };

  const ToolCall = z.looseObject({
    ...callIds,
    name: z.string().nullish(),
    tool: z.string().nullish(),
    tool_name: z.string().nullish(),
    arguments: z.unknown().optional(),
    input: z.unknown().optional(),
    args: z.unknown().optional(),
    model: z.string().nullish(),
    usage: Usage.nullish(),
  });

  const ToolResult = z.looseObject({
    ...callIds,
    name: z.string().nullish(),
    output: z.unknown().optional(),
    result: z.unknown().optional(),
    content: z.unknown().optional(),
    exit_code: z.number().int().nullish(),
    exitCode: z.number().int().nullish(),
    duration_ms: z.number().nonnegative().nullish(),
    is_error: z.boolean().nullish(),
    error: z.unknown().optional(),
    status: z.string().nullish(),
    success: z.boolean().nullish(),
  });

  const ErrorItem = z.looseObject({
    message: text,
    error: text,
    text,
    type: z.string().nullish(),
    code: z.union([z.string(), z.number()]).nullish(),
    call_id: id,
    tool_call_id: id,
  });


  const Turn = z.looseObject({
    turn_id: id,
    id,
    status: z.string().nullish(),
    error: z.string().nullish(),
  });
  return { Line, SessionMeta, Usage, Message, ToolCall, ToolResult, ErrorItem, Turn };
}

const lazy = lazySchemas(build);
export const Line = lazy('Line');
export const SessionMeta = lazy('SessionMeta');
export const Usage = lazy('Usage');
export const Message = lazy('Message');
export const ToolCall = lazy('ToolCall');
export const ToolResult = lazy('ToolResult');
export const ErrorItem = lazy('ErrorItem');
export const Turn = lazy('Turn');

export function callIdOf(c: { call_id?: string | null; tool_call_id?: string | null; id?: string | null }): string | undefined {
  return c.call_id ?? c.tool_call_id ?? c.id ?? undefined;
}
