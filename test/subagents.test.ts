import assert from 'node:assert/strict';
import { describe, test } from 'vitest';
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixture, runCli } from './support/cli.ts';
import { startReceiver, type ReceivedSpan } from './support/otlp-receiver.ts';

const PARENT_ID = '01a0e81b-2a8b-7240-b94c-ad2ada7813da';
const CHILD_ID = '01a0e81b-4af7-7330-a113-bad47ba77c3e';
const PARENT_FILE = `rollout-2026-09-28T13-01-29-${PARENT_ID}.jsonl`;
const CHILD_FILE = `rollout-2026-09-28T13-01-37-${CHILD_ID}.jsonl`;

/** A Codex home with the real v2 parent/child excerpts in their dated folder. */
function codexHome(withParent = true): { home: string; day: string } {
  const home = mkdtempSync(join(tmpdir(), 'rollout-otel-home-'));
  const day = join(home, 'sessions', '2026', '09', '28');
  mkdirSync(day, { recursive: true });
  if (withParent) copyFileSync(fixture(`doctrine-skills__codex-0.156.1-subagent-parent-excerpt__${PARENT_FILE}`), join(day, PARENT_FILE));
  copyFileSync(fixture(`doctrine-skills__codex-0.156.1-subagent-child-excerpt__${CHILD_FILE}`), join(day, CHILD_FILE));
  return { home, day };
}

async function exportTo(args: string[], env: Record<string, string> = {}): Promise<ReceivedSpan[]> {
  const r = await startReceiver();
  try {
    const run = await runCli(['export', ...args], { OTEL_EXPORTER_OTLP_ENDPOINT: r.url, CODEX_HOME: join(tmpdir(), 'rollout-otel-no-home'), ...env });
    assert.equal(run.code, 0, run.stderr);
    return r.spans();
  } finally {
    await r.close();
  }
}

const shape = (spans: ReceivedSpan[]) => spans.map((s) => `${s.traceId} ${s.spanId} <- ${s.parentSpanId} ${s.name}`).sort();

describe('sub-agents (multi-agent v2, real 0.156.1 excerpts)', () => {
  test('exported as a tree: one trace, the child thread under the spawn_agent call', async () => {
    const { home } = codexHome();
    const spans = await exportTo([join(home, 'sessions')]);
    assert.equal(new Set(spans.map((s) => s.traceId)).size, 1, 'one trace for the agent tree');
    const spawn = spans.find((s) => s.name === 'execute_tool spawn_agent')!;
    const child = spans.find((s) => s.name === 'invoke_agent Boyle')!;
    const root = spans.find((s) => s.name.startsWith('invoke_agent codex'))!;
    assert.equal(root.parentSpanId, '');
    assert.equal(child.parentSpanId, spawn.spanId);
    assert.equal(child.attributes['gen_ai.agent.name'], 'Boyle');
    assert.equal(child.attributes['gen_ai.agent.id'], CHILD_ID);
    assert.equal(child.attributes['gen_ai.conversation.id'], PARENT_ID);
    assert.equal(child.attributes['codex.parent_thread.id'], PARENT_ID);
    assert.equal(child.attributes['codex.agent.path'], '/root/echo_task');
    assert.equal(child.attributes['codex.agent.depth'], 1);
    assert.equal(child.attributes['gen_ai.invocation.is_nested'], true);
    assert.ok(child.startNs >= spawn.startNs && child.startNs <= spawn.endNs, 'the child starts inside the spawning call');
    const ids = new Set(spans.map((s) => s.spanId));
    assert.ok(spans.every((s) => s.parentSpanId === '' || ids.has(s.parentSpanId)), 'no span points to a parent that was not exported');
  });

  test('exported one file at a time, child first: the same ids and parents', async () => {
    const { home, day } = codexHome();
    const together = await exportTo([join(home, 'sessions')]);
    const child = await exportTo([join(day, CHILD_FILE)]);
    const parent = await exportTo([join(day, PARENT_FILE)]);
    assert.deepEqual(shape([...child, ...parent]), shape(together));
  });

  test('the parent is found through --sessions-dir and CODEX_HOME', async () => {
    const { home } = codexHome();
    const elsewhere = mkdtempSync(join(tmpdir(), 'rollout-otel-child-'));
    copyFileSync(join(home, 'sessions', '2026', '09', '28', CHILD_FILE), join(elsewhere, CHILD_FILE));
    const together = await exportTo([join(home, 'sessions')]);
    const spawnId = together.find((s) => s.name === 'execute_tool spawn_agent')!.spanId;
    for (const [args, env] of [[['--sessions-dir', join(home, 'sessions')], {}], [[], { CODEX_HOME: home }]] as const) {
      const spans = await exportTo([join(elsewhere, CHILD_FILE), ...args], env);
      assert.equal(spans.find((s) => s.name === 'invoke_agent Boyle')!.parentSpanId, spawnId);
    }
  });

  test('without its parent the child still lands in the root trace and says why', async () => {
    const { day } = codexHome(false);
    const spans = await exportTo([join(day, CHILD_FILE)]);
    const { home } = codexHome();
    const together = await exportTo([join(home, 'sessions')]);
    const child = spans.find((s) => s.name === 'invoke_agent Boyle')!;
    const parentThread = together.find((s) => s.name.startsWith('invoke_agent codex'))!;
    assert.equal(child.traceId, parentThread.traceId);
    assert.equal(child.parentSpanId, parentThread.spanId);
    assert.match(String(child.attributes['codex.parent.link']), /not found/);
  });
});

