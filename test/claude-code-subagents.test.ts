import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'vitest';
import { fixture, runCli } from './support/cli.ts';
import { startReceiver, type ReceivedSpan } from './support/otlp-receiver.ts';

// Sub-agents: sidechain files (2.0 beside the session, 2.1 under <session>/subagents/) and the inline
// agent_progress lines of 2.1.12–2.1.81. The parent is the real 2.0.76 transcript with six Task
// calls; no real sidechain file was published, so the children here are written in the recorded shape.

const SESSION = '9667a07f-c677-4f9d-9b21-da366e5add6a';
const PARENT = 'entire-cli-2.0.76-task-subagents-summary.jsonl';
// Task call → agent, as the parent's results record them
const SPAWNS = { a1f7b71: 'toolu_018RHx9LtLEctg8ziZ6uyS1X', a2eaee4: 'toolu_01WQqCrPqjz9KDNWK4QnSVBk' } as const;

/** A sidechain transcript: a prompt, one response over two lines (a tool call), its result, a final answer. */
function sidechain(agentId: string, at: string, extra: Record<string, unknown> = {}): object[] {
  const t = (s: number) => new Date(Date.parse(at) + s * 1000).toISOString();
  const env = { isSidechain: true, agentId, sessionId: SESSION, version: '2.0.76', cwd: '/work', userType: 'external', ...extra };
  const usage = (out: number) => ({ input_tokens: 10, cache_read_input_tokens: 1000, cache_creation_input_tokens: 200, output_tokens: out });
  return [
    { ...env, type: 'user', uuid: `${agentId}-1`, parentUuid: null, timestamp: t(0), message: { role: 'user', content: 'Review the change.' } },
    { ...env, type: 'assistant', uuid: `${agentId}-2`, parentUuid: `${agentId}-1`, timestamp: t(2), requestId: `req_${agentId}_1`, message: { id: `msg_${agentId}_1`, model: 'claude-haiku-4-5', role: 'assistant', content: [{ type: 'text', text: 'Reading.' }], usage: usage(3), stop_reason: null } },
    { ...env, type: 'assistant', uuid: `${agentId}-3`, parentUuid: `${agentId}-2`, timestamp: t(3), requestId: `req_${agentId}_1`, message: { id: `msg_${agentId}_1`, model: 'claude-haiku-4-5', role: 'assistant', content: [{ type: 'tool_use', id: `toolu_${agentId}_read`, name: 'Read', input: { file_path: '/work/a.go' } }], usage: usage(40), stop_reason: 'tool_use' } },
    { ...env, type: 'user', uuid: `${agentId}-4`, parentUuid: `${agentId}-3`, timestamp: t(4), message: { role: 'user', content: [{ type: 'tool_result', tool_use_id: `toolu_${agentId}_read`, content: 'package a' }] }, toolUseResult: { type: 'text' } },
    { ...env, type: 'assistant', uuid: `${agentId}-5`, parentUuid: `${agentId}-4`, timestamp: t(9), requestId: `req_${agentId}_2`, message: { id: `msg_${agentId}_2`, model: 'claude-haiku-4-5', role: 'assistant', content: [{ type: 'text', text: 'Looks fine.' }], usage: usage(25), stop_reason: 'end_turn' } },
  ];
}

const jsonl = (lines: object[]) => lines.map((l) => JSON.stringify(l)).join('\n') + '\n';

/** A Claude home: the parent session, one 2.0-style sidechain beside it and one 2.1-style under subagents/. */
function claudeHome(withParent = true): { home: string; project: string; beside: string; nested: string } {
  const home = mkdtempSync(join(tmpdir(), 'rollout-otel-claude-'));
  const project = join(home, 'projects', '-Users-soph-Work-entire-devenv-cli');
  mkdirSync(join(project, SESSION, 'subagents'), { recursive: true });
  if (withParent) copyFileSync(fixture(`claude-code/${PARENT}`), join(project, `${SESSION}.jsonl`));
  const beside = join(project, 'agent-a1f7b71.jsonl');
  const nested = join(project, SESSION, 'subagents', 'agent-a2eaee4.jsonl');
  writeFileSync(beside, jsonl(sidechain('a1f7b71', '2026-01-05T14:39:03.000Z')));
  writeFileSync(nested, jsonl(sidechain('a2eaee4', '2026-01-05T14:39:00.000Z')));
  return { home, project, beside, nested };
}

