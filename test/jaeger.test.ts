import assert from 'node:assert/strict';
import { describe, test } from 'vitest';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixture, runCli } from './support/cli.ts';
import { getTrace, searchTraces, useJaeger, waitForTrace, type JaegerHandle, type V1Trace } from './support/jaeger.ts';

// Real sample sessions, and a real sub-agent tree, exported by the CLI into a real Jaeger.

const SESSIONS = ['soulpass-0.122.0-tui-compaction-aborts.jsonl', 'edgerunner-0.144.1-tui-codemode-abort.jsonl', 'acidicsoil-codex-session-view__rollout-2025-11-17T15-30-28-019a93b9-f380-7600-98ff-940e6b99603c.jsonl'];
const PARENT = 'rollout-2026-09-28T13-01-29-01a0e81b-2a8b-7240-b94c-ad2ada7813da.jsonl';
const CHILD = 'rollout-2026-09-28T13-01-37-01a0e81b-4af7-7330-a113-bad47ba77c3e.jsonl';

interface Exported {
  traceId: string;
  spans: number;
  path: string;
}

function parseStdout(stdout: string): Exported[] {
  return stdout.trim().split('\n').map((l) => {
    const [traceId, count, , path] = l.split(/\s+/);
    return { traceId: traceId!, spans: Number(count), path: path! };
  });
}

const tag = (span: V1Trace['spans'][number], key: string) => span.tags.find((t) => t.key === key)?.value;

function assertWhole(trace: V1Trace, expected: number, service: string) {
  assert.equal(trace.spans.length, expected, 'every exported span is stored');
  const ids = new Set(trace.spans.map((s) => s.spanID));
  assert.equal(ids.size, trace.spans.length, 'no duplicate span ids');
  const roots = trace.spans.filter((s) => !s.references.some((r) => r.refType === 'CHILD_OF'));
  assert.equal(roots.length, 1, 'one root');
  for (const s of trace.spans) {
    for (const r of s.references.filter((x) => x.refType === 'CHILD_OF')) assert.ok(ids.has(r.spanID), `${s.operationName}: parent resolved`);
    assert.equal(s.warnings, null, `${s.operationName}: no Jaeger warnings (${s.warnings?.join('; ')})`);
    assert.ok(s.duration > 0, `${s.operationName}: positive duration`);
    assert.equal(trace.processes[s.processID]?.serviceName, service);
    assert.ok(tag(s, 'rollout.source.line'), 'source line tag');
  }
  assert.equal(trace.warnings, null);
  const chat = trace.spans.find((s) => s.operationName.startsWith('chat '));
  if (chat) {
    assert.equal(tag(chat, 'gen_ai.operation.name'), 'chat');
    assert.equal(typeof tag(chat, 'gen_ai.usage.input_tokens'), 'number');
    assert.equal(tag(chat, 'span.kind'), 'client');
  }
}

