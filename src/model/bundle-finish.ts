import type { CallState, CompactionState, ThreadState, ToolState, TurnState } from './bundle-state.js';
import { turnStatus } from './outcome.js';
import { addUsage, emptyUsage, setFact, type Thread, type Turn } from './types.js';

export interface BundleThread {
  thread: Thread;
  turns: Turn[];
  /** the spawning call, or only the thread it hangs under when no call is known */
  spawnedBy?: { threadId: string; callKey?: string };
  /** why the thread does not hang under its spawning call */
  parentNote?: string;
}

export interface AssembledBundle {
  /** the bundle's own trace id (a UUID), when recorded */
  traceId?: string;
  rootThreadId?: string;
  /** root thread first */
  threads: BundleThread[];
}

export interface Replay {
  threads: Map<string, ThreadState>;
  turns: Map<string, TurnState>;
  calls: CallState[];
  tools: ToolState[];
  cells: ToolState[];
  compactions: CompactionState[];
  lastTime: number;
  traceId?: string;
  rootThreadId?: string;
  rolloutStatus?: string;
}

/** Ends what never ended (at its thread's end, else the last recorded time), sums usage, places threads. */
export function closeBundle(r: Replay): AssembledBundle {
  const closeAt = (ts: ThreadState) => ts.endedAt ?? r.lastTime;
  for (const c of r.calls) {
    if (!c.open) continue;
    c.call.end = Math.max(c.call.start, closeAt(c.turn.thread));
    c.call.incomplete = true;
  }
  for (const s of [...r.cells, ...r.tools]) closeTool(s, closeAt(s.turn.thread));
  for (const s of r.compactions) closeCompaction(s, closeAt(s.turn.thread));
  for (const ts of r.threads.values()) closeThread(ts, closeAt(ts));

  const root = rootOf(r);
  const placed = r.threads.size ? place(r, root) : new Map<string, Pick<BundleThread, 'spawnedBy' | 'parentNote'>>();
  linkTools(r);
  for (const ts of r.threads.values()) {
    for (const t of ts.turns) for (const call of t.turn.modelCalls) call.edges = call.edges?.filter((e) => knownEdge(r, e));
    // results delivered after the parent's last model call: kept as events on the parent's span
    for (const e of ts.pendingResults.filter((x) => knownEdge(r, x))) {
      ts.thread.notes.push({ kind: 'agent_result', time: ts.thread.end, threadId: e.threadId, turnId: e.turnId || undefined });
    }
  }
  if (root && r.rolloutStatus) setFact(r.threads.get(root)!.thread, 'rolloutStatus', r.rolloutStatus);
  const ordered = [...r.threads.values()].sort((a, b) => Number(b.thread.meta.threadId === root) - Number(a.thread.meta.threadId === root) || a.thread.start - b.thread.start);
  return {
    traceId: r.traceId,
    rootThreadId: root,
    threads: ordered.map((ts) => ({ thread: ts.thread, turns: ts.turns.map((t) => t.turn), ...placed.get(ts.thread.meta.threadId) })),
  };
}

function closeTool(s: ToolState, at: number): void {
  const tool = s.tool;
  if (s.open) {
    s.open = false;
    tool.end = Math.max(tool.start, s.provisionalEnd ?? at);
    tool.incomplete = s.provisionalEnd === undefined;
  }
  const op = tool.terminal;
  if (!op) return;
  op.start = Math.min(Math.max(op.start, tool.start), tool.end);
  if (Number.isNaN(op.end)) {
    if (tool.incomplete) op.incomplete = true;
    else op.stillRunning = true;
    op.end = tool.end;
  } else if (op.end > tool.end) {
    // the process went on after the call returned: the span stays inside the call
    op.end = tool.end;
    op.stillRunning = true;
  }
  if (op.stillRunning) tool.result.stillRunning = true;
}

function closeCompaction(s: CompactionState, at: number): void {
  const c = s.compaction;
  let end = s.installedAt ?? c.start;
  for (const { attempt, open } of s.attempts.values()) {
    if (open) {
      attempt.end = Math.max(attempt.start, at);
      attempt.incomplete = true;
      if (s.installedAt === undefined) c.incomplete = true;
    }
    c.start = Math.min(c.start, attempt.start);
    if (s.installedAt === undefined) end = Math.max(end, attempt.end);
  }
  c.end = end;
  setFact(c, 'installed', s.installedAt !== undefined);
  setFact(c, 'attempts', s.attempts.size);
}

