import { SpanKind, SpanStatusCode, TraceFlags, type Attributes, type SpanContext } from '@opentelemetry/api';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableSpan, TimedEvent } from '@opentelemetry/sdk-trace-base';
import type { ThreadMeta } from '../model/events.js';
import type { AgentEdge, Compaction, ModelCall, Note, Placement, Thread, ToolCall, Turn } from '../model/types.js';
import { contentValue, type ContentPolicy } from './content.js';
import { spanIdFor, spanKeys, traceIdFor } from './ids.js';
import { SCOPE } from './resource.js';
import { compact, facts, hr, messages, us, usageAttributes } from './span-values.js';

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
  /** spans (same trace) this span links to: multi-agent interactions */
  links?: { key: string; kind: string }[];
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
    this.traceId = placement.traceId ?? traceIdFor(placement.rootThreadId);
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
      if (tool.terminal) drafts.push(this.terminalDraft(tool, spanKeys.tool(tid, tool.key)));
    }
    for (const c of turn.compactions) {
      const key = c.id !== undefined ? spanKeys.compactionById(tid, c.id) : spanKeys.compaction(tid, c.index);
      drafts.push({
        key,
        parentKey: turnKey,
        name: 'compaction',
        kind: SpanKind.INTERNAL,
        startUs: us(c.start),
        endUs: us(c.end),
        attributes: compact({
          'codex.compaction.kind': c.remote ? 'remote' : 'local',
          'codex.compaction.replacement_items': c.replacementItems,
          'codex.compaction.window_number': c.windowNumber,
          'codex.compaction.tokens_after': c.tokensAfter,
          'codex.compaction.index': c.index,
          ...facts(c.incomplete, c.attributes),
          ...this.source(c.line),
        }),
        events: [],
      });
      for (const a of c.attempts ?? []) drafts.push(this.attemptDraft(a, key));
    }
    return this.finish(drafts);
  }

  /** `placement` replaces the one given at construction for the links and the parent span. */
  threadSpan(thread: Thread, placement: Placement = this.placement): ReadableSpan {
    const m = thread.meta;
    const draft: Draft = {
      key: spanKeys.thread(m.threadId),
      name: `invoke_agent ${this.agentName}`,
      kind: SpanKind.INTERNAL,
      startUs: Math.min(us(thread.start), this.minStartUs),
      endUs: Math.max(us(thread.end), this.maxEndUs),
      attributes: compact({
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
        'codex.parent.link': placement.parentNote,
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
        ...facts(thread.incomplete, thread.attributes),
        ...this.source(thread.line),
      }),
      events: thread.notes,
      error: thread.error,
      links: placement.addressedBy?.map((c) => ({ key: spanKeys.tool(c.threadId, c.callKey), kind: 'agent_interaction' })),
    };
    const by = placement.spawnedBy;
    const [span] = this.finish([draft], by && (by.callKey ? spanKeys.tool(by.threadId, by.callKey) : spanKeys.thread(by.threadId)));
    return span as ReadableSpan;
  }

  private turnAttributes(turn: Turn): Attributes {
    return compact({
      'gen_ai.operation.name': 'handle_conversation_turn',
      'gen_ai.agent.name': this.agentName,
      'gen_ai.agent.id': this.meta.threadId,
      'gen_ai.conversation.id': this.placement.conversationId,
      'gen_ai.request.model': turn.model,
      'gen_ai.invocation.is_nested': this.meta.parentThreadId !== undefined ? true : undefined,
      ...usageAttributes(turn.modelCalls.some((c) => c.usage) ? turn.usage : undefined),
      'codex.turn.id': turn.turnId,
      'codex.turn.index': turn.index,
      'codex.turn.status': turn.status,
      'codex.turn.implicit': turn.implicit || undefined,
      'codex.turn.abort_reason': turn.abortReason,
      'codex.turn.root_turn_id': turn.rootTurnId,
      'codex.turn.model_calls': turn.modelCalls.length,
      'codex.turn.tool_calls': turn.tools.length,
      'codex.cwd': turn.cwd,
      'codex.approval_policy': turn.approvalPolicy,
      'codex.sandbox_policy': turn.sandboxPolicy,
      'codex.reasoning_effort': turn.effort,
      'gen_ai.input.messages': contentValue(turn.prompt !== undefined ? [{ role: 'user', parts: [{ type: 'text', content: turn.prompt }] }] : undefined, this.content),
      ...facts(turn.incomplete, turn.attributes),
      ...this.source(turn.line),
    });
  }

  private chatDraft(call: ModelCall, parentKey: string, turn: Turn): Draft {
    const model = call.model ?? turn.model;
    return {
      key: call.id !== undefined ? spanKeys.inference(this.meta.threadId, call.id) : spanKeys.chat(this.meta.threadId, call.index),
      parentKey,
      name: model ? `chat ${model}` : 'chat',
      kind: SpanKind.CLIENT,
      startUs: us(call.start),
      endUs: us(call.end),
      attributes: compact({
        'gen_ai.operation.name': 'chat',
        'gen_ai.provider.name': call.provider ?? this.meta.provider ?? 'openai',
        'gen_ai.request.model': model,
        'gen_ai.conversation.id': this.placement.conversationId,
        'gen_ai.conversation.compacted': call.compacted || undefined,
        ...usageAttributes(call.usage),
        'codex.model_call.index': call.index,
        'gen_ai.input.messages': contentValue(call.input && messages(call.input, 'input'), this.content),
        'gen_ai.output.messages': contentValue(call.output && messages(call.output, 'output'), this.content),
        ...facts(call.incomplete, call.attributes),
        ...this.source(call.line),
      }),
      events: [],
      error: call.error,
      links: edgeLinks(call.edges),
    };
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
      attributes: compact({
        'gen_ai.operation.name': 'execute_tool',
        'gen_ai.tool.name': name,
        'gen_ai.tool.call.id': tool.callId,
        'gen_ai.tool.type': tool.toolKind === 'mcp' || tool.toolKind === 'web_search' || tool.toolKind === 'image_generation' ? 'extension' : 'function',
        'gen_ai.conversation.id': this.placement.conversationId,
        'codex.tool.recorded_name': name !== tool.name ? tool.name : undefined,
        'codex.tool.namespace': tool.namespace,
        'codex.tool.kind': tool.toolKind,
        'codex.mcp.server': r.mcpServer ?? tool.mcp?.server,
        'process.exit.code': r.exitCode,
        'codex.tool.duration_ms': r.durationMs !== undefined ? Math.round(r.durationMs * 1000) / 1000 : undefined,
        'codex.tool.incomplete': tool.incomplete || undefined,
        'codex.tool.still_running': r.stillRunning || undefined,
        'gen_ai.tool.call.arguments': contentValue(tool.arguments, this.content),
        'gen_ai.tool.call.result': contentValue(tool.output, this.content),
        ...facts(undefined, tool.attributes),
        ...this.source(tool.line),
      }),
      events: [],
      error: failed ? { type: r.errorType ?? (r.exitCode !== undefined ? String(r.exitCode) : '_OTHER'), message: r.errorMessage } : undefined,
      links: tool.agents || tool.edges
        ? [...(tool.agents?.threadIds ?? []).map((id) => ({ key: spanKeys.thread(id), kind: 'agent_interaction' })), ...(edgeLinks(tool.edges) ?? [])]
        : undefined,
    };
  }

  /** The process side of a tool call: the command it ran, or the input it wrote, in a terminal session. */
  private terminalDraft(tool: ToolCall, parentKey: string): Draft {
    const t = tool.terminal as NonNullable<ToolCall['terminal']>;
    return {
      key: spanKeys.terminal(this.meta.threadId, tool.key),
      parentKey,
      name: `terminal ${t.operation}`,
      kind: SpanKind.INTERNAL,
      startUs: us(t.start),
      endUs: us(t.end),
      attributes: compact({
        'codex.terminal.operation': t.operation,
        'codex.terminal.id': t.terminalId,
        'process.exit.code': t.exitCode,
        'codex.terminal.duration_ms': t.durationMs !== undefined ? Math.round(t.durationMs * 1000) / 1000 : undefined,
        'codex.terminal.still_running': t.stillRunning || undefined,
        'process.command_line': contentValue(t.command, this.content),
        ...facts(t.incomplete, undefined),
        ...this.source(t.line),
      }),
      events: [],
    };
  }

  private attemptDraft(a: NonNullable<Compaction['attempts']>[number], parentKey: string): Draft {
    return {
      key: spanKeys.compactionRequest(this.meta.threadId, a.id),
      parentKey,
      name: a.model ? `compaction_request ${a.model}` : 'compaction_request',
      kind: SpanKind.CLIENT,
      startUs: us(a.start),
      endUs: us(a.end),
      attributes: compact({
        'gen_ai.provider.name': a.provider,
        'gen_ai.request.model': a.model,
        'codex.compaction.request_id': a.id,
        ...facts(a.incomplete, undefined),
        ...this.source(a.line),
      }),
      events: [],
      error: a.error !== undefined ? { type: 'failed', message: a.error } : undefined,
    };
  }

  private source(line: number): Attributes {
    const a: Attributes = { 'rollout.source.path': this.path, 'rollout.source.line': line };
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
    const events: TimedEvent[] = d.events.slice(0, MAX_EVENTS).map((n) => ({
      name: n.name,
      time: hr(Math.min(Math.max(us(n.time), d.startUs), d.endUs)),
      attributes: n.attributes,
    }));
    const attributes = d.error ? { ...d.attributes, 'error.type': d.error.type } : d.attributes;
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
      links: (d.links ?? []).map(({ key, kind }) => ({
        context: { traceId: this.traceId, spanId: this.idOf(key), traceFlags: TraceFlags.SAMPLED },
        attributes: { 'codex.link.kind': kind },
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
  if (meta.agentName) return meta.agentName;
  if (!meta.parentThreadId && !meta.subagentKind) return 'codex';
  return meta.agentNickname ?? meta.agentRole ?? meta.agentPath ?? meta.subagentKind ?? 'codex';
}

/** Links to other agents' threads, or to one of their turns. */
function edgeLinks(edges: AgentEdge[] | undefined): Draft['links'] {
  return edges?.map((e) => ({ key: e.turnId !== undefined ? spanKeys.turn(e.threadId, e.turnId, 0) : spanKeys.thread(e.threadId), kind: e.kind }));
}

