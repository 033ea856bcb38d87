import assert from 'node:assert/strict';
import { beforeAll, describe, test } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './support/cli.ts';
import { startReceiver, type ReceivedSpan } from './support/otlp-receiver.ts';

// Small files in each format generation of codex-rollout-format.md, exported through the CLI.

const ns = (iso: string) => BigInt(Date.parse(iso)) * 1000000n;
const line = (ts: string, type: string, payload: object, extra: object = {}) => JSON.stringify({ timestamp: ts, ...extra, type, payload });
const ev = (ts: string, payload: object, extra: object = {}) => line(ts, 'event_msg', payload, extra);
const item = (ts: string, payload: object, extra: object = {}) => line(ts, 'response_item', payload, extra);
const usage = (input: number, output: number, total = input + output) => ({ input_tokens: input, cached_input_tokens: 0, output_tokens: output, reasoning_output_tokens: 0, total_tokens: total });
const tokens = (ts: string, total: [number, number], last: [number, number], extra: object = {}) =>
  ev(ts, { type: 'token_count', info: { total_token_usage: usage(...total), last_token_usage: usage(...last) } }, extra);
const meta = (ts: string, id: string, more: object = {}, extra: object = {}) =>
  line(ts, 'session_meta', { id, timestamp: ts, cwd: '/w', originator: 'codex_cli_rs', cli_version: '0.120.0', source: 'cli', model_provider: 'openai', ...more }, extra);