async function exportTo(args: string[], env: Record<string, string>): Promise<ReceivedSpan[]> {
  const r = await startReceiver();
  try {
    const run = await runCli(['export', ...args], { OTEL_EXPORTER_OTLP_ENDPOINT: r.url, CODEX_HOME: join(tmpdir(), 'rollout-otel-no-home'), ...env });
    assert.equal(run.code, 0, run.stderr);
    return r.spans();
  } finally {
    await r.close();
  }
}

function checkChild(spans: ReceivedSpan[], agentId: keyof typeof SPAWNS): void {
  const child = spans.find((s) => s.name === 'invoke_agent claude-code' && s.attributes['gen_ai.agent.id'] === agentId);
  assert.ok(child, `sub-agent ${agentId} exported`);
  const spawn = spans.find((s) => s.attributes['gen_ai.tool.call.id'] === SPAWNS[agentId]);
  if (spawn) {
    assert.equal(child.parentSpanId, spawn.spanId, 'under the Task call that spawned it');
    assert.equal(child.traceId, spawn.traceId);
  }
  assert.equal(child.attributes['gen_ai.conversation.id'], SESSION);
  assert.equal(child.attributes['claude_code.parent_thread.id'], SESSION);
  assert.equal(child.attributes['gen_ai.invocation.is_nested'], true);
  const turns = spans.filter((s) => s.parentSpanId === child.spanId);
  assert.equal(turns.length, 1);
  const chats = spans.filter((s) => s.parentSpanId === turns[0]!.spanId && s.name.startsWith('chat'));
  assert.deepEqual(chats.map((c) => [c.attributes['gen_ai.usage.input_tokens'], c.attributes['gen_ai.usage.output_tokens']]).sort(), [[1210, 25], [1210, 40]]);
  assert.equal(turns[0]!.attributes['gen_ai.usage.output_tokens'], 65);
}

