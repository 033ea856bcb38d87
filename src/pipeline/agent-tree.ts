import { readdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import type { ThreadMeta } from '../model/events.js';
import type { Placement } from '../otel/map.js';
import { spanIdFor, spanKeys } from '../otel/ids.js';
import { threadIdFromName } from '../sources/discover.js';
import { openRollout } from '../sources/files.js';
import { readLines } from '../sources/lines.js';

/** What a parent's rollout says about the agents it spawned. */
interface ParentFacts {
  threadId: string;
  sessionId?: string;
  parentThreadId?: string;
  /** child thread id → spawning call id */
  byThreadId: Map<string, string>;
  /** child agent path (v2 task name) → spawning call id */
  byPath: Map<string, string>;
  /** v2 calls that address agents by path after spawning them (send_message, followup_task …) */
  interactions: { callId: string; targets: string[] }[];
}

const SPAWN_TOOLS = new Set(['spawn_agent', 'spawn_agents']);
const PATH_INTERACTIONS = new Set(['send_message', 'followup_task', 'wait_agent', 'interrupt_agent', 'close_agent', 'send_input', 'wait']);

/**
 * Places threads in their agent tree: the root (which names the trace) and the spawning call in
 * the parent (which parents the child's thread span). Parents are found among the files being
 * exported, then by thread id in the sessions directories around them.
 */
export class AgentTree {
  private readonly paths = new Map<string, string>();
  private readonly facts = new Map<string, Promise<ParentFacts | undefined>>();
  private scanned: Promise<void> | undefined;
  private readonly searchDirs: string[];

  constructor(knownFiles: string[], extraDirs: string[] = [], env: NodeJS.ProcessEnv = process.env) {
    for (const f of knownFiles) this.remember(f);
    const home = env.CODEX_HOME ?? join(homedir(), '.codex');
    const around = knownFiles.flatMap(sessionsRootsOf);
    this.searchDirs = [...new Set([...extraDirs, ...around, join(home, 'sessions'), join(home, 'archived_sessions')])];
  }

  async place(meta: ThreadMeta): Promise<Placement> {
    const parentId = meta.parentThreadId;
    if (!parentId) return { rootThreadId: meta.sessionId ?? meta.threadId, conversationId: meta.sessionId ?? meta.threadId };
    const parent = await this.factsOf(parentId);
    const root = meta.sessionId ?? (await this.rootOf(parentId));
    const conversationId = meta.sessionId ?? root;
    if (!parent) {
      return {
        rootThreadId: root, conversationId,
        parentSpanId: spanIdFor(spanKeys.thread(parentId)),
        parentNote: `parent rollout ${parentId} not found; hanging under its thread span`,
      };
    }
    const callId = parent.byThreadId.get(meta.threadId) ?? (meta.agentPath ? parent.byPath.get(meta.agentPath) : undefined);
    if (!callId) {
      return {
        rootThreadId: root, conversationId,
        parentSpanId: spanIdFor(spanKeys.thread(parentId)),
        parentNote: 'no spawning call found in the parent rollout; hanging under its thread span',
      };
    }
    return { rootThreadId: root, conversationId, parentSpanId: spanIdFor(spanKeys.tool(parentId, callId)), links: this.interactionLinks(parent, meta) };
  }

  /** v2 messages name the agent by path, which only the child knows: the child links back to them. */
  private interactionLinks(parent: ParentFacts, meta: ThreadMeta): string[] | undefined {
    const path = meta.agentPath;
    if (!path) return undefined;
    const name = path.split('/').pop();
    const calls = parent.interactions.filter((i) => i.targets.some((t) => t === path || t === name));
    return calls.length ? calls.map((c) => spanIdFor(spanKeys.tool(parent.threadId, c.callId))) : undefined;
  }

  private async rootOf(threadId: string, depth = 0): Promise<string> {
    const f = await this.factsOf(threadId);
    if (!f) return threadId;
    if (f.sessionId) return f.sessionId;
    if (!f.parentThreadId || depth > 16) return threadId;
    return this.rootOf(f.parentThreadId, depth + 1);
  }

  private factsOf(threadId: string): Promise<ParentFacts | undefined> {
    let p = this.facts.get(threadId);
    if (!p) {
      p = this.locate(threadId).then((path) => (path ? readFacts(path, threadId) : undefined));
      this.facts.set(threadId, p);
    }
    return p;
  }

  private async locate(threadId: string): Promise<string | undefined> {
    const known = this.paths.get(threadId);
    if (known) return known;
    this.scanned ??= Promise.all(this.searchDirs.map((d) => this.scan(d))).then(() => undefined);
    await this.scanned;
    return this.paths.get(threadId);
  }

  private async scan(dir: string, depth = 0): Promise<void> {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (e.isDirectory() && depth < 4) await this.scan(join(dir, e.name), depth + 1);
      else if (e.isFile()) this.remember(join(dir, e.name));
    }
  }

  private remember(path: string): void {
    const id = threadIdFromName(path);
    // the plain file wins over its .zst archive
    if (id && (!this.paths.has(id) || !path.endsWith('.zst'))) this.paths.set(id, path);
  }
}

