import { SpanKind, SpanStatusCode, TraceFlags, type Attributes, type SpanContext } from '@opentelemetry/api';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableSpan, TimedEvent } from '@opentelemetry/sdk-trace-base';
import type { ThreadMeta, TokenUsage } from '../model/events.js';
import type { Compaction, ContentPart, ModelCall, Note, Placement, Thread, ToolCall, Turn } from '../model/types.js';
import { contentValue, type ContentPolicy } from './content.js';
import { spanIdFor, spanKeys, traceIdFor } from './ids.js';
import { SCOPE } from './resource.js';

const MAX_EVENTS = 128;

interface Draft {
  key: string;
  parentKey?: string;
  name: string;
  kind: SpanKind;
  startUs: number;
  endUs: number;
  attributes: Attributes;
  events: Note[];
  error?: { type: string; message?: string };
  /** span keys (same trace) this span links to: multi-agent interactions */
  links?: string[];
}

/**
 * Maps one thread's domain objects to spans. Pure: no files, no network. One instance per thread
 * keeps the trace id, the shared resource and the latest end seen, so the thread span (mapped last)
 * encloses every turn.
 */
export class ThreadMapper {
  readonly traceId: string;
  private readonly agentName: string;
  private maxEndUs = -Infinity;
  private readonly ids = new Map<string, string>();
  private minStartUs = Infinity;

  constructor(
    private readonly meta: ThreadMeta,
    private readonly path: string,
    private readonly placement: Placement,
    private readonly resource: Resource,
    private readonly content: ContentPolicy,
  ) {
    this.traceId = traceIdFor(placement.rootThreadId);
    this.agentName = agentNameOf(meta);
  }

  turnSpans(turn: Turn): ReadableSpan[] {
    const tid = this.meta.threadId;
    const turnKey = spanKeys.turn(tid, turn.turnId, turn.index);
    const drafts: Draft[] = [];
    drafts.push({
      key: turnKey,
      parentKey: spanKeys.thread(tid),
      name: `handle_conversation_turn ${this.agentName}`,
      kind: SpanKind.INTERNAL,
      startUs: us(turn.start),
      endUs: us(turn.end),
      attributes: this.turnAttributes(turn),
      events: turn.notes,
      error: turn.status === 'failed' ? { type: turn.errorType ?? '_OTHER', message: turn.errorMessage } : undefined,
    });
    for (const call of turn.modelCalls) drafts.push(this.chatDraft(call, turnKey, turn));
    for (const tool of turn.tools) {
      const parentKey = tool.parentKey ? spanKeys.tool(tid, tool.parentKey) : turnKey;
      drafts.push(this.toolDraft(tool, parentKey));
    }
    for (const c of turn.compactions) {
      drafts.push({
        key: spanKeys.compaction(tid, c.index),
        parentKey: turnKey,
        name: 'compaction',
        kind: SpanKind.INTERNAL,
        startUs: us(c.start),
        endUs: us(c.end),
        attributes: this.compactionAttributes(c),
        events: [],
      });
    }
    return this.finish(drafts);
  }

  threadSpan(thread: Thread): ReadableSpan {
    const m = thread.meta;
    const draft: Draft = {
      key: spanKeys.thread(m.threadId),
      name: `invoke_agent ${this.agentName}`,
      kind: SpanKind.INTERNAL,
      startUs: Math.min(us(thread.start), this.minStartUs),
      endUs: Math.max(us(thread.end), this.maxEndUs),
      attributes: this.source(thread.line, compact({
        'gen_ai.operation.name': 'invoke_agent',
        'gen_ai.agent.name': this.agentName,
        'gen_ai.agent.id': m.threadId,
        'gen_ai.conversation.id': this.placement.conversationId,
        'gen_ai.provider.name': m.provider,
        'gen_ai.invocation.is_nested': m.parentThreadId !== undefined ? true : undefined,
        'codex.thread.id': m.threadId,
        'codex.session.id': m.sessionId,
        'codex.parent_thread.id': m.parentThreadId,
        'codex.forked_from.id': m.forkedFromId,
        'codex.agent.nickname': m.agentNickname,
        'codex.agent.role': m.agentRole,
        'codex.agent.path': m.agentPath,
        'codex.agent.depth': m.depth,
        'codex.subagent.kind': m.subagentKind,
        'codex.parent.link': this.placement.parentNote,
        'codex.cli_version': m.cliVersion,
        'codex.originator': m.originator,
        'codex.source': m.source,
        'codex.cwd': m.cwd,
        'codex.history_mode': m.historyMode,
        'codex.thread.turns': thread.turnCount,
        'codex.fork.copied_lines': thread.copiedLines || undefined,
        'vcs.repository.url.full': m.git?.repositoryUrl,
        'vcs.ref.head.name': m.git?.branch,
        'vcs.ref.head.revision': m.git?.commit,
      })),
      events: thread.notes,
      links: this.placement.addressedBy?.map((c) => spanKeys.tool(c.threadId, c.callKey)),
    };
    const by = this.placement.spawnedBy;
    const [span] = this.finish([draft], by && (by.callKey ? spanKeys.tool(by.threadId, by.callKey) : spanKeys.thread(by.threadId)));
    return span as ReadableSpan;
  }

