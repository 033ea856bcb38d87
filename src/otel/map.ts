import { SpanKind, SpanStatusCode, TraceFlags, type Attributes, type SpanContext } from '@opentelemetry/api';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableSpan, TimedEvent } from '@opentelemetry/sdk-trace-base';
import type { ThreadMeta, TokenUsage } from '../model/events.js';
import { addUsage, emptyUsage, type AgentEdge, type Compaction, type EmbeddedAgent, type ModelCall, type Note, type Placement, type Thread, type ToolCall, type Turn } from '../model/types.js';
import { Privacy, type ContentPolicy } from './content.js';
import { spanIdFor, spanKeys, traceIdFor } from './ids.js';
import { SCOPE } from './resource.js';
import { hr, messages, put, putCost, putFacts, putSummary, putUsage, summaryLabel, us } from './span-values.js';
import { addCost, addTally, callPrice, nameUnpriced, newTally, type CostTally } from './cost.js';
import { CALL_FACTS, COMPACTION_FACTS, eventOf, inNamespace, namespaceOf, THREAD_FACTS, TOOL_FACTS, TURN_FACTS } from './vocabulary.js';
import { toolFailure, turnStatusMessage } from '../model/outcome.js';

const MAX_EVENTS = 128;
// most spans have neither: one shared empty list instead of two new ones per span
const NO_EVENTS: TimedEvent[] = [];
const NO_LINKS: ReadableSpan['links'] = [];

// Every draft has every field, in this order: one hidden class, so `finish` is compiled once.
interface Draft {
  key: string;
  parentKey: string | undefined;
  name: string;
  kind: SpanKind;
  startUs: number;
  endUs: number;
  attributes: Attributes;
  events: Note[];
  error: { type: string; message?: string; words?: string } | undefined;
  /** how a span that did not fail ended, in words (an aborted turn) */
  stopped: string | undefined;
  /** spans (same trace) this span links to: multi-agent interactions */
  links: { key: string; kind: string }[] | undefined;
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
  /** what this thread's model calls cost and used, summed over the turns mapped so far */
  private readonly cost = newTally();
  private readonly usage = emptyUsage();
  private readonly unpricedModels = new Set<string>();
  private firstPrompt: string | undefined;
  private lastAnswer: string | undefined;
  private readonly privacy: Privacy;
  /** where the agent's specific facts go when it is not Codex */
  private readonly namespace: string | undefined;

  constructor(
    private readonly meta: ThreadMeta,
    private readonly path: string,
    private readonly placement: Placement,
    private readonly resource: Resource,
    private readonly content: ContentPolicy,
    /** the agent that wrote the log (its dialect's), which names its specific keys */
    private readonly agent: string,
  ) {
    this.namespace = namespaceOf(agent);
    this.traceId = placement.traceId ?? traceIdFor(placement.rootThreadId);
    this.agentName = agentNameOf(meta, agent);
    this.privacy = new Privacy(content);
  }

  /** Values redacted so far in this thread's spans, by rule. */
  get redactions(): Readonly<Record<string, number>> {
    return this.privacy.redactor.counts;
  }

