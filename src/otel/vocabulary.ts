import type { Attributes } from '@opentelemetry/api';
import { put } from './span-values.js';
import type { CompactionFacts, ModelCallFacts, Note, ThreadRecordFacts, ToolCallFacts, TurnFacts } from '../model/types.js';

// Every attribute key the product writes, in one table (the README's "Attribute vocabulary" lists
// the same keys; a test holds them equal). Only `otel/` names span vocabulary.

export type Where = 'resource' | 'invoke_agent' | 'turn' | 'chat' | 'execute_tool' | 'terminal' | 'compaction' | 'compaction_request' | 'event' | 'link' | 'all';

export interface Term {
  key: string;
  on: Where[];
  meaning: string;
}

export const VOCABULARY: readonly Term[] = [
  { key: 'service.name', on: ['resource'], meaning: '--service-name, OTEL_SERVICE_NAME, else the agent' },
  { key: 'service.version', on: ['resource'], meaning: 'the agent version that wrote the log' },
  { key: 'host.name', on: ['resource'], meaning: 'this machine' },
  { key: 'telemetry.sdk.name', on: ['resource'], meaning: 'opentelemetry' },
  { key: 'telemetry.sdk.language', on: ['resource'], meaning: 'nodejs' },
  { key: 'telemetry.sdk.version', on: ['resource'], meaning: 'OTel JS SDK version' },
  { key: 'gen_ai.operation.name', on: ['invoke_agent', 'turn', 'chat', 'execute_tool', 'compaction_request'], meaning: 'invoke_agent, handle_conversation_turn, chat (compaction requests too), execute_tool' },
  { key: 'openinference.span.kind', on: ['all'], meaning: 'AGENT, CHAIN (turns, compactions), LLM, TOOL (tools, terminal work)' },
  { key: 'rollout.title', on: ['invoke_agent'], meaning: 'root only: repo or cwd basename @ branch (+ first prompt words with content); also ends the span name' },
  { key: 'session.id', on: ['invoke_agent'], meaning: 'the conversation id again, for OpenInference session views' },
  { key: 'gen_ai.agent.name', on: ['invoke_agent', 'turn'], meaning: 'agent name, nickname, role or path' },
  { key: 'gen_ai.agent.id', on: ['invoke_agent', 'turn'], meaning: 'thread id' },
  { key: 'gen_ai.conversation.id', on: ['invoke_agent', 'turn', 'chat', 'execute_tool'], meaning: 'session id as recorded' },
  { key: 'gen_ai.provider.name', on: ['invoke_agent', 'chat', 'compaction_request'], meaning: 'model provider' },
  { key: 'gen_ai.request.model', on: ['turn', 'chat', 'compaction_request'], meaning: 'model' },
  { key: 'gen_ai.response.id', on: ['chat'], meaning: 'response id (bundles)' },
  { key: 'gen_ai.invocation.is_nested', on: ['invoke_agent', 'turn'], meaning: 'true for sub-agents' },
  { key: 'gen_ai.conversation.compacted', on: ['chat'], meaning: 'first response after a compaction' },
  { key: 'gen_ai.usage.input_tokens', on: ['turn', 'chat'], meaning: 'input tokens, cached included' },
  { key: 'gen_ai.usage.output_tokens', on: ['turn', 'chat'], meaning: 'output tokens' },
  { key: 'gen_ai.usage.cache_read.input_tokens', on: ['turn', 'chat'], meaning: 'cached input tokens' },
  { key: 'gen_ai.usage.cache_write.input_tokens', on: ['turn', 'chat'], meaning: 'input tokens written to the cache' },
  { key: 'gen_ai.usage.reasoning.output_tokens', on: ['turn', 'chat'], meaning: 'reasoning tokens' },
  { key: 'gen_ai.usage.cost.amount', on: ['invoke_agent', 'turn', 'chat'], meaning: 'price of the priced calls (turn, thread: their sum)' },
  { key: 'gen_ai.usage.cost.currency', on: ['invoke_agent', 'turn', 'chat'], meaning: 'USD' },
  { key: 'gen_ai.usage.cost.source', on: ['invoke_agent', 'turn', 'chat'], meaning: '`local`: priced here from @pydantic/genai-prices' },
  { key: 'codex.cost.unpriced_calls', on: ['invoke_agent', 'turn'], meaning: 'model calls with usage but no known price (not in the amount)' },
  { key: 'llm.model_name', on: ['chat'], meaning: 'model (OpenInference)' },
  { key: 'llm.provider', on: ['chat'], meaning: 'model provider (OpenInference)' },
  { key: 'llm.token_count.prompt', on: ['turn', 'chat'], meaning: 'input tokens, cached included (OpenInference)' },
  { key: 'llm.token_count.completion', on: ['turn', 'chat'], meaning: 'output tokens (OpenInference)' },
  { key: 'llm.token_count.total', on: ['turn', 'chat'], meaning: 'input + output tokens (OpenInference)' },
  { key: 'llm.token_count.prompt_details.cache_read', on: ['turn', 'chat'], meaning: 'cached input tokens (OpenInference)' },
  { key: 'llm.token_count.prompt_details.cache_write', on: ['turn', 'chat'], meaning: 'input tokens written to the cache (OpenInference)' },
  { key: 'llm.token_count.completion_details.reasoning', on: ['turn', 'chat'], meaning: 'reasoning tokens (OpenInference)' },
  { key: 'llm.cost.total', on: ['invoke_agent', 'turn', 'chat'], meaning: 'the cost amount again (OpenInference)' },
  { key: 'input.value', on: ['invoke_agent', 'turn'], meaning: 'first prompt (content capture only)' },
  { key: 'output.value', on: ['invoke_agent', 'turn'], meaning: 'last answer (content capture only)' },
  { key: 'gen_ai.input.messages', on: ['turn', 'chat'], meaning: 'prompt / input messages (content capture only)' },
  { key: 'gen_ai.output.messages', on: ['chat'], meaning: 'output messages (content capture only)' },
  { key: 'gen_ai.tool.name', on: ['execute_tool'], meaning: 'tool name (MCP: the tool)' },
  { key: 'gen_ai.tool.call.id', on: ['execute_tool', 'event'], meaning: 'call id' },
  { key: 'gen_ai.tool.type', on: ['execute_tool'], meaning: 'function or extension' },
  { key: 'gen_ai.tool.call.arguments', on: ['execute_tool'], meaning: 'arguments (content capture only)' },
  { key: 'gen_ai.tool.call.result', on: ['execute_tool'], meaning: 'result (content capture only)' },
  { key: 'error.type', on: ['turn', 'chat', 'execute_tool', 'compaction_request', 'event'], meaning: 'why an ERROR span failed; tools: exit_code, patch_failed, script_failed, mcp_error, tool_error, timeout, sandbox_denied, declined, cancelled, _OTHER; api_retry: the error' },
  { key: 'http.response.status_code', on: ['event'], meaning: 'api_retry: HTTP status of the failed request' },
  { key: 'exception.type', on: ['event'], meaning: 'exception event: error kind' },
  { key: 'exception.message', on: ['event'], meaning: 'exception event: error text (content capture only)' },
  { key: 'process.exit.code', on: ['execute_tool', 'terminal'], meaning: 'exit code' },
  { key: 'process.command_line', on: ['execute_tool', 'terminal'], meaning: 'command (content capture only)' },
  { key: 'process.executable.name', on: ['execute_tool'], meaning: "the program a command ran (first word, directory stripped)" },
  { key: 'codex.command.kind', on: ['execute_tool'], meaning: "Codex's reading of a command: read, list_files, search, unknown" },
  { key: 'codex.patch.files_added', on: ['execute_tool'], meaning: 'apply_patch: files added' },
  { key: 'codex.patch.files_updated', on: ['execute_tool'], meaning: 'apply_patch: files updated or moved' },
  { key: 'codex.patch.files_deleted', on: ['execute_tool'], meaning: 'apply_patch: files deleted' },
  { key: 'codex.patch.hunks', on: ['execute_tool'], meaning: 'apply_patch: hunks (an added or deleted file is one)' },
  { key: 'codex.patch.paths', on: ['execute_tool'], meaning: 'apply_patch: the files, one a line (content capture only)' },
  { key: 'codex.web_search.action', on: ['execute_tool'], meaning: 'search, open_page, find_in_page' },
  { key: 'codex.web_search.query', on: ['execute_tool'], meaning: 'query or page (content capture only)' },
  { key: 'vcs.repository.url.full', on: ['invoke_agent'], meaning: 'git remote' },
  { key: 'vcs.ref.head.name', on: ['invoke_agent'], meaning: 'git branch' },
  { key: 'vcs.ref.head.revision', on: ['invoke_agent'], meaning: 'git commit' },
  { key: 'rollout.source.path', on: ['all'], meaning: 'the file the span came from' },
  { key: 'rollout.source.line', on: ['all'], meaning: 'the line that opened the span' },
  { key: 'rollout.timing', on: ['all'], meaning: '`inferred` for files without per-line times' },
  { key: 'codex.thread.id', on: ['invoke_agent', 'event'], meaning: 'thread id' },
  { key: 'codex.session.id', on: ['invoke_agent'], meaning: 'session id' },
  { key: 'codex.parent_thread.id', on: ['invoke_agent'], meaning: 'parent thread' },
  { key: 'codex.forked_from.id', on: ['invoke_agent'], meaning: 'thread this one was forked from' },
  { key: 'codex.agent.nickname', on: ['invoke_agent'], meaning: 'sub-agent nickname' },
  { key: 'codex.agent.role', on: ['invoke_agent'], meaning: 'sub-agent role' },
  { key: 'codex.agent.path', on: ['invoke_agent'], meaning: 'sub-agent path (v2)' },
  { key: 'codex.agent.depth', on: ['invoke_agent'], meaning: 'depth in the agent tree' },
  { key: 'codex.agent.thread.id', on: ['event'], meaning: 'agent_result: the child thread' },
  { key: 'codex.subagent.kind', on: ['invoke_agent'], meaning: 'thread_spawn, review, compact …' },
  { key: 'codex.parent.link', on: ['invoke_agent'], meaning: 'why the span is not under its spawning call' },
  { key: 'codex.cli_version', on: ['invoke_agent'], meaning: 'agent version' },
  { key: 'codex.originator', on: ['invoke_agent'], meaning: 'client that ran the agent' },
  { key: 'codex.source', on: ['invoke_agent'], meaning: 'cli, vscode, exec …' },
  { key: 'codex.cwd', on: ['invoke_agent', 'turn'], meaning: 'working directory' },
  { key: 'codex.history_mode', on: ['invoke_agent'], meaning: 'history mode' },
  { key: 'codex.thread.turns', on: ['invoke_agent'], meaning: 'turn count' },
  { key: 'codex.thread.name', on: ['event'], meaning: 'thread_name_updated: the new name (content capture only)' },
  { key: 'codex.thread.status', on: ['invoke_agent'], meaning: 'recorded end status other than completed' },
  { key: 'codex.thread.recorded_start_unix_ms', on: ['invoke_agent'], meaning: 'recorded start, when moved inside its spawn call' },
  { key: 'codex.rollout.status', on: ['invoke_agent'], meaning: "bundle's recorded status" },
  { key: 'codex.fork.copied_lines', on: ['invoke_agent'], meaning: 'copied parent history skipped' },
  { key: 'codex.rollback.turns', on: ['event'], meaning: 'thread_rolled_back: turns undone' },
  { key: 'codex.turn.id', on: ['turn', 'event'], meaning: 'turn id' },
  { key: 'codex.turn.index', on: ['turn'], meaning: 'turn position' },
  { key: 'codex.turn.status', on: ['turn'], meaning: 'completed, aborted, failed, incomplete' },
  { key: 'codex.turn.recorded_status', on: ['turn'], meaning: 'recorded end status other than completed' },
  { key: 'codex.turn.untraced_calls', on: ['turn'], meaning: 'tool calls and model outputs past the 10,000-item turn limit: counted, not traced' },
  { key: 'codex.thread.dropped_events', on: ['invoke_agent'], meaning: 'thread events past the 1,000-event limit (orphan outputs, errors outside turns): counted, not kept' },
  { key: 'codex.turn.dropped_events', on: ['turn'], meaning: 'notes past the 1,000-note turn limit (steering, errors, retries): counted, not kept' },
  { key: 'codex.turn.implicit', on: ['turn'], meaning: 'no turn markers: opened by a user message' },
  { key: 'codex.turn.abort_reason', on: ['turn'], meaning: 'why an aborted turn stopped' },
  { key: 'codex.turn.root_turn_id', on: ['turn'], meaning: 'root turn' },
  { key: 'codex.turn.model_calls', on: ['turn'], meaning: 'model calls in the turn' },
  { key: 'codex.turn.tool_calls', on: ['turn'], meaning: 'tool calls in the turn' },
  { key: 'codex.approval_policy', on: ['turn'], meaning: 'approval policy' },
  { key: 'codex.sandbox_policy', on: ['turn'], meaning: 'sandbox policy' },
  { key: 'codex.reasoning_effort', on: ['turn'], meaning: 'reasoning effort' },
  { key: 'codex.retry.attempt', on: ['event'], meaning: 'api_retry: the retry this failure led to' },
  { key: 'codex.retry.max_attempts', on: ['event'], meaning: 'api_retry: retries allowed' },
  { key: 'codex.retry.delay_ms', on: ['event'], meaning: 'api_retry: wait before the retry' },
  { key: 'codex.hook.event', on: ['event'], meaning: 'hook_error: the lifecycle point (Stop, PreToolUse …)' },
  { key: 'codex.hook.command', on: ['event'], meaning: 'hook_error: the hook command' },
  { key: 'codex.message.length', on: ['event'], meaning: 'steering: message length' },
  { key: 'codex.model_call.index', on: ['chat'], meaning: 'model call position' },
  { key: 'codex.inference.call_id', on: ['chat'], meaning: 'inference call id (bundles)' },
  { key: 'codex.inference.status', on: ['chat'], meaning: 'failed or cancelled' },
  { key: 'codex.inference.cancel_reason', on: ['chat'], meaning: 'why a response was not read to its end' },
  { key: 'codex.inference.upstream_request_id', on: ['chat'], meaning: 'provider request id' },
  { key: 'codex.inference.late_end', on: ['chat'], meaning: 'an end recorded after its turn ended' },
  { key: 'codex.start_missing', on: ['chat'], meaning: 'the start was not recorded' },
  { key: 'codex.tool.recorded_name', on: ['execute_tool'], meaning: 'recorded name when the span uses another' },
  { key: 'codex.tool.namespace', on: ['execute_tool'], meaning: 'tool namespace' },
  { key: 'codex.tool.kind', on: ['execute_tool'], meaning: 'function, custom, local_shell, web_search, mcp …' },
  { key: 'codex.tool.duration_ms', on: ['execute_tool'], meaning: 'recorded duration (the span covers it)' },
  { key: 'codex.tool.wait_ms', on: ['execute_tool'], meaning: 'from the call to the output the model was given' },
  { key: 'codex.tool.incomplete', on: ['execute_tool'], meaning: 'no output was recorded' },
  { key: 'codex.tool.still_running', on: ['execute_tool'], meaning: 'the process outlived the call' },
  { key: 'codex.tool.status', on: ['execute_tool'], meaning: 'recorded status other than completed' },
  { key: 'codex.tool.runtime_status', on: ['execute_tool'], meaning: 'declined, cancelled, aborted' },
  { key: 'codex.tool.stop_reason', on: ['execute_tool'], meaning: 'what a stopped call reported' },
  { key: 'codex.tool.dispatch_id', on: ['execute_tool'], meaning: 'dispatch id when not the call id' },
  { key: 'codex.mcp.server', on: ['execute_tool'], meaning: 'MCP server' },
  { key: 'codex.mcp.call_id', on: ['execute_tool'], meaning: 'MCP call id' },
  { key: 'codex.code_mode.tool_id', on: ['execute_tool'], meaning: 'code-mode runtime tool id' },
  { key: 'codex.code_cell.id', on: ['execute_tool'], meaning: 'code cell id' },
  { key: 'codex.code_cell.initial_status', on: ['execute_tool'], meaning: "a cell's first response" },
  { key: 'codex.code_cell.status', on: ['execute_tool'], meaning: "a cell's final status" },
  { key: 'codex.terminal.operation', on: ['terminal'], meaning: 'exec_command or write_stdin' },
  { key: 'codex.terminal.id', on: ['terminal'], meaning: 'terminal session' },
  { key: 'codex.terminal.duration_ms', on: ['terminal'], meaning: 'recorded duration' },
  { key: 'codex.terminal.still_running', on: ['terminal'], meaning: 'the process outlived the call' },
  { key: 'codex.compaction.kind', on: ['compaction'], meaning: 'local or remote' },
  { key: 'codex.compaction.index', on: ['compaction'], meaning: 'compaction position' },
  { key: 'codex.compaction.replacement_items', on: ['compaction'], meaning: 'replacement history length' },
  { key: 'codex.compaction.window_number', on: ['compaction'], meaning: 'context window number' },
  { key: 'codex.compaction.tokens_after', on: ['compaction'], meaning: 'token estimate after' },
  { key: 'codex.compaction.input_items', on: ['compaction'], meaning: 'items compacted' },
  { key: 'codex.compaction.installed', on: ['compaction'], meaning: 'the new context was installed' },
  { key: 'codex.compaction.attempts', on: ['compaction'], meaning: 'requests made' },
  { key: 'codex.compaction.micro', on: ['compaction'], meaning: 'micro-compaction: old tool results cleared, no summary' },
  { key: 'codex.compaction.trigger', on: ['compaction'], meaning: 'auto or manual' },
  { key: 'codex.compaction.tokens_before', on: ['compaction'], meaning: 'context tokens before' },
  { key: 'codex.compaction.tokens_saved', on: ['compaction'], meaning: 'tokens a micro-compaction freed' },
  { key: 'codex.compaction.cleared_tool_results', on: ['compaction'], meaning: 'tool results a micro-compaction cleared' },
  { key: 'codex.compaction.request_id', on: ['compaction_request'], meaning: 'request id' },
  { key: 'codex.incomplete', on: ['all'], meaning: 'no end was recorded: closed at the last recorded time' },
  { key: 'codex.link.kind', on: ['link'], meaning: 'agent_interaction, agent_result, send_message …' },
];