function closeThread(ts: ThreadState, at: number): void {
  const thread = ts.thread;
  const usage = emptyUsage();
  for (const { turn, ended } of ts.turns) {
    if (!ended) {
      turn.end = Math.max(turn.start, at);
      // an error recorded in a turn that never ended is still its outcome
      turn.status = turnStatus('incomplete', turn.errorMessage !== undefined);
      turn.incomplete = true;
    }
    for (const call of turn.modelCalls) if (call.usage) addUsage(turn.usage, call.usage);
    turn.model = turn.modelCalls.find((c) => c.model)?.model ?? turn.model;
    addUsage(usage, turn.usage);
  }
  thread.end = Math.max(thread.start, at);
  thread.incomplete = ts.endedAt === undefined || undefined;
  thread.turnCount = ts.turns.length;
  thread.usage = usage;
  thread.lastModel = ts.turns.at(-1)?.turn.model;
  if (ts.status && ts.status !== 'completed') setFact(thread, 'status', ts.status);
}

function rootOf(r: Replay): string | undefined {
  if (r.rootThreadId && r.threads.has(r.rootThreadId)) return r.rootThreadId;
  const all = [...r.threads.values()];
  return (all.find((t) => !t.facts.parentThreadId && t.facts.agentPath === '/root') ?? all.find((t) => !t.facts.parentThreadId) ?? all[0])?.thread.meta.threadId;
}

const matchesPath = (agentPath: string | undefined, target: string) =>
  agentPath !== undefined && (agentPath === target || agentPath.endsWith(`/${target.replace(/^\/+/, '')}`));

/** Each child under the call that spawned it: the thread a spawn reported, else the spawn naming its path. */
function place(r: Replay, root: string | undefined): Map<string, Pick<BundleThread, 'spawnedBy' | 'parentNote'>> {
  const spawns = r.tools.filter((s) => s.action === 'spawn_agent');
  const out = new Map<string, Pick<BundleThread, 'spawnedBy' | 'parentNote'>>();
  for (const ts of r.threads.values()) {
    const id = ts.thread.meta.threadId;
    if (id === root) continue;
    const parentId = ts.facts.parentThreadId;
    const threadOf = (s: ToolState) => s.turn.thread.thread.meta.threadId;
    const spawn = spawns.find((s) => s.targetThreads.has(id) && threadOf(s) !== id)
      ?? spawns.find((s) => threadOf(s) === parentId && s.targetPaths?.some((p) => matchesPath(ts.facts.agentPath, p)));
    if (spawn) {
      ts.thread.meta.parentThreadId ??= threadOf(spawn);
      startWithin(ts, spawn);
      out.set(id, { spawnedBy: { threadId: threadOf(spawn), callKey: spawn.tool.key } });
    } else if (parentId && r.threads.has(parentId)) {
      out.set(id, { spawnedBy: { threadId: parentId }, parentNote: 'no spawning call recorded in the bundle; hanging under the parent thread span' });
    } else if (root) {
      const why = parentId ? `parent thread ${parentId} is not in the bundle` : 'no parent recorded';
      out.set(id, { spawnedBy: { threadId: root }, parentNote: `${why}; hanging under the root thread span` });
    }
  }
  return out;
}

/**
 * A child's thread span starts inside the call that spawned it (it may outlive the call): Codex
 * records the child's start when its session is up, often after the spawn call returned. The
 * recorded start is kept as an attribute.
 */
function startWithin(child: ThreadState, spawn: ToolState): void {
  const thread = child.thread;
  if (thread.start <= spawn.tool.end) return;
  setFact(thread, 'recordedStartUnixMs', thread.start);
  thread.start = spawn.tool.end;
}

/** Messages, follow-ups, waits and closes link to the threads they address. */
function linkTools(r: Replay): void {
  for (const s of r.tools) {
    if (!s.action || s.action === 'spawn_agent') continue;
    const own = s.turn.thread.thread.meta.threadId;
    const targets = new Set(s.targetThreads);
    for (const ts of r.threads.values()) {
      if (s.targetPaths?.some((p) => matchesPath(ts.facts.agentPath, p))) targets.add(ts.thread.meta.threadId);
    }
    targets.delete(own);
    const edges = [...targets].filter((t) => r.threads.has(t)).map((threadId) => ({ kind: s.action as string, threadId }));
    if (edges.length) s.tool.edges = edges;
  }
}

function knownEdge(r: Replay, e: { threadId: string; turnId?: string }): boolean {
  if (!r.threads.has(e.threadId)) return false;
  if (e.turnId !== undefined && r.turns.get(e.turnId)?.thread.thread.meta.threadId !== e.threadId) e.turnId = undefined;
  return true;
}
