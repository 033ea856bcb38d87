import { lazySchemas, type Infer } from '../lazy-schema.js';

export type { Infer };

// Claude Code transcript lines (`~/.claude/projects/<slug>/<sessionId>.jsonl`). The format changes
// often between releases: every object stays open and every field but `type` is optional.

function build(z: typeof import('zod').z) {
  const str = z.string().nullish();
  const count = z.number().nonnegative().nullish();

  /** the fields every conversation line shares */
  const Line = z.looseObject({
    type: z.string(),
    subtype: str,
    uuid: str,
    parentUuid: str,
    sessionId: str,
    session_id: str,
    agentId: str,
    timestamp: str,
    version: str,
    cwd: str,
    gitBranch: str,
    isSidechain: z.boolean().nullish(),
    isMeta: z.boolean().nullish(),
    promptId: str,
  });

  const Block = z.looseObject({ type: z.string() });

  const UserLine = z.looseObject({
    message: z.looseObject({ content: z.union([z.string(), z.array(Block)]) }),
    isCompactSummary: z.boolean().nullish(),
    isVisibleInTranscriptOnly: z.boolean().nullish(),
    toolUseResult: z.unknown().optional(),
    origin: z.looseObject({ kind: str }).nullish(),
  });

  const ToolResultBlock = z.looseObject({
    type: z.literal('tool_result'),
    tool_use_id: z.string(),
    content: z.unknown().optional(),
    is_error: z.boolean().nullish(),
  });

  const Usage = z.looseObject({
    input_tokens: count,
    output_tokens: count,
    cache_creation_input_tokens: count,
    cache_read_input_tokens: count,
  });

  const AssistantLine = z.looseObject({
    requestId: str,
    isApiErrorMessage: z.boolean().nullish(),
    error: z.unknown().optional(),
    message: z.looseObject({
      id: str,
      model: str,
      content: z.union([z.string(), z.array(Block)]).nullish(),
      usage: Usage.nullish(),
      stop_reason: str,
    }),
  });

  const ToolUseBlock = z.looseObject({
    type: z.literal('tool_use'),
    id: z.string(),
    name: z.string(),
    input: z.unknown().optional(),
  });

  const ApiError = z.looseObject({
    error: z.looseObject({
      status: z.number().nullish(),
      error: z.looseObject({ error: z.looseObject({ type: str, message: str }).nullish() }).nullish(),
    }).nullish(),
    retryAttempt: count,
    maxRetries: count,
    retryInMs: count,
  });

  const Compact = z.looseObject({
    compactMetadata: z.looseObject({ trigger: str, preTokens: count, postTokens: count, durationMs: count }).nullish(),
    microcompactMetadata: z.looseObject({
      trigger: str, preTokens: count, tokensSaved: count, compactedToolIds: z.array(z.unknown()).nullish(),
    }).nullish(),
  });

  const TurnDuration = z.looseObject({ durationMs: count });

  const HookSummary = z.looseObject({
    hookErrors: z.array(z.unknown()).nullish(),
    hookInfos: z.array(z.looseObject({ command: str })).nullish(),
  });

  const Attachment = z.looseObject({
    attachment: z.looseObject({ type: z.string(), hookEvent: str, hookName: str, command: str, stderr: str, error: str, content: z.unknown().optional() }),
  });

  const Progress = z.looseObject({
    parentToolUseID: str,
    data: z.looseObject({
      type: z.string(),
      agentId: str,
      message: z.looseObject({ type: z.string() }).nullish(),
    }),
  });

  return { Line, UserLine, ToolResultBlock, AssistantLine, ToolUseBlock, ApiError, Compact, TurnDuration, HookSummary, Attachment, Progress };
}

const lazy = lazySchemas(build);
export const Line = lazy('Line');
export const UserLine = lazy('UserLine');
export const ToolResultBlock = lazy('ToolResultBlock');
export const AssistantLine = lazy('AssistantLine');
export const ToolUseBlock = lazy('ToolUseBlock');
export const ApiError = lazy('ApiError');
export const Compact = lazy('Compact');
export const TurnDuration = lazy('TurnDuration');
export const HookSummary = lazy('HookSummary');
export const Attachment = lazy('Attachment');
export const Progress = lazy('Progress');