/** How each recorded fact of the model reads as an attribute. Facts are written in the order they were learned. */
export const CALL_FACTS: { readonly [K in keyof Required<ModelCallFacts>]: string } = {
  callId: 'codex.inference.call_id',
  startMissing: 'codex.start_missing',
  responseId: 'gen_ai.response.id',
  upstreamRequestId: 'codex.inference.upstream_request_id',
  lateEnd: 'codex.inference.late_end',
  status: 'codex.inference.status',
  cancelReason: 'codex.inference.cancel_reason',
};

export const TOOL_FACTS: { readonly [K in keyof Required<ToolCallFacts>]: string } = {
  codeModeToolId: 'codex.code_mode.tool_id',
  codeCellId: 'codex.code_cell.id',
  dispatchId: 'codex.tool.dispatch_id',
  mcpCallId: 'codex.mcp.call_id',
  runtimeStatus: 'codex.tool.runtime_status',
  stopReason: 'codex.tool.stop_reason',
  status: 'codex.tool.status',
  codeCellInitialStatus: 'codex.code_cell.initial_status',
  codeCellStatus: 'codex.code_cell.status',
  modelWaitMs: 'codex.tool.wait_ms',
};

export const TURN_FACTS: { readonly [K in keyof Required<TurnFacts>]: string } = {
  recordedStatus: 'codex.turn.recorded_status',
  untracedItems: 'codex.turn.untraced_calls',
  droppedNotes: 'codex.turn.dropped_events',
};

