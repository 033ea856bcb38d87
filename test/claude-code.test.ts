import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'vitest';
import { readClaudeTranscript } from './support/claude-code-reading.ts';
import { fixture, runCli } from './support/cli.ts';
import { startReceiver, type ReceivedSpan } from './support/otlp-receiver.ts';

// Every real transcript exported over OTLP and checked span by span against an independent reading.

const FIXTURES = readdirSync(fixture('claude-code')).filter((f) => f.endsWith('.jsonl')).sort();
const NO_HOMES = { CODEX_HOME: join(tmpdir(), 'rollout-otel-no-home'), CLAUDE_CONFIG_DIR: join(tmpdir(), 'rollout-otel-no-home') };

async function exportFile(path: string, protocol = 'http/protobuf'): Promise<{ spans: ReceivedSpan[]; code: number; stderr: string }> {
  const r = await startReceiver();
  try {
    const run = await runCli(['export', path], { OTEL_EXPORTER_OTLP_ENDPOINT: r.url, OTEL_EXPORTER_OTLP_PROTOCOL: protocol, ...NO_HOMES });
    return { spans: r.spans(), code: run.code, stderr: run.stderr };
  } finally {
    await r.close();
  }
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const num = (v: unknown) => Number(v ?? 0);

describe('Claude Code transcripts (real files) agree with an independent reading', () => {
  for (const name of FIXTURES) {
    test(name, async () => {
      const path = fixture(`claude-code/${name}`);
      const reading = readClaudeTranscript(path);
      const { spans, code, stderr } = await exportFile(path);
      assert.equal(code, 0, stderr);
      assert.doesNotMatch(stderr, /warning|unknown/i, 'every line type of these versions is known');
      assert.equal(new Set(spans.map((s) => s.traceId)).size, 1);
      const byId = new Map(spans.map((s) => [s.spanId, s]));
      // Claude Code's own facts are under its namespace, never under Codex's
      const keys = spans.flatMap((s) => [...Object.keys(s.attributes), ...s.events.flatMap((e) => Object.keys(e.attributes))]);
      assert.deepEqual(keys.filter((k) => k.startsWith('codex.')), []);
      assert.ok(keys.includes('claude_code.turn.status') && keys.includes('claude_code.cli_version'));

      const [root, ...others] = spans.filter((s) => s.parentSpanId === '');
      assert.equal(others.length, 0, 'one root');
      assert.match(root!.name, /^invoke_agent claude-code( · .+)?$/);
      assert.equal(root!.attributes['gen_ai.agent.id'], reading.sessionId);
      assert.equal(root!.attributes['gen_ai.conversation.id'], reading.sessionId);
      assert.equal(root!.resource['service.name'], 'claude-code');
      assert.equal(root!.resource['service.version'], reading.version);

      // one chat span per message.id, its usage that response's (input = input + cache read + cache creation)
      const chats = spans.filter((s) => s.attributes['gen_ai.operation.name'] === 'chat');
      assert.deepEqual(chats.map((c) => c.attributes['gen_ai.response.id']).sort(), [...reading.responses.keys()].sort());
      for (const c of chats) {
        const r = reading.responses.get(c.attributes['gen_ai.response.id'] as string)!;
        const id = c.attributes['gen_ai.response.id'] as string;
        assert.equal(c.name, `chat ${r.model}`);
        assert.equal(c.kind, 3);
        assert.equal(c.attributes['gen_ai.usage.input_tokens'], r.input, id);
        assert.equal(c.attributes['gen_ai.usage.output_tokens'], r.output, id);
        assert.equal(c.attributes['gen_ai.usage.cache_read.input_tokens'], r.cacheRead, id);
        assert.equal(c.attributes['gen_ai.usage.cache_write.input_tokens'], r.cacheWrite, id);
        assert.equal(c.attributes['claude_code.inference.upstream_request_id'], r.requestId);
        assert.equal(c.attributes['gen_ai.provider.name'], id.startsWith('msg_bdrk_') ? 'aws.bedrock' : 'anthropic');
        assert.equal(byId.get(c.parentSpanId)?.attributes['gen_ai.operation.name'], 'handle_conversation_turn');
      }

      // turns: one per typed prompt or task notification; their usage is the sum of their calls
      const turns = spans.filter((s) => s.attributes['gen_ai.operation.name'] === 'handle_conversation_turn');
      assert.equal(turns.filter((t) => t.attributes['claude_code.turn.id'] !== undefined).length, reading.prompts);
      for (const t of turns) {
        const own = chats.filter((c) => c.parentSpanId === t.spanId);
        assert.equal(num(t.attributes['gen_ai.usage.input_tokens']), sum(own.map((c) => num(c.attributes['gen_ai.usage.input_tokens']))));
        assert.equal(num(t.attributes['gen_ai.usage.output_tokens']), sum(own.map((c) => num(c.attributes['gen_ai.usage.output_tokens']))));
      }
      assert.equal(sum(turns.map((t) => num(t.attributes['gen_ai.usage.input_tokens']))), sum([...reading.responses.values()].map((r) => r.input)));
      assert.equal(sum(turns.map((t) => num(t.attributes['gen_ai.usage.output_tokens']))), sum([...reading.responses.values()].map((r) => r.output)));
      assert.equal(turns.filter((t) => t.attributes['claude_code.turn.status'] === 'aborted').length, reading.interrupts);
      const failed = turns.filter((t) => t.attributes['claude_code.turn.status'] === 'failed');
      assert.equal(failed.length, reading.syntheticErrors.length);
      for (const t of failed) assert.equal(t.status.code, 2);

      // every tool_use is one execute_tool span, paired with its result
      const tools = spans.filter((s) => s.attributes['gen_ai.operation.name'] === 'execute_tool');
      assert.deepEqual(tools.map((t) => t.attributes['gen_ai.tool.call.id']).sort(), [...reading.toolUses.keys()].sort());
      for (const t of tools) {
        const id = t.attributes['gen_ai.tool.call.id'] as string;
        const name = reading.toolUses.get(id)!;
        const result = reading.toolResults.get(id);
        const mcp = /^mcp__(.+?)__(.+)$/.exec(name);
        assert.equal(t.name, `execute_tool ${mcp ? mcp[2] : name}`);
        if (mcp) assert.equal(t.attributes['claude_code.mcp.server'], mcp[1]);
        assert.equal(t.attributes['claude_code.tool.incomplete'], result ? undefined : true, id);
        assert.equal(t.status.code, result?.isError && !result.declined ? 2 : 0, id);
        if (result?.declined) assert.equal(t.attributes['claude_code.tool.runtime_status'], 'declined');
      }

      // compactions, API retries (events on the call that followed, else on the turn)
      assert.equal(spans.filter((s) => s.name === 'compaction').length, reading.compactions + reading.microcompactions);
      assert.equal(spans.filter((s) => s.attributes['claude_code.compaction.micro'] === true).length, reading.microcompactions);
      assert.equal(sum(spans.map((s) => s.events.filter((e) => e.name === 'api_retry').length)), reading.apiErrors);

      // times: every span ends after it starts and lies inside its parent
      for (const s of spans) {
        assert.ok(s.endNs > s.startNs, s.name);
        const p = byId.get(s.parentSpanId);
        if (p) assert.ok(s.startNs >= p.startNs && s.endNs <= p.endNs, `${s.name} inside ${p.name}`);
      }
    });
  }
});

describe('Claude Code: what the real files show', () => {
  test('API retries are events on the call they delayed; a final API error fails its turn with the error type', async () => {
    const { spans } = await exportFile(fixture('claude-code/entire-cli-2.1.5-api-error-retries-compaction.jsonl'), 'http/json');
    const first = spans.find((s) => s.attributes['rollout.source.line'] === 8 && s.name.startsWith('chat'))!;
    assert.deepEqual(first.events.map((e) => [e.name, e.attributes['http.response.status_code'], e.attributes['claude_code.retry.attempt'], e.attributes['error.type']]), [
      ['api_retry', 529, 1, 'overloaded_error'], ['api_retry', 529, 2, 'overloaded_error'], ['api_retry', 529, 3, 'overloaded_error'],
    ]);
    assert.equal(first.events[0]!.timeNs, BigInt(Date.parse('2026-01-14T10:41:23.622Z')) * 1_000_000n);
    const failed = spans.find((s) => s.attributes['claude_code.turn.status'] === 'failed')!;
    assert.equal(failed.attributes['error.type'], 'overloaded_error');
    // the API's own text is content: by default the status says the error type
    assert.equal(failed.status.message, 'overloaded_error');
    assert.equal(failed.events.filter((e) => e.name === 'api_retry').length, 10, 'ten retries, then the synthetic error');
    assert.equal(spans.filter((s) => s.parentSpanId === failed.spanId).length, 0, '<synthetic> is not a model call');
  });

  test('a response written over several lines is one call with the largest output count (2.0.76 lines carry the start snapshot)', async () => {
    const path = fixture('claude-code/entire-cli-2.0.76-task-subagents-summary.jsonl');
    const { spans } = await exportFile(path);
    // line 25 opens a response of six lines: thinking, text, four Task calls
    const call = spans.find((s) => s.attributes['rollout.source.line'] === 25 && s.name.startsWith('chat'))!;
    const tasks = spans.filter((s) => s.name === 'execute_tool Task');
    assert.equal(tasks.length, 6);
    assert.equal(call.attributes['gen_ai.usage.output_tokens'], readClaudeTranscript(path).responses.get(call.attributes['gen_ai.response.id'] as string)!.output);
    assert.ok(tasks.every((t) => t.startNs >= call.startNs));
  });

  test('compactions carry what was recorded: trigger, tokens before and after, a duration; micro-compactions what they cleared', async () => {
    const { spans } = await exportFile(fixture('claude-code/posthog-impact-dashboard-2.1.112-compaction-tasks.jsonl'));
    const [c] = spans.filter((s) => s.name === 'compaction');
    assert.equal(c!.attributes['claude_code.compaction.trigger'], 'auto');
    assert.equal(c!.attributes['claude_code.compaction.tokens_before'], 167766);
    assert.equal(c!.attributes['claude_code.compaction.tokens_after'], 6977);
    assert.equal(c!.endNs - c!.startNs, 122374n * 1_000_000n);
    const micro = (await exportFile(fixture('claude-code/entire-cli-2.1.14-sonnet-microcompact-compact.jsonl'))).spans.find((s) => s.attributes['claude_code.compaction.micro'] === true)!;
    assert.equal(micro.attributes['claude_code.compaction.tokens_saved'], 21091);
    assert.equal(micro.attributes['claude_code.compaction.cleared_tool_results'], 42);
    const next = (await exportFile(fixture('claude-code/entire-cli-2.1.14-sonnet-microcompact-compact.jsonl'))).spans.filter((s) => s.attributes['gen_ai.conversation.compacted'] === true);
    assert.equal(next.length, 2, 'the first call after each compaction');
  });

  test('a turn ends at its turn_duration even when the response\'s last line is written after it', async () => {
    const { spans } = await exportFile(fixture('claude-code/posthog-impact-dashboard-2.1.112-compaction-tasks.jsonl'));
    // line 1300 (turn_duration) precedes line 1301, the last line of response AmU7yj
    const turn = spans.find((s) => s.attributes['claude_code.turn.index'] !== undefined && s.attributes['rollout.source.line'] === 1298)!;
    assert.equal(turn.attributes['claude_code.turn.status'], 'completed');
    const calls = spans.filter((s) => s.parentSpanId === turn.spanId && s.name.startsWith('chat'));
    assert.equal(calls.length, 1);
    assert.equal(calls[0]!.endNs, BigInt(Date.parse('2026-04-26T23:02:19.012Z')) * 1_000_000n, 'its last line, written after the turn_duration line');
    assert.equal(turn.endNs, BigInt(Date.parse('2026-04-26T23:02:19.081Z')) * 1_000_000n);
  });

  test('Bedrock sessions: provider aws.bedrock, no request id', async () => {
    const { spans } = await exportFile(fixture('claude-code/bhavana-2.1.177-webfetch-skills.jsonl'));
    const chats = spans.filter((s) => s.name.startsWith('chat '));
    assert.ok(chats.length > 0 && chats.every((c) => c.attributes['gen_ai.provider.name'] === 'aws.bedrock' && c.attributes['claude_code.inference.upstream_request_id'] === undefined));
  });

  test('same file, same ids: live order does not matter, and both encodings agree', async () => {
    const path = fixture('claude-code/entire-cli-2.1.12-mcp-linear-progress.jsonl');
    const a = (await exportFile(path)).spans.map((s) => `${s.traceId}/${s.spanId}/${s.parentSpanId}`).sort();
    const b = (await exportFile(path, 'http/json')).spans.map((s) => `${s.traceId}/${s.spanId}/${s.parentSpanId}`).sort();
    assert.deepEqual(a, b);
  });
});