describe('sub-agents (multi-agent v1, spawn_agent output names the child)', () => {
  const ts = (s: number) => new Date(Date.UTC(2026, 2, 10, 10, 0, s)).toISOString();
  const ROOT = '019cd000-0000-7000-8000-000000000001';
  const CHILD = '019cd000-0000-7000-8000-000000000002';
  const GRANDCHILD = '019cd000-0000-7000-8000-000000000003';
  const meta = (id: string, at: number, source: unknown) => JSON.stringify({ timestamp: ts(at), type: 'session_meta', payload: { id, timestamp: ts(at), cwd: '/w', originator: 'codex-tui', cli_version: '0.110.0', source, model_provider: 'openai' } });
  const spawnSource = (parent: string, depth: number, nickname: string) => ({ subagent: { thread_spawn: { parent_thread_id: parent, depth, agent_path: null, agent_nickname: nickname, agent_role: 'explorer' } } });
  const ev = (at: number, payload: object) => JSON.stringify({ timestamp: ts(at), type: 'event_msg', payload });
  const item = (at: number, payload: object) => JSON.stringify({ timestamp: ts(at), type: 'response_item', payload });
  const thread = (id: string, at: number, source: unknown, spawnChild?: string) => [
    meta(id, at, source),
    ev(at + 1, { type: 'task_started', turn_id: `${id.slice(0, 24)}0000000000a${at}` }),
    ...(spawnChild
      ? [
          item(at + 2, { type: 'function_call', name: 'spawn_agent', arguments: '{"message":"look"}', call_id: `call_spawn_${at}` }),
          item(at + 3, { type: 'function_call_output', call_id: `call_spawn_${at}`, output: JSON.stringify({ agent_id: spawnChild, nickname: 'x' }) }),
          item(at + 8, { type: 'function_call', name: 'wait', arguments: JSON.stringify({ ids: [spawnChild] }), call_id: `call_wait_${at}` }),
          item(at + 20, { type: 'function_call_output', call_id: `call_wait_${at}`, output: '{"status":{},"timed_out":false}' }),
        ]
      : []),
    ev(at + 21, { type: 'task_complete', turn_id: `${id.slice(0, 24)}0000000000a${at}` }),
  ].join('\n') + '\n';

  test('grandchildren land in the root trace, each under its spawning call', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rollout-otel-v1-'));
    const day = join(dir, 'sessions', '2026', '03', '10');
    mkdirSync(day, { recursive: true });
    writeFileSync(join(day, `rollout-2026-03-10T10-00-00-${ROOT}.jsonl`), thread(ROOT, 0, 'cli', CHILD));
    writeFileSync(join(day, `rollout-2026-03-10T10-00-03-${CHILD}.jsonl`), thread(CHILD, 3, spawnSource(ROOT, 1, 'Euclid'), GRANDCHILD));
    writeFileSync(join(day, `rollout-2026-03-10T10-00-06-${GRANDCHILD}.jsonl`), thread(GRANDCHILD, 6, spawnSource(CHILD, 2, 'Noether')));
    // the grandchild alone, before anything else was exported
    const alone = await exportTo([join(day, `rollout-2026-03-10T10-00-06-${GRANDCHILD}.jsonl`)]);
    const spans = await exportTo([join(dir, 'sessions')]);
    assert.equal(new Set(spans.map((s) => s.traceId)).size, 1);
    const byName = (n: string) => spans.find((s) => s.name === n)!;
    const spawns = spans.filter((s) => s.name === 'execute_tool spawn_agent').sort((a, b) => Number(a.startNs - b.startNs));
    assert.equal(byName('invoke_agent Euclid').parentSpanId, spawns[0]!.spanId);
    assert.equal(byName('invoke_agent Noether').parentSpanId, spawns[1]!.spanId);
    assert.equal(byName('invoke_agent Noether').attributes['gen_ai.conversation.id'], ROOT);
    assert.equal(byName('invoke_agent Noether').attributes['codex.agent.depth'], 2);
    assert.deepEqual(shape(alone), shape(spans.filter((s) => s.attributes['gen_ai.agent.id'] === GRANDCHILD || String(s.attributes['rollout.source.path']).includes(GRANDCHILD))));
    const wait = spans.filter((s) => s.name === 'execute_tool wait').sort((a, b) => Number(a.startNs - b.startNs))[0]!;
    assert.deepEqual(wait.links.map((l) => l.spanId), [byName('invoke_agent Euclid').spanId], 'wait links to the agent it waited for');
  });
});