  private turnAttributes(turn: Turn): Attributes {
    const a: Attributes = {};
    put(a, 'gen_ai.operation.name', 'handle_conversation_turn');
    put(a, 'gen_ai.agent.name', this.agentName);
    put(a, 'gen_ai.agent.id', this.meta.threadId);
    put(a, 'gen_ai.conversation.id', this.placement.conversationId);
    put(a, 'gen_ai.request.model', turn.model);
    if (this.meta.parentThreadId !== undefined) a['gen_ai.invocation.is_nested'] = true;
    if (turn.modelCalls.some((c) => c.usage)) putUsage(a, turn.usage);
    put(a, 'codex.turn.id', turn.turnId);
    put(a, 'codex.turn.index', turn.index);
    put(a, 'codex.turn.status', turn.status);
    if (turn.implicit) a['codex.turn.implicit'] = true;
    put(a, 'codex.turn.abort_reason', turn.abortReason);
    put(a, 'codex.turn.root_turn_id', turn.rootTurnId);
    put(a, 'codex.turn.model_calls', turn.modelCalls.length);
    put(a, 'codex.turn.tool_calls', turn.tools.length);
    put(a, 'codex.cwd', turn.cwd);
    put(a, 'codex.approval_policy', turn.approvalPolicy);
    put(a, 'codex.sandbox_policy', turn.sandboxPolicy);
    put(a, 'codex.reasoning_effort', turn.effort);
    if (this.content.capture) put(a, 'gen_ai.input.messages', contentValue(turn.prompt !== undefined ? [{ role: 'user', parts: [{ type: 'text', content: turn.prompt }] }] : undefined, this.content));
    return this.source(turn.line, a);
  }

  private chatDraft(call: ModelCall, parentKey: string, turn: Turn): Draft {
    const model = call.model ?? turn.model;
    return {
      key: spanKeys.chat(this.meta.threadId, call.index),
      parentKey,
      name: model ? `chat ${model}` : 'chat',
      kind: SpanKind.CLIENT,
      startUs: us(call.start),
      endUs: us(call.end),
      attributes: this.chatAttributes(call, model),
      events: [],
    };
  }

  private compactionAttributes(c: Compaction): Attributes {
    const a: Attributes = {};
    put(a, 'codex.compaction.kind', c.remote ? 'remote' : 'local');
    put(a, 'codex.compaction.replacement_items', c.replacementItems);
    put(a, 'codex.compaction.window_number', c.windowNumber);
    put(a, 'codex.compaction.tokens_after', c.tokensAfter);
    put(a, 'codex.compaction.index', c.index);
    return this.source(c.line, a);
  }

  private chatAttributes(call: ModelCall, model: string | undefined): Attributes {
    const a: Attributes = {};
    put(a, 'gen_ai.operation.name', 'chat');
    put(a, 'gen_ai.provider.name', this.meta.provider ?? 'openai');
    put(a, 'gen_ai.request.model', model);
    put(a, 'gen_ai.conversation.id', this.placement.conversationId);
    if (call.compacted) a['gen_ai.conversation.compacted'] = true;
    if (call.usage) putUsage(a, call.usage);
    put(a, 'codex.model_call.index', call.index);
    if (this.content.capture) {
      put(a, 'gen_ai.input.messages', contentValue(call.input && messages(call.input, 'input'), this.content));
      put(a, 'gen_ai.output.messages', contentValue(call.output && messages(call.output, 'output'), this.content));
    }
    return this.source(call.line, a);
  }

