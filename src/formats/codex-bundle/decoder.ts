import type { AgentAction, BundleEvent, EndStatus } from '../../model/bundle-events.js';
import type { DecodeWarning, ToolKind } from '../../model/events.js';
import { decodeMcpName } from '../codex/tool-output.js';
import { newInputParts, outputParts } from './content.js';
import { cellResult, checkpointSizes, dispatchResult, protocolFacts, runtimeFacts, threadFacts, usageOf, type RecordedError } from './payloads.js';
import type { LoggedEvent, PayloadStore } from './reader.js';
import * as S from './schemas.js';
import { jsonObject, jsonText } from '../json.js';

export interface Decoded {
  events: BundleEvent[];
  /** the event's type or shape is unknown: nothing was derived from it */
  warning?: DecodeWarning;
  /** the event was understood but a payload it names could not be used */
  problems: DecodeWarning[];
}

type Load = (ref: S.PayloadRef | null | undefined, wanted?: boolean) => Promise<unknown>;
/** Reads a payload and takes what is needed from it, reporting the fields that were unusable. */
type Read = <T>(ref: S.PayloadRef | null | undefined, take: (value: unknown, bad: string[]) => T, wanted?: boolean) => Promise<T>;

interface ToolNote {
  name: string;
  namespace?: string;
  terminal?: 'exec_command' | 'write_stdin';
}

const END_STATUSES = new Set<string>(['completed', 'failed', 'cancelled', 'aborted']);
const endStatus = (s: string | null | undefined): EndStatus => (s && END_STATUSES.has(s) ? (s as EndStatus) : 'completed');

const AGENT_ACTIONS: Record<string, AgentAction> = {
  spawn_agent: 'spawn_agent', assign_agent_task: 'followup_task', send_message: 'send_message', wait_agent: 'wait_agent', close_agent: 'close_agent',
};
const KIND_NAMES: Record<string, string> = { web: 'web_search', assign_agent_task: 'followup_task', mcp: 'mcp' };
const TARGET_ARGS = ['target', 'targets', 'task_name', 'agent_path', 'path'];

/**
 * Turns one `trace.jsonl` event into domain events, reading the payload files it names only when
 * the trace needs them: metadata, usage, exit codes, agents, errors, and content when captured.
 */
export class BundleDecoder {
  private readonly tools = new Map<string, ToolNote>();
  /** the turn of the latest line whose envelope named one */
  private lastTurnId: string | undefined;
  /** `error` breadcrumbs met before any line named a turn: they go to the next turn that ends */
  private unplacedErrors: { time: number; line: number; error: RecordedError }[] = [];

  constructor(private readonly payloads: PayloadStore, private readonly capture: boolean) {}

