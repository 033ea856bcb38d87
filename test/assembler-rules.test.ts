// The assembler invariants of model/README.md, one rule per test, each from a few events.
import assert from 'node:assert/strict';
import { describe, test } from 'vitest';
import { assemble, type Ev } from './support/assemble.ts';
import { BundleAssembler } from '../src/model/bundle-assembler.ts';
import type { BundleEvent } from '../src/model/bundle-events.ts';
import type { TokenUsage } from '../src/model/events.ts';
import { TOOL_ERRORS, toolFailure, turnStatus, turnStatusMessage } from '../src/model/outcome.ts';
import { MAX_TURN_ITEMS, MAX_TURN_NOTES } from '../src/model/turn-builder.ts';
import { MAX_NAME_CHARS } from '../src/model/names.ts';


const start: Ev = { kind: 'thread_start', meta: { threadId: 't1', startTime: 0, inferredTiming: false } };
const usage = (total: number): TokenUsage => ({ input: total - 10, cachedInput: 0, output: 10, reasoningOutput: 0, total });
const count = (total: number, last = usage(total)): Ev => ({ kind: 'token_count', total: usage(total), last });

describe('rollout turns', () => {
  test('a user message inside an open turn is steering, not a new turn', () => {
    const { turns } = assemble([start, { kind: 'turn_start', turnId: 'a' }, { kind: 'user_message', text: 'do it' }, { kind: 'user_message', text: 'faster' }, { kind: 'turn_end', turnId: 'a', outcome: 'completed' }]);
    assert.equal(turns.length, 1);
    assert.deepEqual(turns[0]!.notes.map((n) => n.kind), ['steering']);
  });

  test('in a file without turn markers, each user message opens a turn', () => {
    const { turns } = assemble([start, { kind: 'user_message', text: 'one' }, { kind: 'user_message', text: 'two' }]);
    assert.deepEqual(turns.map((t) => [t.implicit, t.status]), [[true, 'completed'], [true, 'completed']]);
  });

  test('a turn that never ended is incomplete and ends at its last record', () => {
    const { turns } = assemble([start, { kind: 'turn_start', turnId: 'a' }, { kind: 'user_message', text: 'go' }]);
    assert.equal(turns[0]!.status, 'incomplete');
    assert.equal(turns[0]!.end, 3000);
  });

  test('an end naming another turn closes nothing and is noted on the thread', () => {
    const { turns, thread } = assemble([start, { kind: 'turn_start', turnId: 'a' }, { kind: 'turn_end', turnId: 'b', outcome: 'completed' }]);
    assert.equal(turns[0]!.status, 'incomplete');
    assert.deepEqual(thread.notes, [{ kind: 'unmatched_turn_end', time: 3000, turnId: 'b' }]);
  });
});