  private toolDraft(tool: ToolCall, parentKey: string): Draft {
    const r = tool.result;
    const name = r.mcpTool ?? tool.mcp?.tool ?? tool.name;
    const failed = r.success === false || (r.exitCode !== undefined && r.exitCode !== 0);
    return {
      key: spanKeys.tool(this.meta.threadId, tool.key),
      parentKey,
      name: `execute_tool ${name}`,
      kind: SpanKind.INTERNAL,
      startUs: us(tool.start),
      endUs: us(tool.end),
      attributes: this.toolAttributes(tool, name),
      events: [],
      error: failed ? { type: r.errorType ?? (r.exitCode !== undefined ? String(r.exitCode) : '_OTHER') } : undefined,
      links: tool.agents?.threadIds.map(spanKeys.thread),
    };
  }

  private toolAttributes(tool: ToolCall, name: string): Attributes {
    const r = tool.result;
    const a: Attributes = {};
    put(a, 'gen_ai.operation.name', 'execute_tool');
    put(a, 'gen_ai.tool.name', name);
    put(a, 'gen_ai.tool.call.id', tool.callId);
    put(a, 'gen_ai.tool.type', tool.toolKind === 'mcp' || tool.toolKind === 'web_search' || tool.toolKind === 'image_generation' ? 'extension' : 'function');
    put(a, 'gen_ai.conversation.id', this.placement.conversationId);
    if (name !== tool.name) put(a, 'codex.tool.recorded_name', tool.name);
    put(a, 'codex.tool.namespace', tool.namespace);
    put(a, 'codex.tool.kind', tool.toolKind);
    put(a, 'codex.mcp.server', r.mcpServer ?? tool.mcp?.server);
    put(a, 'process.exit.code', r.exitCode);
    if (r.durationMs !== undefined) put(a, 'codex.tool.duration_ms', Math.round(r.durationMs * 1000) / 1000);
    if (tool.incomplete) a['codex.tool.incomplete'] = true;
    if (r.stillRunning) a['codex.tool.still_running'] = true;
    if (this.content.capture) {
      put(a, 'gen_ai.tool.call.arguments', contentValue(tool.arguments, this.content));
      put(a, 'gen_ai.tool.call.result', contentValue(tool.output, this.content));
    }
    return this.source(tool.line, a);
  }

  /** Adds where the span comes from, last, as every span has it. */
  private source(line: number, a: Attributes): Attributes {
    put(a, 'rollout.source.path', this.path);
    put(a, 'rollout.source.line', line);
    if (this.meta.inferredTiming) a['rollout.timing'] = 'inferred';
    return a;
  }

  /** Gives every span a positive length and makes each parent enclose its children. */
  private finish(drafts: Draft[], rootParentKey?: string): ReadableSpan[] {
    const byKey = new Map(drafts.map((d) => [d.key, d]));
    for (const d of drafts) if (d.endUs <= d.startUs) d.endUs = d.startUs + 1;
    for (let i = drafts.length - 1; i >= 0; i--) {
      const d = drafts[i] as Draft;
      const parent = d.parentKey ? byKey.get(d.parentKey) : undefined;
      if (parent) {
        if (d.endUs > parent.endUs) parent.endUs = d.endUs;
        if (d.startUs < parent.startUs) parent.startUs = d.startUs;
      }
    }
    for (const d of drafts) {
      if (d.endUs > this.maxEndUs) this.maxEndUs = d.endUs;
      if (d.startUs < this.minStartUs) this.minStartUs = d.startUs;
    }
    const spans = drafts.map((d) => this.toSpan(d, this.idOf(d.parentKey ?? rootParentKey)));
    this.ids.clear();
    return spans;
  }