export const COMPACTION_FACTS: { readonly [K in keyof Required<CompactionFacts>]: string } = {
  inputItems: 'codex.compaction.input_items',
  installed: 'codex.compaction.installed',
  attempts: 'codex.compaction.attempts',
  micro: 'codex.compaction.micro',
  trigger: 'codex.compaction.trigger',
  tokensBefore: 'codex.compaction.tokens_before',
  tokensSaved: 'codex.compaction.tokens_saved',
  clearedToolResults: 'codex.compaction.cleared_tool_results',
};

export const THREAD_FACTS: { readonly [K in keyof Required<ThreadRecordFacts>]: string } = {
  recordedStartUnixMs: 'codex.thread.recorded_start_unix_ms',
  status: 'codex.thread.status',
  rolloutStatus: 'codex.rollout.status',
  droppedNotes: 'codex.thread.dropped_events',
};

/** A note as a span event: its name and attributes. */
export function eventOf(n: Note): { name: string; attributes: Attributes } {
  switch (n.kind) {
    case 'exception':
      return { name: 'exception', attributes: { 'exception.type': n.errorType, 'exception.message': n.message } };
    case 'steering':
      return { name: 'steering', attributes: { 'codex.message.length': n.length } };
    case 'unmatched_turn_end':
      return { name: n.kind, attributes: { 'codex.turn.id': n.turnId } };
    case 'orphan_tool_output':
      return { name: n.kind, attributes: { 'gen_ai.tool.call.id': n.callId } };
    case 'agent_result':
      return { name: n.kind, attributes: n.turnId ? { 'codex.agent.thread.id': n.threadId, 'codex.turn.id': n.turnId } : { 'codex.agent.thread.id': n.threadId } };
    case 'session_meta_repeated':
      return { name: n.kind, attributes: n.threadId !== undefined ? { 'codex.thread.id': n.threadId } : {} };
    case 'thread_rolled_back':
      return { name: n.kind, attributes: { 'codex.rollback.turns': n.turns } };
    case 'thread_name_updated':
      return { name: n.kind, attributes: { 'codex.thread.name': n.name } };
    case 'marker':
      return { name: n.name, attributes: {} };
    case 'api_retry': {
      const a: Attributes = {};
      put(a, 'http.response.status_code', n.statusCode);
      put(a, 'error.type', n.errorType);
      put(a, 'codex.retry.attempt', n.attempt);
      put(a, 'codex.retry.max_attempts', n.maxRetries);
      put(a, 'codex.retry.delay_ms', n.delayMs !== undefined ? Math.round(n.delayMs) : undefined);
      return { name: n.kind, attributes: a };
    }
    case 'hook_error': {
      const a: Attributes = {};
      put(a, 'codex.hook.event', n.hookEvent);
      put(a, 'codex.hook.command', n.command);
      put(a, 'exception.message', n.message);
      return { name: n.kind, attributes: a };
    }
  }
}