describe('outcomes', () => {
  test('an error event fails the turn it happened in, with one exception event', () => {
    const { turns } = assemble([start, { kind: 'turn_start', turnId: 'a' }, { kind: 'error', message: 'stream lost', errorType: 'http_error' }, { kind: 'turn_end', turnId: 'a', outcome: 'completed' }]);
    assert.equal(turns[0]!.status, 'failed');
    assert.equal(turns[0]!.errorType, 'http_error');
    assert.deepEqual(turns[0]!.notes, [{ kind: 'exception', time: 3000, errorType: 'http_error', message: 'stream lost' }]);
  });

  test('the same error recorded by an error event and by the turn end is one exception event', () => {
    const { turns } = assemble([start, { kind: 'turn_start', turnId: 'a' }, { kind: 'error', message: 'quota' }, { kind: 'turn_end', turnId: 'a', outcome: 'completed', errorMessage: 'quota' }]);
    assert.equal(turns[0]!.notes.filter((n) => n.kind === 'exception').length, 1);
    assert.equal(turns[0]!.errorType, '_OTHER');
  });

  test('an error in a turn that was aborted leaves it aborted', () => {
    const { turns } = assemble([start, { kind: 'turn_start', turnId: 'a' }, { kind: 'error', message: 'x' }, { kind: 'turn_end', turnId: 'a', outcome: 'aborted', reason: 'interrupted' }]);
    assert.equal(turns[0]!.status, 'aborted');
    assert.equal(turns[0]!.abortReason, 'interrupted');
  });

  test('an error in a turn that never ended fails it', () => {
    const { turns } = assemble([start, { kind: 'turn_start', turnId: 'a' }, { kind: 'error', message: 'x' }]);
    assert.equal(turns[0]!.status, 'failed');
  });

  test('an error outside any turn is the thread error', () => {
    const { thread } = assemble([start, { kind: 'error', message: 'no auth', errorType: 'unauthorized' }]);
    assert.deepEqual(thread.error, { type: 'unauthorized', message: 'no auth' });
  });

  test('a turn status follows one table', () => {
    assert.deepEqual(
      (['completed', 'aborted', 'failed', 'incomplete'] as const).map((s) => [turnStatus(s, false), turnStatus(s, true)]),
      [['completed', 'failed'], ['aborted', 'aborted'], ['failed', 'failed'], ['incomplete', 'failed']],
    );
  });

  test('a tool fails on a reported failure or a non-zero exit code, and on nothing else', () => {
    assert.equal(toolFailure({ exitCode: 0 }), undefined);
    assert.equal(toolFailure({}), undefined);
    assert.deepEqual(toolFailure({ exitCode: 2 }), { type: 'exit_code', message: undefined, words: 'exit code 2' });
    assert.deepEqual(toolFailure({ success: false, errorType: 'patch_failed', errorMessage: 'no hunk' }), { type: 'patch_failed', message: 'no hunk', words: 'patch failed' });
    assert.deepEqual(toolFailure({ success: false }), { type: '_OTHER', message: undefined, words: 'failed' });
  });

  test('a tool failure is one of a documented set of kinds, told in our words apart from what the input recorded', () => {
    assert.deepEqual(toolFailure({ exitCode: 128, success: false, errorType: '128' }), { type: 'exit_code', message: undefined, words: 'exit code 128' });
    assert.deepEqual(toolFailure({ exitCode: 1, success: false, errorType: 'failed' }), { type: 'exit_code', message: undefined, words: 'exit code 1' });
    assert.deepEqual(toolFailure({ success: false, errorType: 'aborted' }), { type: 'cancelled', message: undefined, words: 'cancelled' });
    assert.deepEqual(toolFailure({ exitCode: 124, success: false, errorType: 'timeout' }), { type: 'timeout', message: undefined, words: 'timed out (exit code 124)' });
    assert.deepEqual(toolFailure({ success: false, errorType: 'agent_errored' }), { type: 'tool_error', message: undefined, words: 'tool reported an error' });
    assert.deepEqual(toolFailure({ success: false, errorType: 'something_new' }), { type: '_OTHER', message: undefined, words: 'something_new' });
    for (const raw of ['exit_code', 'patch_failed', 'script_failed', 'mcp_error', 'tool_error', 'timeout', 'sandbox_denied', 'declined', 'cancelled', 'aborted', 'failed', '7']) {
      assert.ok(toolFailure({ success: false, errorType: raw })!.type in TOOL_ERRORS, raw);
    }
  });

  test('a turn that did not simply complete says how it ended in words', () => {
    assert.equal(turnStatusMessage({ status: 'completed' }), undefined);
    assert.equal(turnStatusMessage({ status: 'aborted', abortReason: 'interrupted' }), 'aborted: interrupted');
    assert.equal(turnStatusMessage({ status: 'failed', errorMessage: 'stream disconnected' }), 'stream disconnected');
  });
});

