import assert from 'node:assert/strict';
import { describe, test } from 'vitest';
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixture, runCli } from './support/cli.ts';
import { useJaeger, waitForTrace, type JaegerHandle, type V1Trace } from './support/jaeger.ts';

// Real Claude Code transcripts, and a session with a sub-agent's sidechain, exported into a real Jaeger.

const SESSION = '9667a07f-c677-4f9d-9b21-da366e5add6a';
const TASK_CALL = 'toolu_018RHx9LtLEctg8ziZ6uyS1X';

const tag = (span: V1Trace['spans'][number], key: string) => span.tags.find((t) => t.key === key)?.value;

function parseStdout(stdout: string): { traceId: string; spans: number; path: string }[] {
  return stdout.trim().split('\n').map((l) => {
    const [traceId, count, , path] = l.split(/\s+/);
    return { traceId: traceId!, spans: Number(count), path: path! };
  });
}

function assertWhole(trace: V1Trace, expected: number): void {
  assert.equal(trace.spans.length, expected, 'every exported span is stored');
  const ids = new Set(trace.spans.map((s) => s.spanID));
  assert.equal(ids.size, trace.spans.length, 'no duplicate span ids');
  assert.equal(trace.spans.filter((s) => !s.references.some((r) => r.refType === 'CHILD_OF')).length, 1, 'one root');
  for (const s of trace.spans) {
    for (const r of s.references.filter((x) => x.refType === 'CHILD_OF')) assert.ok(ids.has(r.spanID), `${s.operationName}: parent resolved`);
    assert.equal(s.warnings, null, `${s.operationName}: no Jaeger warnings (${s.warnings?.join('; ')})`);
    assert.equal(trace.processes[s.processID]?.serviceName, 'claude-code');
  }
  assert.equal(trace.warnings, null);
}

describe('a real Jaeger, Claude Code', () => {
  let jaeger: JaegerHandle | undefined;
  let skip: string | undefined;
  useJaeger((j, why) => {
    jaeger = j;
    skip = why;
  });

  test('a session with API retries and compactions arrives whole; retries are logs on the chat span', async (context) => {
    if (!jaeger) return context.skip(skip);
    const run = await runCli(['export', fixture('claude-code/entire-cli-2.1.5-api-error-retries-compaction.jsonl')], { OTEL_EXPORTER_OTLP_ENDPOINT: jaeger.otlpEndpoint });
    assert.equal(run.code, 0, run.stderr);
    const [e] = parseStdout(run.stdout);
    const trace = await waitForTrace(jaeger.queryUrl, e!.traceId, e!.spans);
    assertWhole(trace, e!.spans);
    const retried = trace.spans.find((s) => s.operationName.startsWith('chat ') && s.logs.length === 3)!;
    assert.equal(tag(retried, 'gen_ai.provider.name'), 'anthropic');
    assert.equal(retried.logs[0]!.fields.find((f) => f.key === 'http.response.status_code')?.value, 529);
    const failed = trace.spans.find((s) => tag(s, 'claude_code.turn.status') === 'failed')!;
    assert.equal(tag(failed, 'error.type'), 'overloaded_error');
    assert.equal(trace.spans.filter((s) => s.operationName === 'compaction').length, 2);
  });

  test('a sub-agent sidechain exported on its own lands under its Task call in the session trace', async (context) => {
    if (!jaeger) return context.skip(skip);
    const home = mkdtempSync(join(tmpdir(), 'rollout-otel-jaeger-claude-'));
    const project = join(home, 'projects', '-work');
    mkdirSync(join(project, SESSION, 'subagents'), { recursive: true });
    copyFileSync(fixture('claude-code/entire-cli-2.0.76-task-subagents-summary.jsonl'), join(project, `${SESSION}.jsonl`));
    const env = { isSidechain: true, agentId: 'a1f7b71', sessionId: SESSION, version: '2.0.76' };
    const child = join(project, SESSION, 'subagents', 'agent-a1f7b71.jsonl');
    writeFileSync(child, [
      { ...env, type: 'user', uuid: 'c1', parentUuid: null, timestamp: '2026-01-05T14:39:03.000Z', message: { role: 'user', content: 'Review.' } },
      { ...env, type: 'assistant', uuid: 'c2', parentUuid: 'c1', timestamp: '2026-01-05T14:39:50.000Z', requestId: 'req_c', message: { id: 'msg_c', model: 'claude-haiku-4-5', content: [{ type: 'text', text: 'Fine.' }], usage: { input_tokens: 9, output_tokens: 4 } } },
    ].map((l) => JSON.stringify(l)).join('\n') + '\n');
    const cfg = { OTEL_EXPORTER_OTLP_ENDPOINT: jaeger.otlpEndpoint, CLAUDE_CONFIG_DIR: home };
    const c = await runCli(['export', child], cfg);
    const p = await runCli(['export', join(project, `${SESSION}.jsonl`)], cfg);
    assert.equal(c.code, 0, c.stderr);
    assert.equal(p.code, 0, p.stderr);
    const [ce] = parseStdout(c.stdout);
    const [pe] = parseStdout(p.stdout);
    assert.equal(ce!.traceId, pe!.traceId);
    const trace = await waitForTrace(jaeger.queryUrl, pe!.traceId, ce!.spans + pe!.spans);
    assertWhole(trace, ce!.spans + pe!.spans);
    const task = trace.spans.find((s) => tag(s, 'gen_ai.tool.call.id') === TASK_CALL)!;
    const sub = trace.spans.find((s) => tag(s, 'gen_ai.agent.id') === 'a1f7b71' && s.operationName.startsWith('invoke_agent'))!;
    assert.deepEqual(sub.references.map((r) => r.spanID), [task.spanID]);
  });
});
