// The rules Claude Code transcripts added to the model and its decoder, one per test, in-process.
import assert from 'node:assert/strict';
import { describe, test } from 'vitest';
import { ClaudeDecoder } from '../src/formats/claude-code/decoder.ts';
import { claudeCode } from '../src/formats/claude-code/dialect.ts';
import { detectDialect } from '../src/formats/registry.ts';
import { assemble, type Ev } from './support/assemble.ts';
import type { RolloutEvent, TokenUsage } from '../src/model/events.ts';


const start: Ev = { kind: 'thread_start', meta: { threadId: 's', startTime: 0, inferredTiming: false } };
const u = (input: number, output: number): TokenUsage => ({ input, cachedInput: 0, output, reasoningOutput: 0, total: input + output });
const line = (id: string, out: number, item: 'message' | 'reasoning' | 'tool_call' = 'message'): Ev => ({ kind: 'model_output', item, responseId: id, usage: u(100, out), model: 'claude' });

describe('model: responses recorded over several lines', () => {
  test('lines sharing a response id are one call, whatever is written between them; counts are the largest, never summed', () => {
    const { turns } = assemble([
      start, { kind: 'user_message', text: 'go' },
      line('m1', 2, 'reasoning'),
      { kind: 'tool_call', callId: 'c1', name: 'Read', toolKind: 'function', responseId: 'm1' },
      { kind: 'tool_output', callId: 'c1', output: '', result: {} },
      line('m1', 70, 'tool_call'),
      line('m2', 5),
    ]);
    const calls = turns[0]!.modelCalls;
    assert.deepEqual(calls.map((c) => [c.id, c.usage?.input, c.usage?.output]), [['m1', 100, 70], ['m2', 100, 5]]);
    assert.deepEqual([calls[0]!.start, calls[0]!.end], [2000, 6000], 'from the prompt to its last line');
    assert.equal(calls[1]!.start, 6000, 'the next response starts after the input before it');
    assert.deepEqual([turns[0]!.usage.input, turns[0]!.usage.output], [200, 75]);
  });

  test('failed attempts are noted on the call that followed them, else on the turn', () => {
    const retry: Ev = { kind: 'turn_note', note: { kind: 'api_retry', time: 0, statusCode: 529, attempt: 1 } };
    const { turns } = assemble([start, { kind: 'user_message', text: 'a' }, retry, line('m1', 1), { kind: 'user_message', text: 'b' }, retry, { kind: 'error', message: 'API Error: 529', errorType: 'overloaded_error' }]);
    assert.deepEqual(turns[0]!.modelCalls[0]!.notes?.map((n) => n.kind), ['api_retry']);
    assert.deepEqual(turns[0]!.notes, []);
    assert.deepEqual(turns[1]!.notes.map((n) => n.kind).sort(), ['api_retry', 'exception']);
    assert.equal(turns[1]!.status, 'failed');
    assert.equal(turns[1]!.modelCalls.length, 0);
  });

  test('a sub-agent recorded inline is a thread of its own, handed out with the turn it worked in; its usage is not the parent\'s', () => {
    const child = (event: Ev): Ev => ({ kind: 'subagent_event', agentId: 'a1', callId: 'task', event: { ...event, time: 3000, line: 3 } as RolloutEvent });
    const { turns } = assemble([
      start, { kind: 'user_message', text: 'go' },
      { kind: 'tool_call', callId: 'task', name: 'Task', toolKind: 'function' },
      child({ kind: 'thread_start', meta: { threadId: 'a1', sessionId: 's', parentThreadId: 's', startTime: 3000, inferredTiming: false } }),
      child({ kind: 'user_message', text: 'sub' }),
      child(line('c1', 9)),
      { kind: 'tool_output', callId: 'task', output: '', result: {} },
    ]);
    const [agent] = turns[0]!.agents ?? [];
    assert.equal(agent?.callKey, 'task');
    assert.equal(agent?.thread.meta.threadId, 'a1');
    assert.deepEqual(agent?.turns.map((t) => t.modelCalls.length), [1]);
    assert.equal(turns[0]!.usage.output, 0);
  });
});

/** Decodes transcript lines with a fresh decoder, numbered from 1. */
function decode(lines: object[], opts = {}): RolloutEvent[] {
  const d = new ClaudeDecoder(opts);
  return lines.flatMap((l, i) => d.decode(l, i + 1).events);
}
const env = { sessionId: 's1', version: '2.1.100', cwd: '/w' };
const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();
const prompt = (s: number, text: string, extra = {}) => ({ ...env, type: 'user', uuid: `u${s}`, timestamp: at(s), message: { role: 'user', content: text }, ...extra });
const reply = (s: number, id: string, extra: Record<string, unknown> = {}) => ({
  ...env, type: 'assistant', uuid: `a${s}`, timestamp: at(s), requestId: 'req', message: { id, model: 'claude-opus-4-6', content: [{ type: 'text', text: 'ok' }], usage: { input_tokens: 3, cache_read_input_tokens: 100, cache_creation_input_tokens: 20, output_tokens: 7 } }, ...extra,
});

