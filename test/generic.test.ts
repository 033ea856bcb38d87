import assert from 'node:assert/strict';
import { describe, test } from 'vitest';
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixture, runCli } from './support/cli.ts';
import { startReceiver, type ReceivedSpan } from './support/otlp-receiver.ts';

const ms = (iso: string) => BigInt(Date.parse(iso)) * 1_000_000n;
const at = (time: string) => ms(`2026-10-02T${time}Z`);

async function exportTo(args: string[], protocol = 'http/protobuf'): Promise<{ spans: ReceivedSpan[]; code: number; stderr: string; stdout: string }> {
  const r = await startReceiver();
  try {
    const run = await runCli(['export', ...args], { OTEL_EXPORTER_OTLP_ENDPOINT: r.url, OTEL_EXPORTER_OTLP_PROTOCOL: protocol });
    return { spans: r.spans(), ...run };
  } finally {
    await r.close();
  }
}

// a root span's name ends with the session's title
const byName = (spans: ReceivedSpan[], name: string) => spans.filter((s) => s.name === name || s.name.startsWith(`${name} · `));

describe('generic append-only rollouts ({"type","seq","item"})', () => {
  test('the session is one trace: thread, a turn per user message, chat per model response, tool per call_id', async () => {
    for (const protocol of ['http/protobuf', 'http/json']) {
      const { spans, code, stderr } = await exportTo([fixture('generic/agent-run.jsonl')], protocol);
      assert.equal(code, 4, stderr);
      assert.match(stderr, /agent-run\.jsonl:15: mystery_event: unknown event type/);
      assert.equal(new Set(spans.map((s) => s.traceId)).size, 1);
      assert.equal(spans.length, 10);

      const [thread] = byName(spans, 'invoke_agent fixbot');
      assert.ok(thread);
      assert.equal(thread.parentSpanId, '');
      assert.equal(thread.attributes['gen_ai.agent.id'], 'run-7f3a');
      assert.equal(thread.attributes['gen_ai.conversation.id'], 'run-7f3a');
      assert.equal(thread.resource['service.name'], 'fixbot');
      assert.equal(thread.resource['service.version'], '0.4.2');
      assert.equal(thread.startNs, at('09:00:00.000'));

      const turns = byName(spans, 'handle_conversation_turn fixbot').sort((a, b) => Number(a.startNs - b.startNs));
      assert.equal(turns.length, 2);
      assert.ok(turns.every((t) => t.parentSpanId === thread.spanId));
      assert.equal(turns[0]!.startNs, at('09:00:01.000'));
      assert.equal(turns[1]!.startNs, at('09:01:00.000'));
      assert.equal(turns[0]!.attributes['gen_ai.usage.input_tokens'], 1200 + 1500 + 1800);
      assert.equal(turns[0]!.attributes['gen_ai.usage.output_tokens'], 40 + 120 + 30);
      assert.equal(turns[0]!.status.code, 0);
      // An error outside any tool call fails its turn and is recorded as an exception event; its
      // message is free text, which leaves only on request: by default the status says its class.
      assert.equal(turns[1]!.status.code, 2);
      assert.equal(turns[1]!.status.message, '429');
      assert.equal(turns[1]!.attributes['error.type'], '429');
      const exception = turns[1]!.events.find((e) => e.name === 'exception');
      assert.equal(exception?.attributes['exception.type'], '429');
      assert.equal(exception?.attributes['exception.message'], undefined);
      assert.equal(exception?.timeNs, at('09:01:04.000'));

      const chats = spans.filter((s) => s.name === 'chat gpt-5.1').sort((a, b) => Number(a.startNs - b.startNs));
      assert.deepEqual(chats.map((c) => c.attributes['gen_ai.usage.input_tokens']), [1200, 1500, 1800, 2000]);
      assert.deepEqual(chats.map((c) => c.attributes['gen_ai.usage.cache_read.input_tokens']), [1000, 0, 0, 0]);
      assert.deepEqual(chats.map((c) => c.attributes['gen_ai.usage.reasoning.output_tokens']), [0, 80, 0, 0]);
      assert.deepEqual(chats.map((c) => c.attributes['gen_ai.provider.name']), ['openai', 'openai', 'openai', 'openai']);
      // A model response runs from the input that prompted it to its last output item.
      assert.equal(chats[0]!.startNs, at('09:00:01.000'));
      assert.equal(chats[0]!.endNs, at('09:00:03.600'));
      assert.equal(chats[1]!.startNs, at('09:00:09.600'));
      assert.equal(chats[1]!.endNs, at('09:00:12.150'));
      assert.equal(chats[0]!.parentSpanId, turns[0]!.spanId);
      assert.equal(chats[3]!.parentSpanId, turns[1]!.spanId);

      const shell = byName(spans, 'execute_tool shell')[0]!;
      assert.equal(shell.attributes['gen_ai.tool.call.id'], 'call_1');
      assert.equal(shell.attributes['process.exit.code'], 1);
      assert.equal(shell.status.code, 2);
      assert.equal(shell.startNs, at('09:00:03.600'));
      assert.equal(shell.endNs, at('09:00:09.600'));
      assert.equal(shell.attributes['rollout.source.line'], 4);
      const patch = byName(spans, 'execute_tool apply_patch')[0]!;
      assert.equal(patch.status.code, 2);
      // a tool's own kind of error outside the documented set is _OTHER, its kind said as a word; the text it recorded is content (off by default)
      assert.equal(patch.status.message, 'PatchError');
      assert.equal(patch.attributes['error.type'], '_OTHER');
      assert.equal(patch.endNs, at('09:00:12.900'));
      // Lines appended out of order are read in `seq` order: the result pairs with its call.
      const read = byName(spans, 'execute_tool read_file')[0]!;
      assert.equal(read.status.code, 0);
      assert.equal(read.attributes['process.exit.code'], 0);
      assert.equal(read.startNs, at('09:00:12.150'));
      assert.equal(read.endNs, at('09:00:12.400'));
      assert.ok(spans.every((s) => typeof s.attributes['rollout.source.path'] === 'string'));
      assert.ok(!spans.some((s) => 'gen_ai.tool.call.arguments' in s.attributes), 'no content by default');
    }
  });

  test('lines without times are laid out in order and marked as inferred', async () => {
    const { spans, code, stderr } = await exportTo([fixture('generic/untimed.jsonl')]);
    assert.equal(code, 0, stderr);
    assert.deepEqual(spans.map((s) => s.name).sort(), ['chat', 'chat', 'execute_tool lookup', 'handle_conversation_turn helper', 'invoke_agent helper · (times inferred)']);
    assert.ok(spans.every((s) => s.attributes['rollout.timing'] === 'inferred'));
    assert.equal(byName(spans, 'invoke_agent helper')[0]!.attributes['gen_ai.agent.id'], 's-untimed');
    assert.ok(spans.every((s) => s.endNs > s.startNs));
  });

  test('a log that names no session is the file\'s session, read like any other', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rollout-otel-generic-'));
    const file = join(dir, 'agent-log.jsonl');
    writeFileSync(file, [
      '{"type":"user_message","seq":1,"timestamp":"2026-10-02T10:00:00Z","item":{"content":"hi"}}',
      '{"type":"assistant_message","seq":2,"timestamp":"2026-10-02T10:00:02Z","item":{"content":"hello","usage":{"input_tokens":10,"output_tokens":3}}}',
      '',
    ].join('\n'));
    const { spans, code, stderr } = await exportTo([file]);
    assert.equal(code, 0, stderr);
    assert.deepEqual(spans.map((s) => s.name).sort(), ['chat', 'handle_conversation_turn codex', 'invoke_agent codex']);
    assert.equal(byName(spans, 'invoke_agent codex')[0]!.attributes['gen_ai.agent.id'], 'agent-log');
    assert.equal(byName(spans, 'chat')[0]!.attributes['gen_ai.usage.input_tokens'], 10);
  });

  test('a directory mixing Codex and generic rollouts and other JSONL: each recognised by content', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rollout-otel-mixed-'));
    mkdirSync(join(dir, 'a'));
    copyFileSync(fixture('generic/agent-run.jsonl'), join(dir, 'a', 'agent-run.jsonl'));
    copyFileSync(fixture('raze-0.114.0-cli-exec-command.jsonl'), join(dir, 'rollout-2026-01-01T00-00-00-019a0000-0000-7000-8000-000000000001.jsonl'));
    // another tool's JSONL, broken line and all: skipped, and its lines are none of our business
    writeFileSync(join(dir, 'a', 'notes.jsonl'), '{"hello":"world"}\n{"broken\n');
    const { spans, code, stderr, stdout } = await exportTo([dir]);
    assert.equal(code, 4, stderr);
    assert.doesNotMatch(stderr, /not valid JSON/);
    assert.equal(stdout.trim().split('\n').length, 2, stdout);
    assert.match(stderr, /2 sessions read/);
    assert.match(stderr, /1 other \.jsonl file skipped \(not a rollout\)/);
    assert.equal(new Set(spans.map((s) => s.traceId)).size, 2);
    assert.ok(spans.some((s) => s.name.startsWith('invoke_agent codex')));
    assert.ok(spans.some((s) => s.name.startsWith('invoke_agent fixbot')));
  });

  test('--format overrides detection; a file given by name that is no rollout is an input error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rollout-otel-format-'));
    const notes = join(dir, 'notes.jsonl');
    writeFileSync(notes, '{"hello":"world"}\n');
    const plain = await exportTo([notes]);
    assert.equal(plain.code, 3);
    assert.match(plain.stderr, /notes\.jsonl: not a rollout: no line in a known format/);
    const forced = await exportTo(['--format', 'codex', fixture('generic/agent-run.jsonl')]);
    assert.equal(forced.code, 3);
    assert.match(forced.stderr, /no session start found: not a codex rollout/);
    assert.equal(forced.spans.length, 0);
    const bundle = await exportTo(['--format', 'bundle', fixture('bundles/trace-2b3c4d5e-6f70-4812-9a3b-4c5d6e7f8091-019e2000-0000-7000-8000-00000000a002/manifest.json')]);
    assert.equal(bundle.code, 0, bundle.stderr);
    assert.equal(bundle.spans.length, 11);
    const bad = await runCli(['export', '--format', 'yaml', notes]);
    assert.equal(bad.code, 2);
  });
});