  turnSpans(turn: Turn): ReadableSpan[] {
    const tid = this.meta.threadId;
    const turnKey = spanKeys.turn(tid, turn.turnId, turn.index);
    const drafts: Draft[] = [];
    const turnCost = newTally();
    const prices: (number | undefined)[] = [];
    for (const call of turn.modelCalls) {
      const price = callPrice(call, turn, this.meta);
      if (call.usage) addCost(turnCost, price);
      if (call.usage && price === undefined) nameUnpriced(this.unpricedModels, call.model ?? turn.model);
      prices.push(price);
    }
    addTally(this.cost, turnCost);
    addUsage(this.usage, turn.usage);
    if (this.firstPrompt === undefined) this.firstPrompt = turn.prompt;
    const answer = lastAnswer(turn);
    if (answer !== undefined) this.lastAnswer = answer;
    drafts.push({
      key: turnKey,
      parentKey: spanKeys.thread(tid),
      name: `handle_conversation_turn ${this.agentName}`,
      kind: SpanKind.INTERNAL,
      startUs: us(turn.start),
      endUs: us(turn.end),
      attributes: this.turnAttributes(turn, turnCost, answer),
      events: turn.notes,
      error: turn.status === 'failed' ? { type: turn.errorType ?? '_OTHER', message: turn.errorMessage } : undefined,
      stopped: turnStatusMessage({ status: turn.status, abortReason: turn.abortReason && this.privacy.reason(turn.abortReason) }),
      links: undefined,
    });
    for (let i = 0; i < turn.modelCalls.length; i++) drafts.push(this.chatDraft(turn.modelCalls[i] as ModelCall, turnKey, turn, prices[i]));
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
        attributes: this.compactionAttributes(c),
        events: [],
        error: undefined,
        stopped: undefined,
        links: undefined,
      });
      for (const a of c.attempts ?? []) drafts.push(this.attemptDraft(a, key));
    }
    const spans = this.finish(drafts);
    for (const agent of turn.agents ?? []) spans.push(...this.embeddedSpans(agent));
    return spans;
  }

  /** A sub-agent recorded inside this thread's log: its own thread under the call that spawned it, in this trace. */
  private embeddedSpans(agent: EmbeddedAgent): ReadableSpan[] {
    const tid = this.meta.threadId;
    const placement: Placement = {
      rootThreadId: this.placement.rootThreadId,
      conversationId: this.placement.conversationId,
      traceId: this.traceId,
      spawnedBy: { threadId: tid, callKey: agent.callKey },
    };
    const child = new ThreadMapper(agent.thread.meta, this.path, placement, this.resource, this.content, this.agent);
    const spans = agent.turns.flatMap((t) => child.turnSpans(t));
    spans.push(child.threadSpan(agent.thread));
    return spans;
  }

  /** What the thread's model calls used and cost, over the turns mapped so far. */
  totals(): { usage: TokenUsage; cost: CostTally; unpricedModels: string[] } {
    return { usage: { ...this.usage }, cost: { ...this.cost }, unpricedModels: [...this.unpricedModels] };
  }

  /** `placement` replaces the one given at construction for the links and the parent span. */
  threadSpan(thread: Thread, placement: Placement = this.placement): ReadableSpan {
    const m = thread.meta;
    // the root of a trace is what search lists show: it carries the session's title
    const title = placement.spawnedBy || m.parentThreadId ? undefined : traceTitle(m, this.privacy.content('prompts', this.firstPrompt));
    const draft: Draft = {
      key: spanKeys.thread(m.threadId),
      parentKey: undefined,
      name: title ? `invoke_agent ${this.agentName} · ${title}` : `invoke_agent ${this.agentName}`,
      kind: SpanKind.INTERNAL,
      startUs: Math.min(us(thread.start), this.minStartUs),
      endUs: Math.max(us(thread.end), this.maxEndUs),
      attributes: this.threadAttributes(thread, placement, title),
      events: thread.notes,
      error: thread.error,
      stopped: undefined,
      links: placement.addressedBy?.map((c) => ({ key: spanKeys.tool(c.threadId, c.callKey), kind: 'agent_interaction' })),
    };
    const by = placement.spawnedBy;
    const [span] = this.finish([draft], by && (by.callKey ? spanKeys.tool(by.threadId, by.callKey) : spanKeys.thread(by.threadId)));
    return span as ReadableSpan;
  }

  private turnAttributes(turn: Turn, cost: CostTally, answer: string | undefined): Attributes {
    const a: Attributes = {};
    put(a, 'gen_ai.operation.name', 'handle_conversation_turn');
    put(a, 'openinference.span.kind', 'CHAIN');
    put(a, 'gen_ai.agent.name', this.agentName);
    put(a, 'gen_ai.agent.id', this.meta.threadId);
    put(a, 'gen_ai.conversation.id', this.placement.conversationId);
    put(a, 'gen_ai.request.model', turn.model);
    put(a, 'gen_ai.invocation.is_nested', this.meta.parentThreadId !== undefined ? true : undefined);
    putUsage(a, turn.modelCalls.some((c) => c.usage) ? turn.usage : undefined);
    putCost(a, cost.priced > 0 ? cost.amount : undefined);
    put(a, 'codex.cost.unpriced_calls', cost.unpriced || undefined);
    put(a, 'codex.turn.id', turn.turnId);
    put(a, 'codex.turn.index', turn.index);
    put(a, 'codex.turn.status', turn.status);
    put(a, 'codex.turn.implicit', turn.implicit || undefined);
    put(a, 'codex.turn.abort_reason', turn.abortReason);
    put(a, 'codex.turn.root_turn_id', turn.rootTurnId);
    put(a, 'codex.turn.model_calls', turn.modelCalls.length);
    put(a, 'codex.turn.tool_calls', turn.tools.length);
    put(a, 'codex.cwd', turn.cwd);
    put(a, 'codex.approval_policy', turn.approvalPolicy);
    put(a, 'codex.sandbox_policy', turn.sandboxPolicy);
    put(a, 'codex.reasoning_effort', turn.effort);
    put(a, 'gen_ai.input.messages', this.privacy.content('prompts', turn.prompt !== undefined ? [{ role: 'user', parts: [{ type: 'text', content: turn.prompt }] }] : undefined));
    put(a, 'input.value', this.privacy.content('prompts', turn.prompt));
    put(a, 'output.value', this.privacy.content('outputs', answer));
    putFacts(a, turn.incomplete, turn.facts, TURN_FACTS);
    this.putSource(a, turn.line);
    return a;
  }

  private chatDraft(call: ModelCall, parentKey: string, turn: Turn, price: number | undefined): Draft {
    const model = call.model ?? turn.model;
    return {
      key: call.id !== undefined ? spanKeys.inference(this.meta.threadId, call.id) : spanKeys.chat(this.meta.threadId, call.index),
      parentKey,
      name: model ? `chat ${model}` : 'chat',
      kind: SpanKind.CLIENT,
      startUs: us(call.start),
      endUs: us(call.end),
      attributes: this.chatAttributes(call, model, price),
      events: call.notes ?? [],
      error: call.error,
      stopped: undefined,
      links: edgeLinks(call.edges),
    };
  }

  private toolDraft(tool: ToolCall, parentKey: string): Draft {
    const r = tool.result;
    const name = r.mcpTool ?? tool.mcp?.tool ?? tool.name;
    const failure = toolFailure(r);
    const label = summaryLabel(r.summary);
    return {
      key: spanKeys.tool(this.meta.threadId, tool.key),
      parentKey,
      name: label ? `execute_tool ${name} · ${label}` : `execute_tool ${name}`,
      kind: SpanKind.INTERNAL,
      startUs: us(tool.start),
      endUs: us(tool.end),
      attributes: this.toolAttributes(tool, name),
      events: failure ? [{ kind: 'exception', time: tool.end, errorType: failure.type, message: failure.message ?? failure.words ?? failure.type }] : [],
      error: failure,
      stopped: undefined,
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
      attributes: this.terminalAttributes(t),
      events: [],
      error: undefined,
      stopped: undefined,
      links: undefined,
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
      attributes: this.attemptAttributes(a),
      events: [],
      error: a.error !== undefined ? { type: 'failed', message: a.error } : undefined,
      stopped: undefined,
      links: undefined,
    };
  }

  private compactionAttributes(c: Compaction): Attributes {
    const a: Attributes = {};
    put(a, 'openinference.span.kind', 'CHAIN');
    put(a, 'codex.compaction.kind', c.remote ? 'remote' : 'local');
    put(a, 'codex.compaction.replacement_items', c.replacementItems);
    put(a, 'codex.compaction.window_number', c.windowNumber);
    put(a, 'codex.compaction.tokens_after', c.tokensAfter);
    put(a, 'codex.compaction.index', c.index);
    putFacts(a, c.incomplete, c.facts, COMPACTION_FACTS);
    this.putSource(a, c.line);
    return a;
  }

  private threadAttributes(thread: Thread, placement: Placement, title: string | undefined): Attributes {
    const m = thread.meta;
    const a: Attributes = {};
    put(a, 'gen_ai.operation.name', 'invoke_agent');
    put(a, 'openinference.span.kind', 'AGENT');
    put(a, 'rollout.title', title);
    put(a, 'gen_ai.agent.name', this.agentName);
    put(a, 'gen_ai.agent.id', m.threadId);
    put(a, 'gen_ai.conversation.id', this.placement.conversationId);
    put(a, 'session.id', this.placement.conversationId);
    put(a, 'gen_ai.provider.name', m.provider);
    putCost(a, this.cost.priced > 0 ? this.cost.amount : undefined);
    put(a, 'codex.cost.unpriced_calls', this.cost.unpriced || undefined);
    put(a, 'gen_ai.invocation.is_nested', m.parentThreadId !== undefined ? true : undefined);
    put(a, 'codex.thread.id', m.threadId);
    put(a, 'codex.session.id', m.sessionId);
    put(a, 'codex.parent_thread.id', m.parentThreadId);
    put(a, 'codex.forked_from.id', m.forkedFromId);
    put(a, 'codex.agent.nickname', m.agentNickname);
    put(a, 'codex.agent.role', m.agentRole);
    put(a, 'codex.agent.path', m.agentPath);
    put(a, 'codex.agent.depth', m.depth);
    put(a, 'codex.subagent.kind', m.subagentKind);
    put(a, 'codex.parent.link', placement.parentNote);
    put(a, 'codex.cli_version', m.cliVersion);
    put(a, 'codex.originator', m.originator);
    put(a, 'codex.source', m.source);
    put(a, 'codex.cwd', m.cwd);
    put(a, 'codex.history_mode', m.historyMode);
    put(a, 'codex.thread.turns', thread.turnCount);
    put(a, 'codex.fork.copied_lines', thread.copiedLines || undefined);
    put(a, 'vcs.repository.url.full', m.git?.repositoryUrl);
    put(a, 'vcs.ref.head.name', m.git?.branch);
    put(a, 'vcs.ref.head.revision', m.git?.commit);
    put(a, 'input.value', this.privacy.content('prompts', this.firstPrompt));
    put(a, 'output.value', this.privacy.content('outputs', this.lastAnswer));
    putFacts(a, thread.incomplete, thread.facts, THREAD_FACTS);
    this.putSource(a, thread.line);
    return a;
  }

  private chatAttributes(call: ModelCall, model: string | undefined, price: number | undefined): Attributes {
    const a: Attributes = {};
    const provider = call.provider ?? this.meta.provider ?? 'openai';
    put(a, 'gen_ai.operation.name', 'chat');
    put(a, 'openinference.span.kind', 'LLM');
    put(a, 'gen_ai.provider.name', provider);
    put(a, 'gen_ai.request.model', model);
    put(a, 'llm.model_name', model);
    put(a, 'llm.provider', provider);
    put(a, 'gen_ai.conversation.id', this.placement.conversationId);
    put(a, 'gen_ai.conversation.compacted', call.compacted || undefined);
    putUsage(a, call.usage);
    putCost(a, price);
    put(a, 'codex.model_call.index', call.index);
    put(a, 'gen_ai.input.messages', this.privacy.messages(call.input, 'input'));
    put(a, 'gen_ai.output.messages', this.privacy.messages(call.output, 'output'));
    putFacts(a, call.incomplete, call.facts, CALL_FACTS);
    this.putSource(a, call.line);
    return a;
  }

  private toolAttributes(tool: ToolCall, name: string): Attributes {
    const r = tool.result;
    const a: Attributes = {};
    put(a, 'gen_ai.operation.name', 'execute_tool');
    put(a, 'openinference.span.kind', 'TOOL');
    put(a, 'gen_ai.tool.name', name);
    put(a, 'gen_ai.tool.call.id', tool.callId);
    put(a, 'gen_ai.tool.type', tool.toolKind === 'mcp' || tool.toolKind === 'web_search' || tool.toolKind === 'image_generation' ? 'extension' : 'function');
    put(a, 'gen_ai.conversation.id', this.placement.conversationId);
    put(a, 'codex.tool.recorded_name', name !== tool.name ? tool.name : undefined);
    put(a, 'codex.tool.namespace', tool.namespace);
    put(a, 'codex.tool.kind', tool.toolKind);
    put(a, 'codex.mcp.server', r.mcpServer ?? tool.mcp?.server);
    putSummary(a, r.summary, this.privacy);
    put(a, 'process.exit.code', r.exitCode);
    put(a, 'codex.tool.duration_ms', r.durationMs !== undefined ? Math.round(r.durationMs * 1000) / 1000 : undefined);
    put(a, 'codex.tool.incomplete', tool.incomplete || undefined);
    put(a, 'codex.tool.still_running', r.stillRunning || undefined);
    put(a, 'gen_ai.tool.call.arguments', this.privacy.content('tool-arguments', tool.arguments));
    put(a, 'gen_ai.tool.call.result', this.privacy.content('tool-results', tool.output));
    putFacts(a, undefined, tool.facts, TOOL_FACTS);
    this.putSource(a, tool.line);
    return a;
  }

  private terminalAttributes(t: NonNullable<ToolCall['terminal']>): Attributes {
    const a: Attributes = {};
    put(a, 'openinference.span.kind', 'TOOL');
    put(a, 'codex.terminal.operation', t.operation);
    put(a, 'codex.terminal.id', t.terminalId);
    put(a, 'process.exit.code', t.exitCode);
    put(a, 'codex.terminal.duration_ms', t.durationMs !== undefined ? Math.round(t.durationMs * 1000) / 1000 : undefined);
    put(a, 'codex.terminal.still_running', t.stillRunning || undefined);
    put(a, 'process.command_line', this.privacy.content('tool-arguments', t.command));
    if (t.incomplete) a['codex.incomplete'] = true;
    this.putSource(a, t.line);
    return a;
  }

  private attemptAttributes(at: NonNullable<Compaction['attempts']>[number]): Attributes {
    const a: Attributes = {};
    // a request to the model that writes the summary: a chat call to GenAI and OpenInference readers
    put(a, 'gen_ai.operation.name', 'chat');
    put(a, 'openinference.span.kind', 'LLM');
    put(a, 'gen_ai.provider.name', at.provider);
    put(a, 'gen_ai.request.model', at.model);
    put(a, 'codex.compaction.request_id', at.id);
    if (at.incomplete) a['codex.incomplete'] = true;
    this.putSource(a, at.line);
    return a;
  }

  private putSource(a: Attributes, line: number): void {
    a['rollout.source.path'] = this.path;
    a['rollout.source.line'] = line;
    if (this.meta.inferredTiming) a['rollout.timing'] = 'inferred';
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

  private vendor(a: Attributes): Attributes {
    return this.namespace === undefined ? a : inNamespace(a, this.namespace);
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
    const events: TimedEvent[] = d.events.length === 0 ? NO_EVENTS : d.events.slice(0, MAX_EVENTS).map((n) => {
      const { name, attributes } = eventOf(n);
      return { name, time: hr(Math.min(Math.max(us(n.time), d.startUs), d.endUs)), attributes: this.vendor(this.privacy.event(attributes)) };
    });
    // free text leaves only as captured content; every other string is checked on its way out
    const attributes = this.vendor(this.privacy.attributes(d.error ? { ...d.attributes, 'error.type': d.error.type } : d.attributes));
    return {
      name: this.privacy.name(d.name),
      kind: d.kind,
      spanContext: () => ctx,
      parentSpanContext: parentSpanId ? { traceId: this.traceId, spanId: parentSpanId, traceFlags: TraceFlags.SAMPLED, isRemote: false } : undefined,
      startTime: hr(d.startUs),
      endTime: hr(d.endUs),
      duration: hr(d.endUs - d.startUs),
      ended: true,
      status: d.error ? { code: SpanStatusCode.ERROR, message: this.privacy.status(d.error) } : d.stopped ? { code: SpanStatusCode.UNSET, message: d.stopped } : { code: SpanStatusCode.UNSET },
      attributes,
      links: d.links === undefined || d.links.length === 0 ? NO_LINKS : d.links.map(({ key, kind }) => ({
        context: { traceId: this.traceId, spanId: this.idOf(key), traceFlags: TraceFlags.SAMPLED },
        attributes: this.vendor({ 'codex.link.kind': kind }),
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

/** The name a thread's spans carry: the log's own, a sub-agent's nickname or role, else the dialect's agent. */
export function agentNameOf(meta: ThreadMeta, agent: string): string {
  if (meta.agentName) return meta.agentName;
  if (!meta.parentThreadId && !meta.subagentKind) return agent;
  return meta.agentNickname ?? meta.agentRole ?? meta.agentPath ?? meta.subagentKind ?? agent;
}

/** Links to other agents' threads, or to one of their turns. */
function edgeLinks(edges: AgentEdge[] | undefined): Draft['links'] {
  return edges?.map((e) => ({ key: e.turnId !== undefined ? spanKeys.turn(e.threadId, e.turnId, 0) : spanKeys.thread(e.threadId), kind: e.kind }));
}


/** The last thing the agent said in a turn (content capture only: parts are kept only then). */
function lastAnswer(turn: Turn): string | undefined {
  for (let i = turn.modelCalls.length - 1; i >= 0; i--) {
    const parts = turn.modelCalls[i]?.output;
    if (!parts) continue;
    for (let j = parts.length - 1; j >= 0; j--) {
      const p = parts[j];
      if (p?.type === 'text' && p.role === 'assistant' && p.text) return p.text;
    }
  }
  return undefined;
}

/**
 * A short human label for a session: the repository (or working directory) and branch, the first
 * words of the first prompt when content is captured, and a mark when its times were inferred.
 */
export function traceTitle(meta: ThreadMeta, prompt: string | undefined): string | undefined {
  const repo = lastSegment(meta.git?.repositoryUrl?.replace(/\.git$/, '')) ?? lastSegment(meta.cwd);
  const parts: string[] = [];
  if (repo) parts.push(meta.git?.branch ? `${repo}@${meta.git.branch}` : repo);
  if (prompt) {
    const words = prompt.trim().split(/\s+/).slice(0, 8).join(' ');
    parts.push(`"${words.length > 60 ? `${words.slice(0, 60)}…` : words}${prompt.trim().length > words.length ? '…' : ''}"`);
  }
  if (meta.inferredTiming) parts.push('(times inferred)');
  return parts.length ? parts.join(' ') : undefined;
}

function lastSegment(path: string | undefined): string | undefined {
  const seg = path?.split(/[\\/:]/).filter((x) => x !== '').pop();
  return seg || undefined;
}