describe('decoder: Claude Code lines', () => {
  test('recognised from the first line: a session line, a title, a file snapshot; not Codex or generic lines', () => {
    assert.equal(detectDialect({ type: 'mode', mode: 'normal', sessionId: 'x' }), claudeCode);
    assert.equal(detectDialect({ type: 'summary', summary: 'T', leafUuid: 'u' }), claudeCode);
    assert.equal(detectDialect({ type: 'file-history-snapshot', messageId: 'm', snapshot: {} }), claudeCode);
    assert.notEqual(detectDialect({ type: 'session_meta', payload: { id: 'x' }, sessionId: 'y' }), claudeCode);
    assert.notEqual(detectDialect({ type: 'user_message', seq: 1, item: {} }), claudeCode);
  });

  test('input tokens are input + cache read + cache creation; both caches also on their own', () => {
    const e = decode([prompt(0, 'hi'), reply(1, 'msg_1')]).find((x) => x.kind === 'model_output');
    assert.deepEqual(e && e.kind === 'model_output' && e.usage, { input: 123, cachedInput: 100, cacheWriteInput: 20, output: 7, reasoningOutput: 0, total: 130 });
  });

  test('provider from the response id: Bedrock, Vertex AI, else Anthropic', () => {
    const providers = decode([prompt(0, 'hi'), reply(1, 'msg_bdrk_1'), reply(2, 'msg_vrtx_1'), reply(3, 'msg_1')]).flatMap((e) => (e.kind === 'model_output' ? [e.provider] : []));
    assert.deepEqual(providers, ['aws.bedrock', 'gcp.vertex_ai', 'anthropic']);
  });

  test('<synthetic> messages are not model calls; an API error one is an error with the type its body names', () => {
    const synthetic = (s: number, text: string, apiError: boolean) => ({ ...reply(s, `uuid-${s}`), isApiErrorMessage: apiError, error: 'unknown', message: { id: `uuid-${s}`, model: '<synthetic>', content: [{ type: 'text', text }], usage: {} } });
    const events = decode([prompt(0, 'hi'), synthetic(1, 'No response requested.', false), synthetic(2, 'API Error: 500 {"type":"error","error":{"type":"api_error","message":"x"}}', true), synthetic(3, 'Login expired · Please run /login', true)]);
    assert.equal(events.filter((e) => e.kind === 'model_output').length, 0);
    assert.deepEqual(events.flatMap((e) => (e.kind === 'error' ? [e.errorType] : [])), ['api_error', 'api_error']);
  });

  test('a typed prompt opens a turn named by its promptId; tool results, meta lines and notifications of the same prompt do not', () => {
    const events = decode([
      prompt(0, 'first', { promptId: 'p1' }),
      prompt(1, '<task-notification>done</task-notification>', { promptId: 'p1', origin: { kind: 'task-notification' } }),
      prompt(2, 'Base directory for this skill: /x', { isMeta: true }),
      prompt(3, '<local-command-stdout>ok</local-command-stdout>'),
      prompt(4, '<task-notification>other</task-notification>', { promptId: 'p2', origin: { kind: 'task-notification' } }),
    ]);
    assert.deepEqual(events.flatMap((e) => (e.kind === 'user_message' ? [e.turnId] : [])), ['p1', 'p2']);
  });

  test('an interrupt aborts the open turn', () => {
    const events = decode([prompt(0, 'go'), reply(1, 'm'), { ...prompt(2, ''), message: { role: 'user', content: [{ type: 'text', text: '[Request interrupted by user]' }] } }]);
    const end = events.find((e) => e.kind === 'turn_end');
    assert.deepEqual(end && end.kind === 'turn_end' && [end.outcome, end.reason], ['aborted', 'interrupted']);
  });

  test('a tool result written before its call waits for the call', () => {
    const use = { ...reply(3, 'm'), message: { id: 'm', model: 'x', content: [{ type: 'tool_use', id: 'toolu_1', name: 'Read', input: {} }] } };
    const result = { ...prompt(2, ''), message: { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'x' }] } };
    const kinds = decode([prompt(0, 'go'), result, use]).map((e) => e.kind);
    assert.deepEqual(kinds.slice(-3), ['model_output', 'tool_call', 'tool_output']);
  });

  test('a declined tool call is stopped, not failed; an is_error result fails with its exit code where it reports one', () => {
    const result = (id: string, content: string) => ({ ...prompt(2, ''), message: { role: 'user', content: [{ type: 'tool_result', tool_use_id: id, content, is_error: true }] } });
    const use = (id: string) => ({ ...reply(1, `m${id}`), message: { id: `m${id}`, model: 'x', content: [{ type: 'tool_use', id, name: 'Bash', input: {} }] } });
    const events = decode([prompt(0, 'go'), use('t1'), result('t1', "The user doesn't want to proceed with this tool use."), use('t2'), result('t2', 'Exit code 2\nboom'), use('t3'), result('t3', '<tool_use_error>File does not exist.</tool_use_error>')]);
    const outs = events.flatMap((e) => (e.kind === 'tool_output' ? [[e.result.success, e.result.exitCode, e.result.errorType, e.facts?.runtimeStatus]] : []));
    assert.deepEqual(outs, [[undefined, undefined, undefined, 'declined'], [false, 2, undefined, undefined], [false, undefined, 'tool_error', undefined]]);
  });

  test('unknown line types are warnings; unknown subtypes of known types are tolerated', () => {
    const d = new ClaudeDecoder();
    assert.equal(d.decode({ ...env, type: 'system', subtype: 'brand_new', timestamp: at(0) }, 1).warning, undefined);
    assert.match(d.decode({ ...env, type: 'hologram', timestamp: at(1) }, 2).warning?.message ?? '', /unknown line type/);
  });
});