describe('tool times', () => {
  test('a tool call covers the duration its end event recorded, ending there; call to output is the model\'s wait', () => {
    const { turns } = assemble([
      start, { kind: 'turn_start', turnId: 'a' },
      { kind: 'tool_call', callId: 'c', name: 'exec_command', toolKind: 'function', summary: { executable: 'rg', command: 'rg x' } },
      { kind: 'tool_output', callId: 'c', output: 'Process running with session ID 1', result: { stillRunning: true } },
      { kind: 'tool_result', callId: 'c', result: { exitCode: 0, durationMs: 1500, summary: { executable: 'rg', commandKind: 'search', command: 'bash -lc rg x' } } },
      { kind: 'turn_end', turnId: 'a', outcome: 'completed' },
    ]);
    const tool = turns[0]!.tools[0]!;
    // events are 1 s apart: call at 3 s, output at 4 s, end event at 5 s
    assert.equal(tool.end, 5000);
    assert.equal(tool.start, 3500);
    assert.equal(tool.facts?.modelWaitMs, 1000);
    assert.deepEqual(tool.result.summary, { executable: 'rg', commandKind: 'search', command: 'bash -lc rg x' });
  });
});

describe('model calls', () => {
  test('a token count whose cumulative total did not change is not a new model call', () => {
    const { turns } = assemble([start, { kind: 'turn_start', turnId: 'a' }, { kind: 'model_output', item: 'message' }, count(100), count(100), { kind: 'turn_end', turnId: 'a', outcome: 'completed' }]);
    assert.equal(turns[0]!.modelCalls.length, 1);
    assert.equal(turns[0]!.usage.total, 100);
  });

  test('an estimate (only the total) is not a model call: it is the size of the context after a compaction', () => {
    const estimate = { input: 0, cachedInput: 0, output: 0, reasoningOutput: 0, total: 5000 };
    const { turns } = assemble([start, { kind: 'turn_start', turnId: 'a' }, { kind: 'compaction', remote: false, marker: false }, count(9000, estimate), { kind: 'turn_end', turnId: 'a', outcome: 'completed' }]);
    assert.equal(turns[0]!.modelCalls.length, 0);
    assert.equal(turns[0]!.compactions[0]!.tokensAfter, 5000);
  });

  test('the first model call after a compaction is marked compacted, the next is not', () => {
    const { turns } = assemble([
      start, { kind: 'turn_start', turnId: 'a' }, { kind: 'compaction', remote: true, marker: false },
      { kind: 'model_output', item: 'message' }, count(100), { kind: 'user_message', text: 'more' }, { kind: 'model_output', item: 'message' }, count(200),
      { kind: 'turn_end', turnId: 'a', outcome: 'completed' },
    ]);
    assert.deepEqual(turns[0]!.modelCalls.map((c) => c.compacted), [true, false]);
  });

  test('a model call spans from the input that prompted it to its last output item', () => {
    const { turns } = assemble([start, { kind: 'turn_start', turnId: 'a' }, { kind: 'user_message', text: 'go' }, { kind: 'model_output', item: 'reasoning' }, { kind: 'model_output', item: 'message' }, count(100), { kind: 'turn_end', turnId: 'a', outcome: 'completed' }]);
    const call = turns[0]!.modelCalls[0]!;
    assert.deepEqual([call.start, call.end], [3000, 5000]);
  });
});