  private idOf(key: string): string;
  private idOf(key: string | undefined): string | undefined;
  private idOf(key: string | undefined): string | undefined {
    if (key === undefined) return undefined;
    let id = this.ids.get(key);
    if (!id) {
      id = spanIdFor(key);
      this.ids.set(key, id);
    }
    return id;
  }

  private toSpan(d: Draft, parentSpanId: string | undefined): ReadableSpan {
    const ctx: SpanContext = { traceId: this.traceId, spanId: this.idOf(d.key), traceFlags: TraceFlags.SAMPLED };
    const events: TimedEvent[] = [];
    for (let i = 0; i < d.events.length && i < MAX_EVENTS; i++) {
      const n = d.events[i] as Note;
      events.push({ name: n.name, time: hr(Math.min(Math.max(us(n.time), d.startUs), d.endUs)), attributes: n.attributes });
    }
    const attributes = d.attributes;
    if (d.error) attributes['error.type'] = d.error.type;
    return {
      name: d.name,
      kind: d.kind,
      spanContext: () => ctx,
      parentSpanContext: parentSpanId ? { traceId: this.traceId, spanId: parentSpanId, traceFlags: TraceFlags.SAMPLED, isRemote: false } : undefined,
      startTime: hr(d.startUs),
      endTime: hr(d.endUs),
      duration: hr(d.endUs - d.startUs),
      ended: true,
      status: d.error ? { code: SpanStatusCode.ERROR, message: d.error.message ?? d.error.type } : { code: SpanStatusCode.UNSET },
      attributes,
      links: !d.links ? [] : d.links.map((key) => ({
        context: { traceId: this.traceId, spanId: this.idOf(key), traceFlags: TraceFlags.SAMPLED },
        attributes: { 'codex.link.kind': 'agent_interaction' },
      })),
      events,
      resource: this.resource,
      instrumentationScope: SCOPE,
      droppedAttributesCount: 0,
      droppedEventsCount: Math.max(0, d.events.length - MAX_EVENTS),
      droppedLinksCount: 0,
    };
  }
}

export function agentNameOf(meta: ThreadMeta): string {
  if (!meta.parentThreadId && !meta.subagentKind) return 'codex';
  return meta.agentNickname ?? meta.agentRole ?? meta.agentPath ?? meta.subagentKind ?? 'codex';
}

function putUsage(a: Attributes, u: TokenUsage): void {
  put(a, 'gen_ai.usage.input_tokens', u.input);
  put(a, 'gen_ai.usage.output_tokens', u.output);
  put(a, 'gen_ai.usage.cache_read.input_tokens', u.cachedInput);
  put(a, 'gen_ai.usage.reasoning.output_tokens', u.reasoningOutput);
  put(a, 'gen_ai.usage.cache_write.input_tokens', u.cacheWriteInput);
}

function messages(parts: ContentPart[], side: 'input' | 'output'): unknown[] | undefined {
  if (parts.length === 0) return undefined;
  const out: { role: string; parts: unknown[] }[] = [];
  for (const p of parts) {
    const role = p.type === 'tool_result' ? 'tool' : p.type === 'text' ? p.role : 'assistant';
    const part =
      p.type === 'text' ? { type: 'text', content: p.text }
      : p.type === 'reasoning' ? { type: 'reasoning', content: p.text }
      : p.type === 'tool_call' ? { type: 'tool_call', id: p.id, name: p.name, arguments: p.arguments }
      : { type: 'tool_call_response', id: p.id, response: p.result };
    const last = out.at(-1);
    if (last && last.role === role && side === 'output') last.parts.push(part);
    else out.push({ role, parts: [part] });
  }
  return out;
}

/** Sets an attribute unless it is absent or empty; attributes keep the order they are put in. */
function put(a: Attributes, key: string, value: string | number | boolean | undefined): void {
  if (value !== undefined && value !== '') a[key] = value;
}

function compact(attrs: Record<string, string | number | boolean | undefined>): Attributes {
  const out: Attributes = {};
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== '') out[k] = v;
  return out;
}

function us(ms: number): number {
  return Math.round(ms * 1000);
}

function hr(micros: number): [number, number] {
  const sec = Math.floor(micros / 1e6);
  return [sec, (micros - sec * 1e6) * 1000];
}