/** `…/sessions/2026/05/08/x.jsonl` → `…/sessions` and its sibling `archived_sessions`. */
function sessionsRootsOf(file: string): string[] {
  let dir = dirname(file);
  for (let i = 0; i < 5 && dir !== dirname(dir); i++, dir = dirname(dir)) {
    const name = basename(dir);
    if (name === 'sessions' || name === 'archived_sessions') return [join(dirname(dir), 'sessions'), join(dirname(dir), 'archived_sessions')];
  }
  return [dirname(file)];
}

async function readFacts(path: string, threadId: string): Promise<ParentFacts | undefined> {
  const facts: ParentFacts = { threadId, byThreadId: new Map(), byPath: new Map(), interactions: [] };
  const spawnCalls = new Set<string>();
  let sawMeta = false;
  try {
    for await (const l of readLines(openRollout(path))) {
      // cheap filter: only lines that can carry spawn facts are parsed
      if (sawMeta && !/spawn|Collab|"function_call/.test(l.text)) continue;
      let o: { type?: string; payload?: Record<string, unknown> };
      try {
        o = JSON.parse(l.text);
      } catch {
        continue;
      }
      const p = o.payload ?? {};
      if (o.type === 'session_meta' && !sawMeta) {
        sawMeta = true;
        if (typeof p.session_id === 'string') facts.sessionId = p.session_id;
        const spawn = (p.source as { subagent?: { thread_spawn?: { parent_thread_id?: string } } } | undefined)?.subagent?.thread_spawn;
        facts.parentThreadId = (typeof p.parent_thread_id === 'string' ? p.parent_thread_id : undefined) ?? spawn?.parent_thread_id;
        continue;
      }
      if (o.type === 'response_item' && p.type === 'function_call' && SPAWN_TOOLS.has(String(p.name)) && typeof p.call_id === 'string') {
        spawnCalls.add(p.call_id);
      } else if (o.type === 'response_item' && p.type === 'function_call' && PATH_INTERACTIONS.has(String(p.name)) && typeof p.call_id === 'string') {
        const args = parseJson(typeof p.arguments === 'string' ? p.arguments : undefined);
        const targets = ['target', 'targets', 'task_name', 'path', 'agent_path'].flatMap((k) => (Array.isArray(args?.[k]) ? (args?.[k] as unknown[]) : [args?.[k]]));
        const paths = targets.filter((t): t is string => typeof t === 'string' && t.length > 0);
        if (paths.length) facts.interactions.push({ callId: p.call_id, targets: paths });
      } else if (o.type === 'response_item' && p.type === 'function_call_output' && spawnCalls.has(String(p.call_id))) {
        const out = parseJson(typeof p.output === 'string' ? p.output : firstText(p.output));
        if (typeof out?.agent_id === 'string') facts.byThreadId.set(out.agent_id, String(p.call_id));
        if (typeof out?.task_name === 'string') facts.byPath.set(out.task_name, String(p.call_id));
      } else if (o.type === 'event_msg' && p.type === 'collab_agent_spawn_end' && typeof p.new_thread_id === 'string') {
        facts.byThreadId.set(p.new_thread_id, String(p.call_id));
      } else if (o.type === 'event_msg' && p.type === 'item_completed') {
        const item = p.item as { type?: string; tool?: string; id?: string; receiver_thread_ids?: unknown } | undefined;
        if (item?.type === 'CollabAgentToolCall' && item.tool === 'spawn_agent' && item.id && Array.isArray(item.receiver_thread_ids)) {
          for (const id of item.receiver_thread_ids) if (typeof id === 'string') facts.byThreadId.set(id, item.id);
        }
      }
    }
  } catch {
    return undefined;
  }
  return sawMeta ? facts : undefined;
}

function parseJson(text: string | undefined): Record<string, unknown> | undefined {
  if (!text) return undefined;
  try {
    const v = JSON.parse(text);
    return typeof v === 'object' && v !== null ? v : undefined;
  } catch {
    return undefined;
  }
}

function firstText(output: unknown): string | undefined {
  if (!Array.isArray(output)) return undefined;
  const first = output[0] as { text?: unknown } | undefined;
  return typeof first?.text === 'string' ? first.text : undefined;
}