describe('tool calls', () => {
  const call = (callId: string): Ev => ({ kind: 'tool_call', callId, name: 'shell', toolKind: 'function' });
  const output = (callId: string, exitCode?: number): Ev => ({ kind: 'tool_output', callId, output: 'ok', result: { exitCode } });

  test('a call and its output are paired by call id, and the span covers both', () => {
    const { turns } = assemble([start, { kind: 'turn_start', turnId: 'a' }, call('c1'), output('c1', 0), { kind: 'turn_end', turnId: 'a', outcome: 'completed' }]);
    const t = turns[0]!.tools[0]!;
    assert.deepEqual([t.key, t.start, t.end, t.incomplete, t.result.exitCode], ['c1', 3000, 4000, false, 0]);
  });

  test('a call without an output is incomplete and ends with its turn', () => {
    const { turns } = assemble([start, { kind: 'turn_start', turnId: 'a' }, call('c1'), { kind: 'user_message', text: 'x' }, { kind: 'turn_end', turnId: 'a', outcome: 'completed' }]);
    assert.deepEqual([turns[0]!.tools[0]!.incomplete, turns[0]!.tools[0]!.end], [true, 5000]);
  });

  test('an output whose call was never seen is an orphan note, not a span', () => {
    const { turns, thread } = assemble([start, { kind: 'turn_start', turnId: 'a' }, output('ghost'), { kind: 'turn_end', turnId: 'a', outcome: 'completed' }]);
    assert.equal(turns[0]!.tools.length, 0);
    assert.deepEqual(thread.notes, [{ kind: 'orphan_tool_output', time: 3000, callId: 'ghost' }]);
  });

  test('a call id used twice in one thread gets a span of its own the second time', () => {
    const { turns } = assemble([start, { kind: 'turn_start', turnId: 'a' }, call('c1'), output('c1'), { kind: 'turn_end', turnId: 'a', outcome: 'completed' }, { kind: 'turn_start', turnId: 'b' }, call('c1'), output('c1'), { kind: 'turn_end', turnId: 'b', outcome: 'completed' }]);
    assert.deepEqual(turns.map((t) => t.tools[0]!.key), ['c1', 'c1@7']);
    assert.deepEqual(turns.map((t) => t.tools[0]!.incomplete), [false, false]);
  });

  test('a call id repeated inside one turn pairs each output with the call still waiting for one', () => {
    const { turns } = assemble([start, { kind: 'turn_start', turnId: 'a' }, call('c1'), output('c1', 0), call('c1'), output('c1', 1), { kind: 'turn_end', turnId: 'a', outcome: 'completed' }]);
    assert.deepEqual(turns[0]!.tools.map((t) => [t.key, t.result.exitCode, t.start, t.end]), [['c1', 0, 3000, 4000], ['c1@5', 1, 5000, 6000]]);
  });
});

describe('limits of one turn', () => {
  const call = (callId: string): Ev => ({ kind: 'tool_call', callId, name: 'shell', toolKind: 'function' });
  const output = (callId: string): Ev => ({ kind: 'tool_output', callId, output: 'ok', result: { exitCode: 0 } });

  test('past 10,000 calls and output runs in one turn, further calls are counted, not held; outputs of held calls still pair', () => {
    const events: Ev[] = [start, { kind: 'turn_start', turnId: 'a' }];
    for (let i = 0; i < MAX_TURN_ITEMS + 50; i++) events.push(call(`c${i}`));
    events.push(output('c0'), output(`c${MAX_TURN_ITEMS + 10}`), { kind: 'turn_end', turnId: 'a', outcome: 'completed' });
    const { turns, thread } = assemble(events);
    const t = turns[0]!;
    // each call's model output run counts toward the limit too
    assert.ok(t.tools.length >= MAX_TURN_ITEMS / 2 && t.tools.length < MAX_TURN_ITEMS, `${t.tools.length} held`);
    assert.equal(t.tools.length + t.facts!.untracedItems!, MAX_TURN_ITEMS + 50, 'every call held or counted');
    assert.equal(t.tools[0]!.incomplete, false, 'the output of a held call still pairs');
    assert.deepEqual(thread.notes, [], 'the output of a call not held is no orphan');
    assert.equal(t.status, 'completed');
  });

  test('past 1,000 notes in one turn, further ones are counted, not kept', () => {
    const events: Ev[] = [start, { kind: 'turn_start', turnId: 'a' }, { kind: 'user_message', text: 'go' }];
    for (let i = 0; i < MAX_TURN_NOTES + 7; i++) events.push({ kind: 'user_message', text: `steer ${i}` });
    events.push({ kind: 'turn_end', turnId: 'a', outcome: 'completed' });
    const t = assemble(events).turns[0]!;
    assert.equal(t.notes.length, MAX_TURN_NOTES);
    assert.equal(t.facts?.droppedNotes, 7);
  });

  test('past 1,000 notes on the thread (outputs of unknown calls), further ones are counted, not kept', () => {
    const events: Ev[] = [start, { kind: 'turn_start', turnId: 'a' }];
    for (let i = 0; i < MAX_TURN_NOTES + 3; i++) events.push(output(`ghost-${i}`));
    const { thread } = assemble(events);
    assert.equal(thread.notes.length, MAX_TURN_NOTES);
    assert.equal(thread.facts?.droppedNotes, 3);
  });

  test('a name of megabytes (a model, a tool) is kept cut at 2,048 characters', () => {
    const long = 'x'.repeat(3 * 1024 * 1024);
    const { turns } = assemble([start, { kind: 'turn_start', turnId: 'a' }, { kind: 'turn_context', model: long }, call('c1'), { kind: 'tool_call', callId: 'c2', name: long, toolKind: 'function' }, { kind: 'turn_end', turnId: 'a', outcome: 'completed' }]);
    assert.ok(turns[0]!.model!.length < MAX_NAME_CHARS + 40 && turns[0]!.model!.startsWith('xxx'));
    assert.ok(turns[0]!.tools[1]!.name.length < MAX_NAME_CHARS + 40);
    assert.equal(turns[0]!.tools[0]!.name, 'shell');
  });

  test('a turn within the limits carries no limit facts', () => {
    const t = assemble([start, { kind: 'turn_start', turnId: 'a' }, call('c1'), output('c1'), { kind: 'turn_end', turnId: 'a', outcome: 'completed' }]).turns[0]!;
    assert.equal(t.facts, undefined);
  });
});