describe('Claude Code sub-agents', () => {
  test('exported together: each sidechain is a child invoke_agent under its Task call, in the session\'s trace', async () => {
    const { home } = claudeHome();
    const spans = await exportTo([join(home, 'projects')], { CLAUDE_CONFIG_DIR: join(tmpdir(), 'rollout-otel-no-home') });
    assert.equal(new Set(spans.map((s) => s.traceId)).size, 1);
    checkChild(spans, 'a1f7b71');
    checkChild(spans, 'a2eaee4');
  });

  test('exported apart (either layout): the parent is found in the project folder, the ids are the same', async () => {
    const { home, beside, nested, project } = claudeHome();
    const env = { CLAUDE_CONFIG_DIR: join(tmpdir(), 'rollout-otel-no-home') };
    const together = await exportTo([join(home, 'projects')], env);
    const parent = await exportTo([join(project, `${SESSION}.jsonl`)], env);
    const a = await exportTo([beside], env);
    const b = await exportTo([nested], env);
    const ids = (spans: ReceivedSpan[]) => spans.map((s) => `${s.traceId}/${s.spanId}/${s.parentSpanId}`).sort();
    assert.deepEqual(ids([...parent, ...a, ...b]), ids(together));
  });

  test('a sidechain whose parent is nowhere still joins the session trace, under no call, and says so', async () => {
    const { nested } = claudeHome(false);
    const spans = await exportTo([nested], { CLAUDE_CONFIG_DIR: join(tmpdir(), 'rollout-otel-no-home') });
    const child = spans.find((s) => s.name === 'invoke_agent claude-code')!;
    assert.match(String(child.attributes['claude_code.parent.link']), /not found/);
  });

  test('inline agent_progress lines rebuild a sub-agent in the parent\'s file, each message once; not when its own file exists', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rollout-otel-progress-'));
    const t = (s: number) => new Date(Date.parse('2026-02-01T10:00:00.000Z') + s * 1000).toISOString();
    const env = { isSidechain: false, sessionId: SESSION, version: '2.1.37', cwd: '/work', userType: 'external' };
    const child = sidechain('a9c0ffee', t(3), { sessionId: SESSION });
    const progress = (i: number, message: object) => ({
      ...env, type: 'progress', uuid: `p-${i}`, timestamp: t(3 + i), parentToolUseID: 'toolu_task', toolUseID: `agent_msg_${i}`,
      data: { type: 'agent_progress', agentId: 'a9c0ffee', prompt: 'Review the change.', message },
    });
    const parent = [
      { ...env, type: 'user', uuid: 'u1', parentUuid: null, timestamp: t(0), promptId: 'prompt-1', message: { role: 'user', content: 'review it' } },
      { ...env, type: 'assistant', uuid: 'a1', parentUuid: 'u1', timestamp: t(2), requestId: 'req_p1', message: { id: 'msg_p1', model: 'claude-opus-4-6', role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_task', name: 'Agent', input: { subagent_type: 'code-reviewer', prompt: 'Review the change.' } }], usage: { input_tokens: 5, output_tokens: 50 }, stop_reason: 'tool_use' } },
      ...child.map((m, i) => progress(i, m)),
      progress(9, child[2]!), // the same message again
      { ...env, type: 'user', uuid: 'u2', parentUuid: 'a1', timestamp: t(20), message: { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_task', content: [{ type: 'text', text: 'Looks fine.\nagentId: a9c0ffee (for resuming)' }] }] }, toolUseResult: { status: 'completed', agentId: 'a9c0ffee', totalDurationMs: 17000 } },
      { ...env, type: 'assistant', uuid: 'a2', parentUuid: 'u2', timestamp: t(22), requestId: 'req_p2', message: { id: 'msg_p2', model: 'claude-opus-4-6', role: 'assistant', content: [{ type: 'text', text: 'Done.' }], usage: { input_tokens: 7, output_tokens: 9 }, stop_reason: 'end_turn' } },
      { ...env, type: 'system', subtype: 'turn_duration', uuid: 's1', parentUuid: 'a2', timestamp: t(22.1), durationMs: 22100 },
    ];
    const file = join(dir, `${SESSION}.jsonl`);
    writeFileSync(file, jsonl(parent));
    const noHome = { CLAUDE_CONFIG_DIR: join(tmpdir(), 'rollout-otel-no-home') };
    const spans = await exportTo([file], noHome);
    assert.equal(new Set(spans.map((s) => s.traceId)).size, 1);
    const agent = spans.find((s) => s.attributes['gen_ai.agent.id'] === 'a9c0ffee' && s.name.startsWith('invoke_agent'))!;
    const task = spans.find((s) => s.name === 'execute_tool Agent')!;
    assert.equal(agent.parentSpanId, task.spanId);
    assert.equal(agent.attributes['claude_code.agent.role'], 'code-reviewer');
    const chats = spans.filter((s) => s.name === 'chat claude-haiku-4-5');
    assert.deepEqual(chats.map((c) => c.attributes['gen_ai.usage.output_tokens']).sort(), [25, 40], 'each response once, never summed');
    assert.equal(spans.filter((s) => s.name === 'execute_tool Read').length, 1);
    const root = spans.find((s) => s.parentSpanId === '')!;
    const parentTurn = spans.find((s) => s.parentSpanId === root.spanId)!;
    assert.equal(parentTurn.attributes['gen_ai.usage.output_tokens'], 59, "the parent's usage is its own");
    // list prices the sub-agent's calls in this file too, each as its chat span is
    const listed = JSON.parse((await runCli(['list', '--json', file], noHome)).stdout);
    const chatCost = spans.filter((s) => s.name.startsWith('chat ')).map((s) => Number(s.attributes['gen_ai.usage.cost.amount']));
    assert.equal(listed.cost.pricedCalls, 4);
    assert.ok(Math.abs(listed.cost.amount - chatCost.reduce((a, b) => a + b, 0)) <= 2e-6, `${listed.cost.amount} vs ${chatCost}`);

    // With the sub-agent's own transcript beside the session, the progress lines are not read again.
    mkdirSync(join(dir, SESSION, 'subagents'), { recursive: true });
    writeFileSync(join(dir, SESSION, 'subagents', 'agent-a9c0ffee.jsonl'), jsonl(child));
    const both = await exportTo([dir], noHome);
    assert.equal(both.filter((s) => s.name === 'chat claude-haiku-4-5').length, 2);
    assert.equal(both.filter((s) => s.attributes['gen_ai.agent.id'] === 'a9c0ffee' && s.name.startsWith('invoke_agent')).length, 1);
    const fromFile = both.find((s) => s.attributes['gen_ai.agent.id'] === 'a9c0ffee' && s.name.startsWith('invoke_agent'))!;
    assert.equal(fromFile.parentSpanId, both.find((s) => s.name === 'execute_tool Agent')!.spanId);
    assert.equal(fromFile.spanId, agent.spanId, 'the same sub-agent has the same span whichever way it was recorded');
  });
});