// Agent-specific facts are written under the agent's own namespace (the span model puts Codex's
// under codex.*): a Claude Code session carries claude_code.turn.status, not codex.turn.status.
// The namespace is the agent's name (its dialect's), so a new dialect needs no entry here. Logs
// of Codex's pattern (generic) and bundles are Codex's agent and keep codex.*.
const VENDOR = 'codex.';

/** The prefix of an agent's specific keys, where it is not Codex's; undefined for Codex. */
export function namespaceOf(agent: string): string | undefined {
  const ns = `${agent.toLowerCase().replace(/[^a-z0-9]+/g, '_')}.`;
  return ns === VENDOR ? undefined : ns;
}

/** The same attributes with every codex.* key under `namespace`. */
export function inNamespace(a: Attributes, namespace: string): Attributes {
  const out: Attributes = {};
  for (const k in a) out[k.startsWith(VENDOR) ? namespace + k.slice(VENDOR.length) : k] = a[k];
  return out;
}

/** The value of a codex.* key (or another key) in attributes written for any agent. */
export function valueOf(a: Attributes, key: string): Attributes[string] {
  if (a[key] !== undefined || !key.startsWith(VENDOR)) return a[key];
  const rest = key.slice(VENDOR.length);
  for (const k in a) if (k.endsWith(rest) && k.length > rest.length && k[k.length - rest.length - 1] === '.' && k.indexOf('.') === k.length - rest.length - 1) return a[k];
  return undefined;
}

/** Dry-run tree labels: the attributes shown beside each span. */
export const TREE_LABELS: readonly (readonly [string, string])[] = [
  ['gen_ai.usage.input_tokens', 'in'],
  ['gen_ai.usage.output_tokens', 'out'],
  ['process.exit.code', 'exit'],
  ['error.type', 'error'],
  ['codex.turn.status', 'status'],
  ['codex.turn.abort_reason', 'reason'],
  ['gen_ai.conversation.compacted', 'compacted'],
  ['codex.compaction.kind', 'kind'],
  ['codex.tool.incomplete', 'incomplete'],
  ['gen_ai.usage.cost.amount', 'usd'],
  ['rollout.source.line', 'line'],
];