describe('bundles follow the same outcome rules', () => {
  type BEv = BundleEvent extends infer E ? (E extends BundleEvent ? Omit<E, 'time' | 'line'> : never) : never;
  function replay(events: BEv[]) {
    const a = new BundleAssembler('trace.jsonl');
    events.forEach((e, i) => a.push({ ...e, time: (i + 1) * 1000, line: i + 1 } as BundleEvent));
    return a.finish().threads[0]!;
  }
  const opening: BEv[] = [{ kind: 'thread_start', threadId: 't1', facts: {} }, { kind: 'turn_start', threadId: 't1', turnId: 'a' }];

  test('an error met in a turn fails it with the same exception event as in a rollout', () => {
    const t = replay([...opening, { kind: 'turn_outcome', turnId: 'a', error: { message: 'stream lost', type: 'http_error' } }, { kind: 'turn_end', turnId: 'a', status: 'completed' }]).turns[0]!;
    const rollout = assemble([start, { kind: 'turn_start', turnId: 'a' }, { kind: 'error', message: 'stream lost', errorType: 'http_error' }, { kind: 'turn_end', turnId: 'a', outcome: 'completed' }]).turns[0]!;
    assert.deepEqual([t.status, t.errorType, t.notes], [rollout.status, rollout.errorType, rollout.notes]);
  });

  test('a response still streaming when its turn completed was cancelled, not failed', () => {
    const call = replay([...opening, { kind: 'inference_start', callId: 'i1', threadId: 't1', turnId: 'a' }, { kind: 'turn_end', turnId: 'a', status: 'completed' }]).turns[0]!.modelCalls[0]!;
    assert.equal(call.error, undefined);
    assert.equal(call.facts?.status, 'cancelled');
  });

  test('a response cut off by a failed turn failed with it', () => {
    const call = replay([...opening, { kind: 'inference_start', callId: 'i1', threadId: 't1', turnId: 'a' }, { kind: 'turn_end', turnId: 'a', status: 'failed' }]).turns[0]!.modelCalls[0]!;
    assert.equal(call.error?.type, 'failed');
  });

  test('a turn that never ended but met an error failed', () => {
    const t = replay([...opening, { kind: 'turn_outcome', turnId: 'a', error: { message: 'boom' } }]).turns[0]!;
    assert.deepEqual([t.status, t.incomplete], ['failed', true]);
  });

  test('a cancelled bundle turn is aborted, not failed', () => {
    const t = replay([...opening, { kind: 'turn_end', turnId: 'a', status: 'cancelled' }]).turns[0]!;
    assert.deepEqual([t.status, t.facts?.recordedStatus], ['aborted', 'cancelled']);
  });
});