  async decode({ line, envelope: env }: LoggedEvent): Promise<Decoded> {
    const out: Decoded = { events: [], problems: [] };
    const type = env.payload.type;
    const previousTurnId = this.lastTurnId;
    if (env.codex_turn_id) this.lastTurnId = env.codex_turn_id;
    if (!(type in S.Variants)) {
      out.warning = { line, type, message: 'unknown trace event type' };
      return out;
    }
    const parsed = S.Variants[type as S.VariantType].safeParse(env.payload);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      out.warning = { line, type, message: `malformed event: ${issue?.path.join('.')} ${issue?.message}` };
      return out;
    }
    const at = { time: env.wall_time_unix_ms, line, threadId: env.thread_id ?? undefined, turnId: env.codex_turn_id ?? undefined };
    const load: Load = async (ref, wanted = true) => {
      if (!ref || !wanted) return undefined;
      const read = await this.payloads.read(ref, line);
      if ('problem' in read) {
        out.problems.push(read.problem);
        return undefined;
      }
      return read.value;
    };
    const read: Read = async (ref, take, wanted) => {
      const bad: string[] = [];
      const taken = take(await load(ref, wanted), bad);
      if (bad.length) out.problems.push({ line, type: 'payload-shape', message: `${ref?.path}: unusable ${bad.join('; ')}` });
      return taken;
    };
    const emit = (e: BundleEvent) => out.events.push(e);
    const p = parsed.data as Record<string, unknown>;
    switch (type as S.VariantType) {
      case 'rollout_started': {
        const v = p as S.Variant<'rollout_started'>;
        emit({ ...at, kind: 'rollout_start', traceId: v.trace_id ?? undefined, rootThreadId: v.root_thread_id ?? undefined });
        break;
      }
      case 'rollout_ended':
        emit({ ...at, kind: 'rollout_end', status: (p as S.Variant<'rollout_ended'>).status ?? undefined });
        break;
      case 'thread_started': {
        const v = p as S.Variant<'thread_started'>;
        const facts = await read(v.metadata_payload, (value, bad) => threadFacts(value, v.agent_path ?? undefined, bad));
        emit({ ...at, kind: 'thread_start', threadId: v.thread_id, facts });
        break;
      }
      case 'thread_ended': {
        const v = p as S.Variant<'thread_ended'>;
        emit({ ...at, kind: 'thread_end', threadId: v.thread_id, status: v.status ?? undefined });
        break;
      }
      case 'codex_turn_started': {
        const v = p as S.Variant<'codex_turn_started'>;
        emit({ ...at, kind: 'turn_start', threadId: v.thread_id ?? at.threadId, turnId: v.codex_turn_id });
        break;
      }
      case 'codex_turn_ended': {
        const v = p as S.Variant<'codex_turn_ended'>;
        emit({ ...at, kind: 'turn_end', turnId: v.codex_turn_id, status: endStatus(v.status) });
        for (const u of this.unplacedErrors.splice(0)) emit({ ...u, kind: 'turn_outcome', turnId: v.codex_turn_id });
        break;
      }
      case 'inference_started': {
        const v = p as S.Variant<'inference_started'>;
        const request = await read(v.request_payload, (value, bad) => S.readPayload(S.InferenceRequest, value, bad), this.capture);
        emit({
          ...at, kind: 'inference_start', callId: v.inference_call_id,
          threadId: v.thread_id ?? at.threadId, turnId: v.codex_turn_id ?? at.turnId,
          model: v.model ?? undefined, provider: v.provider_name ?? undefined,
          input: this.capture && request ? newInputParts(request.input) : undefined,
        });
        break;
      }
      case 'inference_completed':
      case 'inference_failed':
      case 'inference_cancelled': {
        const v = p as S.Variant<'inference_completed'> & S.Variant<'inference_failed'> & S.Variant<'inference_cancelled'>;
        const status = type === 'inference_completed' ? 'completed' : type === 'inference_failed' ? 'failed' : 'cancelled';
        const { r, usage } = await read(v.response_payload ?? v.partial_response_payload, (value, bad) => {
          const response = S.readPayload(S.InferenceResponse, value, bad);
          return { r: response, usage: usageOf(response?.token_usage, bad) };
        });
        emit({
          ...at, kind: 'inference_end', callId: v.inference_call_id, status,
          error: status === 'failed' ? (v.error ?? 'inference failed') : undefined,
          reason: status === 'cancelled' ? (v.reason ?? undefined) : undefined,
          usage,
          responseId: v.response_id ?? r?.response_id ?? undefined,
          upstreamRequestId: v.upstream_request_id ?? r?.upstream_request_id ?? undefined,
          output: this.capture ? outputParts(r?.output_items) : undefined,
        });
        break;
      }
      case 'tool_call_started':
        emit(await this.toolStart(p as S.Variant<'tool_call_started'>, at, read));
        break;
      case 'mcp_tool_call_correlation_assigned': {
        const v = p as S.Variant<'mcp_tool_call_correlation_assigned'>;
        const tool = this.tools.get(v.tool_call_id);
        emit({ ...at, kind: 'mcp_assigned', toolCallId: v.tool_call_id, mcpCallId: v.mcp_call_id ?? undefined, mcp: tool && decodeMcpName(tool.name, tool.namespace) });
        break;
      }
      case 'tool_call_runtime_started':
      case 'tool_call_runtime_ended': {
        const v = p as S.Variant<'tool_call_runtime_ended'>;
        const facts = await read(v.runtime_payload, runtimeFacts);
        emit({
          ...at, kind: 'tool_runtime', toolCallId: v.tool_call_id,
          phase: type === 'tool_call_runtime_started' ? 'start' : 'end',
          status: type === 'tool_call_runtime_ended' ? endStatus(v.status) : undefined,
          protocolStatus: facts?.status,
          result: facts?.result ?? {},
          terminalId: facts?.terminalId,
          command: this.capture ? facts?.command : undefined,
          spawnedThreadId: facts?.spawnedThreadId,
          targetThreadIds: facts?.targetThreadIds,
        });
        break;
      }
      case 'tool_call_ended': {
        const v = p as S.Variant<'tool_call_ended'>;
        const status = endStatus(v.status);
        const terminal = this.tools.get(v.tool_call_id)?.terminal !== undefined;
        const { result, output } = await read(v.result_payload, (value, bad) => dispatchResult(value, terminal, bad), this.capture || terminal || status !== 'completed');
        emit({ ...at, kind: 'tool_end', toolCallId: v.tool_call_id, status, result, output: this.capture ? output : undefined });
        break;
      }
      case 'code_cell_started': {
        const v = p as S.Variant<'code_cell_started'>;
        emit({ ...at, kind: 'cell_start', cellId: v.runtime_cell_id, modelCallId: v.model_visible_call_id, source: this.capture ? (v.source_js ?? undefined) : undefined });
        break;
      }
      case 'code_cell_initial_response':
      case 'code_cell_ended': {
        const v = p as S.Variant<'code_cell_ended'>;
        const failed = v.status === 'failed';
        const r = await read(v.response_payload, cellResult, this.capture || failed);
        emit({
          ...at, kind: 'cell_response', cellId: v.runtime_cell_id, final: type === 'code_cell_ended', status: v.status ?? undefined,
          errorMessage: failed ? (r.errorMessage ?? undefined) : undefined, output: this.capture ? r.output : undefined,
        });
        break;
      }
      case 'compaction_request_started': {
        const v = p as S.Variant<'compaction_request_started'>;
        emit({
          ...at, kind: 'compaction_request_start', compactionId: v.compaction_id, requestId: v.compaction_request_id,
          threadId: v.thread_id ?? at.threadId, turnId: v.codex_turn_id ?? at.turnId, model: v.model ?? undefined, provider: v.provider_name ?? undefined,
        });
        break;
      }
      case 'compaction_request_completed':
      case 'compaction_request_failed': {
        const v = p as S.Variant<'compaction_request_failed'>;
        const error = type === 'compaction_request_failed' ? (v.error ?? 'compaction request failed') : undefined;
        emit({ ...at, kind: 'compaction_request_end', compactionId: v.compaction_id, requestId: v.compaction_request_id, error });
        break;
      }
      case 'compaction_installed': {
        const v = p as S.Variant<'compaction_installed'>;
        emit({ ...at, kind: 'compaction_installed', compactionId: v.compaction_id, ...(await read(v.checkpoint_payload, checkpointSizes)) });
        break;
      }
      case 'agent_result_observed': {
        const v = p as S.Variant<'agent_result_observed'>;
        emit({ ...at, kind: 'agent_result', childThreadId: v.child_thread_id, childTurnId: v.child_codex_turn_id ?? at.turnId, parentThreadId: v.parent_thread_id });
        break;
      }
      case 'protocol_event_observed': {
        // Breadcrumbs; only errors and a turn's end say something the typed events do not.
        const v = p as S.Variant<'protocol_event_observed'>;
        if (v.event_type !== 'turn_complete' && v.event_type !== 'turn_aborted' && v.event_type !== 'error') break;
        const { turnId, error, abortReason } = await read(v.event_payload, (value, bad) => protocolFacts(v.event_type, value, bad));
        if (v.event_type === 'error') {
          // An ErrorEvent names no turn and its line no context: it belongs to the turn the log was last in.
          if (!error) break;
          if (previousTurnId !== undefined) emit({ ...at, kind: 'turn_outcome', turnId: previousTurnId, error });
          else this.unplacedErrors.push({ time: at.time, line, error });
          break;
        }
        if (turnId && (error || abortReason)) emit({ ...at, kind: 'turn_outcome', turnId, error, abortReason });
        break;
      }
      case 'other':
        out.warning = { line, type, message: `escape-hatch event "${(p as S.Variant<'other'>).kind ?? ''}" has no meaning to translate` };
        break;
    }
    return out;
  }

  private async toolStart(v: S.Variant<'tool_call_started'>, at: { time: number; line: number; threadId?: string; turnId?: string }, read: Read): Promise<BundleEvent> {
    const kind = v.kind?.type ?? 'other';
    const agentAction = AGENT_ACTIONS[kind];
    const terminal = kind === 'exec_command' || kind === 'write_stdin' ? kind : undefined;
    const label = v.summary?.type === 'generic' ? (v.summary.label ?? undefined) : undefined;
    // The name is in the kind or the summary label; other summaries (agents, wait) need the invocation.
    const needInvocation = this.capture || label === undefined || agentAction !== undefined || kind === 'write_stdin';
    const invocation = await read(v.invocation_payload, (value, bad) => S.readPayload(S.ToolInvocation, value, bad), needInvocation);
    const name = invocation?.tool_name ?? v.kind?.name ?? v.kind?.tool ?? labelName(label) ?? KIND_NAMES[kind] ?? kind;
    const namespace = invocation?.tool_namespace ?? (label?.endsWith(`.${name}`) ? label.slice(0, -name.length - 1) : undefined);
    const args = argumentsOf(invocation?.payload);
    const parsedArgs = args !== undefined ? jsonObject(args) : undefined;
    this.tools.set(v.tool_call_id, { name, namespace, terminal });
    const payloadType = invocation?.payload?.type;
    const toolKind: ToolKind =
      kind === 'mcp' ? 'mcp' : kind === 'web' ? 'web_search' : kind === 'image_generation' ? 'image_generation'
      : payloadType === 'custom' ? 'custom' : payloadType === 'tool_search' ? 'tool_search' : 'function';
    const targets = [v.summary?.target_agent_path, ...TARGET_ARGS.flatMap((k) => parsedArgs?.[k] ?? [])].filter((t): t is string => typeof t === 'string' && t !== '');
    const session = parsedArgs?.session_id;
    return {
      ...at, kind: 'tool_start', toolCallId: v.tool_call_id, modelCallId: v.model_visible_call_id ?? undefined,
      cellId: v.requester?.type === 'code_cell' ? (v.requester.runtime_cell_id ?? undefined) : undefined,
      name, namespace: namespace || undefined, toolKind, terminal,
      mcp: kind === 'mcp' && v.kind?.server ? { server: v.kind.server, tool: v.kind.tool ?? name } : undefined,
      terminalId: kind === 'write_stdin' && (typeof session === 'string' || typeof session === 'number') ? String(session) : undefined,
      agentAction, targetPaths: agentAction && targets.length ? [...new Set(targets)] : undefined,
      arguments: this.capture ? args : undefined,
      codeModeToolId: v.code_mode_runtime_tool_id || undefined,
    };
  }
}

function labelName(label: string | undefined): string | undefined {
  return label?.split('.').pop() || undefined;
}

function argumentsOf(payload: { type?: string | null; arguments?: unknown; input?: unknown } | null | undefined): string | undefined {
  if (!payload) return undefined;
  if (typeof payload.arguments === 'string') return payload.arguments;
  if (typeof payload.input === 'string') return payload.input;
  if (payload.arguments !== undefined) return jsonText(payload.arguments);
  return undefined;
}