describe('sub-agents (multi-agent v2 messages by path)', () => {
  test('later messages to the agent are links from its thread span to the calls that sent them', async () => {
    const ts = (s: number) => new Date(Date.UTC(2026, 6, 22, 13, 0, s)).toISOString();
    const ROOT = '0198f500-0000-7000-8000-000000000001';
    const CHILD = '0198f500-0000-7000-8000-000000000002';
    const line = (at: number, type: string, payload: object) => JSON.stringify({ timestamp: ts(at), type, payload });
    const call = (at: number, name: string, args: object, id: string, output: string) => [
      line(at, 'response_item', { type: 'function_call', name, namespace: 'collaboration', arguments: JSON.stringify(args), call_id: id }),
      line(at + 1, 'response_item', { type: 'function_call_output', call_id: id, output }),
    ];
    const parent = [
      line(0, 'session_meta', { session_id: ROOT, id: ROOT, timestamp: ts(0), cwd: '/w', originator: 'codex_exec', cli_version: '0.150.0', source: 'exec' }),
      line(1, 'event_msg', { type: 'task_started', turn_id: '0198f500-0000-7000-8000-0000000000a1' }),
      ...call(2, 'spawn_agent', { task_name: 'tests', fork_turns: 'none', message: 'run the tests' }, 'call_spawn', '{"task_name":"/root/tests"}'),
      ...call(10, 'followup_task', { target: 'tests', message: 'and lint' }, 'call_follow', '{}'),
      ...call(12, 'wait_agent', { targets: ['/root/tests'] }, 'call_wait', '{}'),
      line(30, 'event_msg', { type: 'task_complete', turn_id: '0198f500-0000-7000-8000-0000000000a1' }),
    ];
    const child = [
      line(3, 'session_meta', { session_id: ROOT, id: CHILD, parent_thread_id: ROOT, timestamp: ts(3), cwd: '/w', originator: 'codex_exec', cli_version: '0.150.0', agent_path: '/root/tests', source: { subagent: { thread_spawn: { parent_thread_id: ROOT, depth: 1, agent_path: '/root/tests', agent_nickname: null, agent_role: null } } } }),
      line(4, 'event_msg', { type: 'task_started', turn_id: '0198f500-0000-7000-8000-0000000000b1' }),
      line(9, 'event_msg', { type: 'task_complete', turn_id: '0198f500-0000-7000-8000-0000000000b1' }),
    ];
    const day = join(mkdtempSync(join(tmpdir(), 'rollout-otel-v2-')), 'sessions', '2026', '07', '22');
    mkdirSync(day, { recursive: true });
    writeFileSync(join(day, `rollout-2026-07-22T13-00-00-${ROOT}.jsonl`), `${parent.join('\n')}\n`);
    writeFileSync(join(day, `rollout-2026-07-22T13-00-03-${CHILD}.jsonl`), `${child.join('\n')}\n`);
    const spans = await exportTo([day]);
    const byName = (n: string) => spans.find((s) => s.name === n)!;
    const sub = byName('invoke_agent /root/tests');
    assert.equal(sub.parentSpanId, byName('execute_tool spawn_agent').spanId);
    assert.deepEqual(sub.links.map((l) => l.spanId).sort(), [byName('execute_tool followup_task').spanId, byName('execute_tool wait_agent').spanId].sort());
    assert.ok(sub.links.every((l) => l.traceId === sub.traceId));
  });
});
