// Hot-path objects keep one field order wherever they are made (one hidden class each).
import assert from 'node:assert/strict';
import { test } from 'vitest';
import { ThreadAssembler } from '../src/model/assembler.ts';
import { BundleAssembler } from '../src/model/bundle-assembler.ts';
import type { BundleEvent } from '../src/model/bundle-events.ts';
import type { RolloutEvent } from '../src/model/events.ts';
import { emptyResult, newModelCall, newPendingTool, newToolCall } from '../src/model/shapes.ts';

const MODEL_CALL = ['index', 'line', 'start', 'end', 'model', 'usage', 'compacted', 'input', 'output', 'id', 'provider', 'error', 'incomplete', 'facts', 'edges', 'notes'];
const TOOL_CALL = ['key', 'callId', 'name', 'namespace', 'toolKind', 'mcp', 'agents', 'line', 'start', 'end', 'incomplete', 'result', 'parentKey', 'arguments', 'output', 'terminal', 'facts', 'edges'];
type Without<E> = E extends unknown ? Omit<E, 'time' | 'line'> : never;

const RESULT = ['exitCode', 'durationMs', 'startedAtMs', 'completedAtMs', 'success', 'errorType', 'errorMessage', 'mcpServer', 'mcpTool', 'stillRunning', 'summary'];

test('the constructors lay out their fields in the pinned order', () => {
  assert.deepEqual(Object.keys(newModelCall(0, 1, 0, undefined, undefined, false)), MODEL_CALL);
  assert.deepEqual(Object.keys(newToolCall('k', { name: 'x', toolKind: 'function' }, 1, 0, undefined, true)), TOOL_CALL);
  assert.deepEqual(Object.keys(emptyResult()), RESULT);
  assert.deepEqual(Object.keys(newPendingTool('k', { name: 'x', toolKind: 'function' }, 1, 0, undefined, true)), [...TOOL_CALL, 'callTime', 'outputTime', 'resultTime', 'searchItemSeen']);
});

test('rollout and bundle assemblers hand out tool calls and model calls of one shape', () => {
  const r = new ThreadAssembler({ path: 'a.jsonl' });
  const events: Without<RolloutEvent>[] = [
    { kind: 'thread_start', meta: { threadId: 't', startTime: 0, inferredTiming: false } },
    { kind: 'turn_start', turnId: 'a' },
    { kind: 'tool_call', callId: 'c', name: 'shell', toolKind: 'function' },
    { kind: 'tool_output', callId: 'c', output: '', result: { exitCode: 0 } },
    { kind: 'token_count', total: { input: 1, cachedInput: 0, output: 1, reasoningOutput: 0, total: 2 }, last: { input: 1, cachedInput: 0, output: 1, reasoningOutput: 0, total: 2 } },
    { kind: 'turn_end', turnId: 'a', outcome: 'completed' },
  ];
  const [turn] = events.flatMap((e, i) => r.push({ ...e, time: i, line: i + 1 } as RolloutEvent));
  const b = new BundleAssembler('trace.jsonl');
  const bundleEvents: Without<BundleEvent>[] = [
    { kind: 'thread_start', threadId: 't', facts: {} },
    { kind: 'turn_start', threadId: 't', turnId: 'a' },
    { kind: 'inference_start', threadId: 't', turnId: 'a', callId: 'i' },
    { kind: 'tool_start', threadId: 't', turnId: 'a', toolCallId: 'c', name: 'shell', toolKind: 'function' },
    { kind: 'cell_start', threadId: 't', turnId: 'a', cellId: '1', modelCallId: 'm' },
  ];
  bundleEvents.forEach((e, i) => b.push({ ...e, time: i, line: i + 1 } as BundleEvent));
  const bundleTurn = b.finish().threads[0]!.turns[0]!;
  for (const tool of [...turn!.tools, ...bundleTurn.tools]) assert.deepEqual(Object.keys(tool), TOOL_CALL);
  for (const call of [...turn!.modelCalls, ...bundleTurn.modelCalls]) assert.deepEqual(Object.keys(call), MODEL_CALL);
});