describe('a real Jaeger', () => {
  let jaeger: JaegerHandle | undefined;
  let skip: string | undefined;
  useJaeger((j, why) => {
    jaeger = j;
    skip = why;
  });

  test('real sessions arrive whole, with resolved parents and no warnings; a second export changes nothing', async (context) => {
    if (!jaeger) return context.skip(skip);
    const env = { OTEL_EXPORTER_OTLP_ENDPOINT: jaeger.otlpEndpoint, OTEL_SERVICE_NAME: 'codex-e2e' };
    const run = await runCli(['export', ...SESSIONS.map(fixture)], env);
    assert.equal(run.code, 0, run.stderr);
    const exported = parseStdout(run.stdout);
    assert.equal(exported.length, SESSIONS.length);
    const first = new Map<string, V1Trace>();
    for (const e of exported) {
      const trace = await waitForTrace(jaeger.queryUrl, e.traceId, e.spans);
      assertWhole(trace, e.spans, 'codex-e2e');
      first.set(e.traceId, trace);
    }

    const again = await runCli(['export', '--quiet', ...SESSIONS.map(fixture)], env);
    assert.equal(again.code, 0, again.stderr);
    await new Promise((r) => setTimeout(r, 1500));
    for (const e of exported) {
      const trace = await getTrace(jaeger.queryUrl, e.traceId);
      const view = (t: V1Trace | undefined) => t?.spans.map((s) => `${s.spanID} ${s.operationName} ${s.startTime} ${s.duration} ${s.references.map((r) => r.spanID)}`).sort();
      assert.deepEqual(view(trace), view(first.get(e.traceId)), 're-export leaves Jaeger’s view unchanged');
    }

    // historical sessions are findable with an explicit time window, and the UI route answers
    const soulpass = exported[0]!;
    const found = await searchTraces(jaeger.queryUrl, 'codex-e2e', new Date('2026-04-21T00:00:00Z'), new Date('2026-04-22T00:00:00Z'));
    assert.ok(found.some((rs) => rs.scopeSpans.some((ss) => ss.spans.some((s) => s.traceId === soulpass.traceId))));
    const ui = await fetch(`${jaeger.queryUrl}/trace/${soulpass.traceId}`);
    assert.equal(ui.status, 200);
  });

  test('over OTLP/gRPC, with OTEL_RESOURCE_ATTRIBUTES: the same whole trace, the attributes on its process', async (context) => {
    if (!jaeger) return context.skip(skip);
    const env = { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_ENDPOINT: jaeger.otlpGrpcEndpoint, OTEL_SERVICE_NAME: 'codex-grpc', OTEL_RESOURCE_ATTRIBUTES: 'team=infra,host.owner=ana' };
    const run = await runCli(['export', fixture('raze-0.114.0-cli-exec-command.jsonl')], env);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, new RegExp(`delivered \\d+ spans to ${jaeger.otlpGrpcEndpoint}`));
    const [e] = parseStdout(run.stdout);
    const trace = await waitForTrace(jaeger.queryUrl, e!.traceId, e!.spans);
    assertWhole(trace, e!.spans, 'codex-grpc');
    for (const p of Object.values(trace.processes)) {
      const tags = Object.fromEntries(p.tags.map((t) => [t.key, t.value]));
      assert.equal(tags['team'], 'infra');
      assert.equal(tags['host.owner'], 'ana');
    }
  });

  test('a parent and its sub-agent form one trace with every parent resolved', async (context) => {
    if (!jaeger) return context.skip(skip);
    const home = mkdtempSync(join(tmpdir(), 'rollout-otel-jaeger-'));
    const day = join(home, 'sessions', '2026', '09', '28');
    mkdirSync(day, { recursive: true });
    copyFileSync(fixture(`doctrine-skills__codex-0.156.1-subagent-parent-excerpt__${PARENT}`), join(day, PARENT));
    copyFileSync(fixture(`doctrine-skills__codex-0.156.1-subagent-child-excerpt__${CHILD}`), join(day, CHILD));
    // child first, in its own run: the trace must still come together
    const env = { OTEL_EXPORTER_OTLP_ENDPOINT: jaeger.otlpEndpoint, OTEL_SERVICE_NAME: 'codex-tree', CODEX_HOME: home };
    const child = await runCli(['export', join(day, CHILD)], env);
    const parent = await runCli(['export', join(day, PARENT)], env);
    assert.equal(child.code, 0, child.stderr);
    assert.equal(parent.code, 0, parent.stderr);
    const [c] = parseStdout(child.stdout);
    const [p] = parseStdout(parent.stdout);
    assert.equal(c!.traceId, p!.traceId);
    const trace = await waitForTrace(jaeger.queryUrl, p!.traceId, c!.spans + p!.spans);
    assertWhole(trace, c!.spans + p!.spans, 'codex-tree');
    const spawn = trace.spans.find((s) => s.operationName === 'execute_tool spawn_agent')!;
    const sub = trace.spans.find((s) => s.operationName === 'invoke_agent Boyle')!;
    assert.deepEqual(sub.references.map((r) => r.spanID), [spawn.spanID]);
    assert.ok(readFileSync(join(day, CHILD), 'utf8').length > 0, 'input files are left as they were');
  });
});