/** A UUIDv7 whose embedded creation time is `iso`, as Codex's turn ids are. */
const v7 = (iso: string, tail: string) => {
  const hex = Date.parse(iso).toString(16).padStart(12, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-7000-8000-${tail.padStart(12, '0')}`;
};
const PARENT_TURN = v7('2026-07-20T09:10:00.000Z', 'a');
const OWN_TURN = v7('2026-07-20T09:16:41.000Z', 'b');

const FILES: Record<string, string[]> = {
  'pre-envelope.jsonl': [
    JSON.stringify({ id: '5a0c2e7d-2f4b-4c1e-9d7a-0b1c2d3e4f50', timestamp: '2025-08-12T10:04:11.218Z', instructions: null, git: { branch: 'main' } }),
    JSON.stringify({ record_type: 'state' }),
    JSON.stringify({ type: 'message', id: null, role: 'user', content: [{ type: 'input_text', text: '<environment_context>\n  <cwd>/w</cwd>\n</environment_context>' }] }),
    JSON.stringify({ type: 'message', id: null, role: 'user', content: [{ type: 'input_text', text: 'list the files' }] }),
    JSON.stringify({ type: 'function_call', id: null, name: 'shell', arguments: '{"command":["ls"]}', call_id: 'call_a' }),
    JSON.stringify({ type: 'function_call_output', call_id: 'call_a', output: '{"output":"README.md\\n","metadata":{"exit_code":0,"duration_seconds":0.0}}' }),
    JSON.stringify({ type: 'message', id: null, role: 'assistant', content: [{ type: 'output_text', text: 'One file.' }] }),
    JSON.stringify({ type: 'message', id: null, role: 'user', content: [{ type: 'input_text', text: 'thanks' }] }),
    JSON.stringify({ type: 'message', id: null, role: 'assistant', content: [{ type: 'output_text', text: 'You are welcome.' }] }),
  ],
  'implicit-turns.jsonl': [
    meta('2025-10-06T08:30:00.377Z', '0199b8c1-7d2e-7a40-8b11-2c3d4e5f6a70'),
    ev('2025-10-06T08:30:01.000Z', { type: 'user_message', message: '<environment_context/>', kind: 'environment_context' }),
    ev('2025-10-06T08:30:02.000Z', { type: 'user_message', message: 'first', kind: 'plain' }),
    line('2025-10-06T08:30:02.001Z', 'turn_context', { cwd: '/w', approval_policy: 'on-request', sandbox_policy: { mode: 'workspace-write' }, model: 'gpt-5-codex', effort: 'medium', summary: 'auto' }),
    item('2025-10-06T08:30:04.000Z', { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'ok' }] }),
    tokens('2025-10-06T08:30:04.010Z', [100, 5], [100, 5]),
    ev('2025-10-06T08:31:00.000Z', { type: 'user_message', message: 'second' }),
    tokens('2025-10-06T08:31:01.000Z', [100, 5], [100, 5]),
    item('2025-10-06T08:31:03.000Z', { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'ok again' }] }),
    tokens('2025-10-06T08:31:03.010Z', [250, 12], [150, 7]),
    ev('2025-10-06T08:31:04.000Z', { type: 'turn_aborted', reason: 'interrupted' }),
  ],
  'paginated.jsonl': [
    meta('2026-08-20T10:00:00.000Z', '0199c000-0000-7000-8000-000000000000', { session_id: '0199c000-0000-7000-8000-000000000000', history_mode: 'paginated' }, { ordinal: 0 }),
    ev('2026-08-20T10:00:00.100Z', { type: 'task_started', turn_id: '0199c000-0000-7000-8000-000000000010', started_at: 1787220000 }, { ordinal: 1 }),
    line('2026-08-20T10:00:00.110Z', 'turn_context', { turn_id: '0199c000-0000-7000-8000-000000000010', cwd: '/repo', approval_policy: 'never', sandbox_policy: { type: 'danger-full-access' }, model: 'gpt-6', summary: 'auto' }, { ordinal: 2 }),
    ev('2026-08-20T10:00:00.120Z', { type: 'item_completed', thread_id: '0199c000-0000-7000-8000-000000000000', turn_id: '0199c000-0000-7000-8000-000000000010', item: { type: 'UserMessage', id: 'u1', content: [{ type: 'text', text: 'echo ok' }] } }, { ordinal: 3 }),
    item('2026-08-20T10:00:00.400Z', { type: 'function_call', name: 'exec_command', arguments: '{"cmd":"echo ok"}', call_id: 'call_Ab12' }, { ordinal: 4 }),
    tokens('2026-08-20T10:00:00.410Z', [1000, 20], [1000, 20], { ordinal: 5 }),
    item('2026-08-20T10:00:00.500Z', { type: 'function_call_output', call_id: 'call_Ab12', output: 'ok' }, { ordinal: 6 }),
    ev('2026-08-20T10:00:00.510Z', { type: 'item_completed', thread_id: '0199c000-0000-7000-8000-000000000000', turn_id: '0199c000-0000-7000-8000-000000000010', item: { type: 'CommandExecution', id: 'call_Ab12', command: ['bash', '-lc', 'echo ok'], cwd: '/repo', status: 'failed', exit_code: 3, duration: { secs: 0, nanos: 48000000 } }, started_at_ms: 1787220000450, completed_at_ms: 1787220000498 }, { ordinal: 7 }),
    item('2026-08-20T10:00:01.000Z', { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'failed' }] }, { ordinal: 8 }),
    tokens('2026-08-20T10:00:01.010Z', [2100, 30], [1100, 10], { ordinal: 9 }),
    ev('2026-08-20T10:00:01.100Z', { type: 'task_complete', turn_id: '0199c000-0000-7000-8000-000000000010', error: { message: 'stream disconnected', codex_error_info: { response_stream_disconnected: { http_status_code: null } } } }, { ordinal: 10 }),
  ],
  'forked.jsonl': [
    meta('2026-07-20T09:16:40.871Z', '0198f0a3-9e01-7f52-a613-4b5c6d7e8f90', { forked_from_id: '0198f0a2-1c3e-7a10-9b2d-5e6f7a8b9c0d' }),
    meta('2026-07-20T09:16:40.900Z', '0198f0a2-1c3e-7a10-9b2d-5e6f7a8b9c0d'),
    ev('2026-07-20T09:16:40.901Z', { type: 'task_started', turn_id: PARENT_TURN }),
    item('2026-07-20T09:16:40.902Z', { type: 'function_call', name: 'shell', arguments: '{}', call_id: 'call_parent' }),
    item('2026-07-20T09:16:40.903Z', { type: 'function_call_output', call_id: 'call_parent', output: 'x' }),
    tokens('2026-07-20T09:16:40.904Z', [5000, 50], [5000, 50]),
    ev('2026-07-20T09:16:40.905Z', { type: 'task_complete', turn_id: PARENT_TURN }),
    ev('2026-07-20T09:16:41.000Z', { type: 'task_started', turn_id: OWN_TURN }),
    tokens('2026-07-20T09:16:41.100Z', [5000, 50], [5000, 50]),
    item('2026-07-20T09:16:42.000Z', { type: 'function_call', name: 'shell', arguments: '{}', call_id: 'call_own' }),
    tokens('2026-07-20T09:16:42.010Z', [5600, 60], [600, 10]),
    item('2026-07-20T09:16:43.000Z', { type: 'function_call_output', call_id: 'call_own', output: 'Exit code: 0\nWall time: 0.5 seconds\nOutput:\n' }),
    ev('2026-07-20T09:16:44.000Z', { type: 'task_complete', turn_id: OWN_TURN }),
  ],
  'resumed-and-compacted.jsonl': [
    meta('2026-03-05T18:00:00.000Z', '019cbe00-0000-7000-8000-000000000001'),
    ev('2026-03-05T18:00:00.100Z', { type: 'task_started', turn_id: '019cbe00-0000-7000-8000-0000000000a1' }),
    ev('2026-03-05T18:00:00.200Z', { type: 'user_message', message: 'start' }),
    item('2026-03-05T18:00:02.000Z', { type: 'custom_tool_call', status: 'completed', call_id: 'call_cell', name: 'exec', input: 'text(await tools.web_search({q:"x"}))' }),
    ev('2026-03-05T18:00:05.000Z', { type: 'web_search_end', call_id: 'exec-1111', query: 'x', action: { type: 'search', query: 'x' } }),
    item('2026-03-05T18:00:05.100Z', { type: 'custom_tool_call_output', call_id: 'call_cell', output: [{ type: 'input_text', text: 'Script completed\nWall time 3.1 seconds\nOutput:\n' }] }),
    tokens('2026-03-05T18:00:05.200Z', [900, 9], [900, 9]),
    // the process died here; the session was resumed the next day
    ev('2026-03-06T09:00:00.000Z', { type: 'task_started', turn_id: '019cc100-0000-7000-8000-0000000000a2' }),
    ev('2026-03-06T09:00:00.100Z', { type: 'user_message', message: 'go on' }),
    line('2026-03-06T09:00:30.000Z', 'compacted', { message: '', replacement_history: [{ type: 'message' }, { type: 'compaction', encrypted_content: 'x' }] }),
    ev('2026-03-06T09:00:30.001Z', { type: 'context_compacted' }),
    ev('2026-03-06T09:00:30.002Z', { type: 'token_count', info: { total_token_usage: usage(900, 9), last_token_usage: { input_tokens: 0, cached_input_tokens: 0, output_tokens: 0, reasoning_output_tokens: 0, total_tokens: 4321 } } }),
    item('2026-03-06T09:00:33.000Z', { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'done' }] }),
    tokens('2026-03-06T09:00:33.100Z', [1900, 19], [1000, 10]),
    ev('2026-03-06T09:00:34.000Z', { type: 'turn_aborted', turn_id: '019cc100-0000-7000-8000-0000000000a2', reason: 'interrupted', duration_ms: 34000 }),
  ],
};

describe('format generations', () => {
  const spansOf = new Map<string, ReceivedSpan[]>();
  let code = -1;
  let stderr = '';
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rollout-otel-gen-'));
    const receiver = await startReceiver();
    const paths = Object.entries(FILES).map(([name, lines]) => {
      const p = join(dir, name);
      writeFileSync(p, `${lines.join('\n')}\n`);
      return p;
    });
    const run = await runCli(['export', ...paths], { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url });
    code = run.code;
    stderr = run.stderr;
    for (const s of receiver.spans()) {
      const name = String(s.attributes['rollout.source.path']).split('/').pop()!;
      spansOf.set(name, [...(spansOf.get(name) ?? []), s]);
    }
    await receiver.close();
  });
  const named = (file: string, prefix: string) => (spansOf.get(file) ?? []).filter((s) => s.name.startsWith(prefix));

  test('every file exports cleanly', () => {
    assert.equal(code, 0, stderr);
    assert.equal(spansOf.size, Object.keys(FILES).length);
  });

  test('pre-envelope: laid out from the session time, marked inferred', () => {
    const spans = spansOf.get('pre-envelope.jsonl')!;
    assert.ok(spans.every((s) => s.attributes['rollout.timing'] === 'inferred'));
    assert.equal(named('pre-envelope.jsonl', 'handle_conversation_turn').length, 2, 'each real user message opens a turn; injected context does not');
    const tool = named('pre-envelope.jsonl', 'execute_tool shell')[0]!;
    assert.equal(tool.startNs, ns('2025-08-12T10:04:11.218Z') + 4_000_000n, 'line 5 sits 4 ms after line 1');
    assert.equal(tool.attributes['process.exit.code'], 0);
    assert.equal(named('pre-envelope.jsonl', 'chat').length, 3, 'without token counts, each run of model output is a model call');
    const thread = named('pre-envelope.jsonl', 'invoke_agent')[0]!;
    assert.equal(thread.attributes['gen_ai.conversation.id'], '5a0c2e7d-2f4b-4c1e-9d7a-0b1c2d3e4f50');
    assert.equal(thread.attributes['vcs.ref.head.name'], 'main');
  });

  test('before turn markers: user messages open turns, repeated totals are not model calls', () => {
    const turns = named('implicit-turns.jsonl', 'handle_conversation_turn').sort((a, b) => Number(a.startNs - b.startNs));
    assert.equal(turns.length, 2);
    assert.equal(turns[0]!.startNs, ns('2025-10-06T08:30:02.000Z'));
    assert.equal(turns[1]!.attributes['codex.turn.status'], 'aborted');
    assert.equal(turns[1]!.attributes['codex.turn.abort_reason'], 'interrupted');
    const chats = named('implicit-turns.jsonl', 'chat gpt-5-codex');
    assert.deepEqual(chats.map((c) => c.attributes['gen_ai.usage.input_tokens']).sort(), [100, 150]);
    assert.equal(turns[0]!.attributes['codex.sandbox_policy'], 'workspace-write');
  });

  test('paginated: item_completed gives exact tool times and failures; a turn error marks the turn', () => {
    const tool = named('paginated.jsonl', 'execute_tool exec_command')[0]!;
    assert.equal(tool.startNs, 1787220000450n * 1000000n);
    assert.equal(tool.endNs, 1787220000498n * 1000000n);
    assert.equal(tool.attributes['process.exit.code'], 3);
    assert.equal(tool.status.code, 2);
    const turn = named('paginated.jsonl', 'handle_conversation_turn')[0]!;
    assert.equal(turn.status.code, 2);
    assert.equal(turn.attributes['error.type'], 'response_stream_disconnected');
    assert.equal(turn.attributes['codex.turn.status'], 'failed');
    assert.equal(named('paginated.jsonl', 'chat gpt-6').length, 2);
  });

  test('forked: the copied parent history is not exported again', () => {
    const tools = named('forked.jsonl', 'execute_tool');
    assert.deepEqual(tools.map((t) => t.attributes['gen_ai.tool.call.id']), ['call_own']);
    assert.equal(named('forked.jsonl', 'handle_conversation_turn').length, 1);
    const chats = named('forked.jsonl', 'chat');
    assert.deepEqual(chats.map((c) => c.attributes['gen_ai.usage.input_tokens']), [600], 'the repeated copied total is not a model call');
    const thread = named('forked.jsonl', 'invoke_agent')[0]!;
    assert.equal(thread.attributes['codex.fork.copied_lines'], 6);
    assert.equal(thread.attributes['gen_ai.agent.id'], '0198f0a3-9e01-7f52-a613-4b5c6d7e8f90');
  });

  test('resumed: the crashed turn ends at its last record; compaction and code-cell calls are spans', () => {
    const turns = named('resumed-and-compacted.jsonl', 'handle_conversation_turn').sort((a, b) => Number(a.startNs - b.startNs));
    assert.equal(turns.length, 2);
    assert.equal(turns[0]!.attributes['codex.turn.status'], 'incomplete');
    assert.equal(turns[0]!.endNs, ns('2026-03-05T18:00:05.200Z'));
    assert.equal(turns[1]!.attributes['codex.turn.status'], 'aborted');
    const compactions = named('resumed-and-compacted.jsonl', 'compaction');
    assert.equal(compactions.length, 1, 'context_compacted repeats the compacted line');
    assert.equal(compactions[0]!.attributes['codex.compaction.kind'], 'remote');
    assert.equal(compactions[0]!.attributes['codex.compaction.replacement_items'], 2);
    assert.equal(compactions[0]!.attributes['codex.compaction.tokens_after'], 4321);
    assert.equal(compactions[0]!.startNs, ns('2026-03-06T09:00:00.100Z'));
    assert.equal(compactions[0]!.parentSpanId, turns[1]!.spanId);
    const chats = named('resumed-and-compacted.jsonl', 'chat');
    const after = chats.find((c) => c.attributes['gen_ai.usage.input_tokens'] === 1000)!;
    assert.equal(after.attributes['gen_ai.conversation.compacted'], true);
    assert.equal(chats.find((c) => c.attributes['gen_ai.usage.input_tokens'] === 900)!.attributes['gen_ai.conversation.compacted'], undefined);
    const cell = named('resumed-and-compacted.jsonl', 'execute_tool exec')[0]!;
    const nested = named('resumed-and-compacted.jsonl', 'execute_tool web_search')[0]!;
    assert.equal(nested.parentSpanId, cell.spanId, 'the code cell parents the call it made');
    assert.equal(nested.attributes['gen_ai.tool.call.id'], 'exec-1111');
    assert.ok(nested.startNs >= cell.startNs && nested.endNs <= cell.endNs);
  });
});
