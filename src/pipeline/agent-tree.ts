import { readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { LineDecoder } from '../formats/decoder.js';
import { agentHomes, detectDialect, logRootsOf, threadIdFromName } from '../formats/registry.js';
import type { RolloutEvent, ThreadMeta } from '../model/events.js';
import type { Placement } from '../model/types.js';
import { openRollout } from '../sources/files.js';
import { readLines } from '../sources/lines.js';
import { defaultPlacement } from './session.js';

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
    const around = knownFiles.flatMap((f) => logRootsOf(f) ?? [dirname(f)]);
    this.searchDirs = [...new Set([...extraDirs, ...around, ...agentHomes(env)])];
  }

  async place(meta: ThreadMeta): Promise<Placement> {
    const parentId = meta.parentThreadId;
    if (!parentId) return defaultPlacement(meta);
    const parent = await this.factsOf(parentId);
    const root = meta.sessionId ?? (await this.rootOf(parentId));
    const conversationId = meta.sessionId ?? root;
    if (!parent) {
      return {
        rootThreadId: root, conversationId,
        spawnedBy: { threadId: parentId },
        parentNote: `parent rollout ${parentId} not found; hanging under its thread span`,
      };
    }
    const callId = parent.byThreadId.get(meta.threadId) ?? (meta.agentPath ? parent.byPath.get(meta.agentPath) : undefined);
    if (!callId) {
      return {
        rootThreadId: root, conversationId,
        spawnedBy: { threadId: parentId },
        parentNote: 'no spawning call found in the parent rollout; hanging under its thread span',
      };
    }
    return { rootThreadId: root, conversationId, spawnedBy: { threadId: parentId, callKey: callId }, addressedBy: this.interactions(parent, meta) };
  }

  /** v2 messages name the agent by path, which only the child knows: the child links back to them. */
  private interactions(parent: ParentFacts, meta: ThreadMeta): Placement['addressedBy'] {
    const path = meta.agentPath;
    if (!path) return undefined;
    const name = path.split('/').pop();
    const calls = parent.interactions.filter((i) => i.targets.some((t) => t === path || t === name));
    return calls.length ? calls.map((c) => ({ threadId: parent.threadId, callKey: c.callId })) : undefined;
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

  /** Forgets what was read of a parent, so a live child sees the calls appended since. */
  forget(threadId: string): void {
    this.facts.delete(threadId);
  }

  remember(path: string): void {
    const id = threadIdFromName(path);
    // the plain file wins over its .zst archive
    if (id && (!this.paths.has(id) || !path.endsWith('.zst'))) this.paths.set(id, path);
  }
}


/** Reads a parent's log through its dialect's decoder and keeps only what places its children. */
async function readFacts(path: string, threadId: string): Promise<ParentFacts | undefined> {
  const facts: ParentFacts = { threadId, byThreadId: new Map(), byPath: new Map(), interactions: [] };
  let decoder: LineDecoder | undefined;
  let sawMeta = false;
  try {
    for await (const l of readLines(openRollout(path))) {
      let events: RolloutEvent[];
      try {
        const value: unknown = JSON.parse(l.text);
        if (!decoder) {
          const d = detectDialect(value);
          if (d?.shape !== 'thread-log') return undefined;
          decoder = d.decoder({ path, mtimeMs: () => Date.now() });
        }
        events = decoder.decode(value, l.line).events;
      } catch {
        continue;
      }
      for (const e of events) {
        if (e.kind === 'thread_start') {
          sawMeta = true;
          facts.sessionId = e.meta.sessionId;
          facts.parentThreadId = e.meta.parentThreadId;
        } else if (e.kind === 'agent_spawned') {
          if (e.threadId) facts.byThreadId.set(e.threadId, e.callId);
          if (e.path) facts.byPath.set(e.path, e.callId);
        } else if (e.kind === 'tool_call' && e.callId && e.agents?.paths.length) {
          facts.interactions.push({ callId: e.callId, targets: e.agents.paths });
        }
      }
    }
  } catch {
    return undefined;
  }
  return sawMeta ? facts : undefined;
}
