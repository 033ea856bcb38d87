import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fixture, runCli, type CliResult } from './support/cli.ts';
import { readBundle, type Usage } from './support/bundle-reading.ts';
import { startReceiver, type Receiver, type ReceivedSpan } from './support/otlp-receiver.ts';

const ROOT = fixture('bundles');
const bundle = (traceId: string) => join(ROOT, readdirSync(ROOT).find((n) => n.startsWith(`trace-${traceId}`))!);
const MULTI_AGENT = bundle('7f0c1e2a');
const FAILURES = bundle('2b3c4d5e');
const TOOLS = bundle('3c4d5e6f');
const CRASHED = bundle('4d5e6f70');
const REAL_V2 = bundle('5e6f7081');
const ALL = [MULTI_AGENT, FAILURES, TOOLS, CRASHED, REAL_V2];
const CONTENT_KEYS = ['gen_ai.input.messages', 'gen_ai.output.messages', 'gen_ai.tool.call.arguments', 'gen_ai.tool.call.result', 'process.command_line'];

const kindOf = (s: ReceivedSpan) => s.name.split(' ')[0];
const shape = (spans: ReceivedSpan[]) => spans.map((s) => `${s.traceId} ${s.spanId} <- ${s.parentSpanId} ${s.name}`).sort();
const full = (spans: ReceivedSpan[]) => spans.map((s) => JSON.stringify(s, (_k, v) => (typeof v === 'bigint' ? String(v) : v))).sort();

async function exportTo(args: string[]): Promise<{ run: CliResult; spans: ReceivedSpan[] }> {
  const r = await startReceiver();
  try {
    const run = await runCli(['export', ...args], { OTEL_EXPORTER_OTLP_ENDPOINT: r.url });
    return { run, spans: r.spans() };
  } finally {
    await r.close();
  }
}

/** Usage attributes as the reading names them; undefined when the span carries none. */
function usageOf(s: ReceivedSpan): Usage | undefined {
  const a = s.attributes;
  if (a['gen_ai.usage.input_tokens'] === undefined) return undefined;
  return { input: a['gen_ai.usage.input_tokens'], cached: a['gen_ai.usage.cache_read.input_tokens'], output: a['gen_ai.usage.output_tokens'], reasoning: a['gen_ai.usage.reasoning.output_tokens'] } as Usage;
}

const sum = (us: (Usage | undefined)[]): Usage | undefined =>
  us.some(Boolean) ? us.reduce<Usage>((a, u) => ({ input: a.input + (u?.input ?? 0), cached: a.cached + (u?.cached ?? 0), output: a.output + (u?.output ?? 0), reasoning: a.reasoning + (u?.reasoning ?? 0) }), { input: 0, cached: 0, output: 0, reasoning: 0 }) : undefined;

describe('Codex rollout trace bundles', () => {
  let receiver: Receiver;
  let run: CliResult;
  let spans: ReceivedSpan[];
  const of = (dir: string) => spans.filter((s) => s.attributes['rollout.source.path'] === join(dir, 'trace.jsonl'));

  beforeAll(async () => {
    receiver = await startReceiver();
    // error messages are free text, exported on request: checked here against the records
    run = await runCli(['export', '--capture', 'errors', ROOT], { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url });
    spans = receiver.spans();
  });
  afterAll(() => receiver.close());

  test('a trace root exports each bundle as one trace named by the bundle, all spans delivered', () => {
    // the crashed bundle's torn last line is the only reason for exit code 3
    assert.equal(run.code, 3, run.stderr);
    assert.equal(run.stdout.trim().split('\n').length, ALL.length);
    assert.match(run.stderr, new RegExp(`${ALL.length} sessions read, ${spans.length} spans built`));
    assert.match(run.stderr, new RegExp(`delivered ${spans.length} spans`));
    for (const dir of ALL) {
      const traceId = readBundle(dir).traceId;
      assert.deepEqual([...new Set(of(dir).map((s) => s.traceId))], [traceId]);
      assert.match(run.stdout, new RegExp(`^${traceId}  ${of(dir).length} spans  ${join(dir, 'trace.jsonl')}$`, 'm'));
    }
    assert.equal(spans.length, ALL.reduce((n, d) => n + of(d).length, 0));
  });

  test('nothing of the content leaves without --capture-content', () => {
    for (const s of spans) for (const k of CONTENT_KEYS) assert.equal(s.attributes[k], undefined, `${s.name} carries ${k}`);
  });

  for (const dir of ALL) {
    test(`${basename(dir).slice(0, 14)}…: threads, turns, model calls and tool calls one to one with the records`, () => {
      const r = readBundle(dir);
      const mine = of(dir);
      const ids = new Set(mine.map((s) => s.spanId));
      assert.equal(ids.size, mine.length, 'span ids are unique');
      assert.ok(mine.every((s) => s.parentSpanId === '' || ids.has(s.parentSpanId)), 'every parent is in the trace');
      assert.equal(mine.filter((s) => s.parentSpanId === '').length, 1, 'one root');
      const byId = new Map(mine.map((s) => [s.spanId, s]));
      const parentOf = (s: ReceivedSpan) => byId.get(s.parentSpanId);
      const ended = (s: ReceivedSpan, end: bigint | undefined) => {
        if (end !== undefined) assert.equal(s.endNs, end > s.startNs ? end : s.startNs + 1000n, `${s.name} ends when recorded`);
        else assert.ok(s.endNs >= r.lastNs && s.endNs <= r.lastNs + 1000n, `${s.name} never ended: closed at the last recorded time`);
      };
      const lineOf = (s: ReceivedSpan) => s.attributes['rollout.source.line'];

      const threads = mine.filter((s) => kindOf(s) === 'invoke_agent');
      assert.deepEqual(threads.map((s) => s.attributes['gen_ai.agent.id']).sort(), [...r.threads.keys()].sort());
      for (const t of threads) {
        const w = r.threads.get(String(t.attributes['gen_ai.agent.id']))!;
        assert.equal(t.startNs, w.startNs, 'a thread starts when recorded, or inside its spawn call');
        assert.equal(t.attributes['codex.thread.recorded_start_unix_ms'], w.startNs !== w.recordedStartNs ? Number(w.recordedStartNs / 1_000_000n) : undefined);
        ended(t, w.endNs);
        assert.equal(t.attributes['codex.incomplete'], w.endNs === undefined ? true : undefined);
        assert.equal(lineOf(t), w.line);
        assert.equal(t.attributes['gen_ai.conversation.id'], r.rootThreadId);
      }

      const turns = mine.filter((s) => kindOf(s) === 'handle_conversation_turn');
      assert.deepEqual(turns.map((s) => s.attributes['codex.turn.id']).sort(), [...r.turns.keys()].sort());
      const chats = mine.filter((s) => kindOf(s) === 'chat');
      assert.deepEqual(chats.map((s) => s.attributes['codex.inference.call_id']).sort(), [...r.inferences.keys()].sort());
      for (const t of turns) {
        const w = r.turns.get(String(t.attributes['codex.turn.id']))!;
        assert.equal(parentOf(t)?.attributes['gen_ai.agent.id'], w.threadId);
        assert.equal(t.startNs, w.startNs);
        ended(t, w.endNs);
        assert.equal(lineOf(t), w.line);
        const own = chats.filter((c) => c.parentSpanId === t.spanId);
        assert.deepEqual(usageOf(t), sum(own.map(usageOf)), 'turn usage is the sum of its model calls');
        // an error recorded for a turn that completed (or never ended) fails it; an aborted turn is not a failure
        const failed = w.status === 'failed' || (w.error !== undefined && (w.status === 'completed' || w.status === undefined));
        assert.equal(t.status.code, failed ? 2 : 0, `turn ${w.id} ${w.status}`);
        if (failed && w.error !== undefined) assert.equal(t.status.message, w.error);
        assert.deepEqual(t.events.filter((e) => e.name === 'exception').map((e) => e.attributes['exception.message']), w.error !== undefined ? [w.error] : []);
      }
      for (const c of chats) {
        const w = r.inferences.get(String(c.attributes['codex.inference.call_id']))!;
        assert.equal(parentOf(c)?.attributes['codex.turn.id'], w.turnId);
        assert.equal(c.kind, 3, 'CLIENT');
        assert.equal(c.startNs, w.startNs);
        ended(c, w.endNs);
        assert.equal(lineOf(c), w.line);
        assert.deepEqual(usageOf(c), w.usage);
        // only a failure is an error: a cancelled response (Codex stopped reading it) is not
        assert.equal(c.status.code, w.status === 'failed' ? 2 : 0, `${w.id} ${w.status}`);
        if (w.status === 'failed' && w.error !== undefined) assert.equal(c.status.message, w.error);
        assert.equal(c.attributes['codex.inference.status'], w.status === 'completed' ? undefined : w.status);
        if (w.reason !== undefined) assert.equal(c.attributes['codex.inference.cancel_reason'], w.reason);
      }

      const tools = mine.filter((s) => kindOf(s) === 'execute_tool');
      assert.deepEqual(tools.map((s) => s.attributes['gen_ai.tool.call.id']).sort(), [...r.tools.keys()].sort());
      for (const t of tools) {
        const w = r.tools.get(String(t.attributes['gen_ai.tool.call.id']))!;
        const parent = parentOf(t)!;
        if (w.cell) assert.equal(parent.attributes['gen_ai.tool.call.id'], w.cell, 'a call a code cell made is under the cell');
        else assert.equal(parent.attributes['codex.turn.id'], w.turnId);
        assert.equal(t.startNs, w.startNs);
        ended(t, w.endNs);
        assert.equal(t.attributes['codex.tool.incomplete'], w.endNs === undefined ? true : undefined);
        assert.equal(lineOf(t), w.line);
        assert.equal(t.attributes['process.exit.code'], w.exitCode);
        const failed = w.status === 'failed' || w.runtimeFailed === true || (w.exitCode !== undefined && w.exitCode !== 0);
        assert.equal(t.status.code, failed ? 2 : 0, String(w.id));
      }
      for (const s of mine) {
        assert.ok(s.startNs < s.endNs, `${s.name} has a length`);
        const p = parentOf(s);
        // a child agent's thread span starts inside the call that spawned it, and may outlive it
        if (p && kindOf(s) !== 'invoke_agent') assert.ok(p.startNs <= s.startNs && s.endNs <= p.endNs, `${p.name} encloses ${s.name}`);
        else if (p && kindOf(p) === 'execute_tool') assert.ok(p.startNs <= s.startNs && s.startNs <= p.endNs, `${s.name} starts inside ${p.name}`);
      }
    });
  }

  test('multi-agent v2: the child thread hangs under its spawn call, in the same trace', () => {
    const r = readBundle(MULTI_AGENT);
    const mine = of(MULTI_AGENT);
    const [childId] = [...r.spawns.keys()];
    const spawn = mine.find((s) => s.attributes['gen_ai.tool.call.id'] === r.spawns.get(childId!))!;
    const child = mine.find((s) => s.name === 'invoke_agent Kepler')!;
    const root = mine.find((s) => s.name.startsWith('invoke_agent codex'))!;
    assert.equal(spawn.name, 'execute_tool spawn_agent');
    assert.equal(child.parentSpanId, spawn.spanId);
    assert.equal(child.traceId, root.traceId);
    assert.equal(child.attributes['gen_ai.agent.id'], childId);
    assert.equal(child.attributes['codex.parent_thread.id'], r.rootThreadId);
    assert.equal(child.attributes['codex.agent.path'], '/root/reviewer');
    assert.equal(child.attributes['codex.agent.depth'], 1);
    assert.equal(child.attributes['gen_ai.invocation.is_nested'], true);
    const childTurn = mine.find((s) => s.name === 'handle_conversation_turn Kepler')!;
    assert.equal(childTurn.parentSpanId, child.spanId);
    assert.equal(mine.find((s) => kindOf(s) === 'chat' && s.parentSpanId === childTurn.spanId)?.attributes['gen_ai.usage.input_tokens'], 2000);
  });

  test('multi-agent v2: messages, follow-ups, closes and the child result are span links', () => {
    const mine = of(MULTI_AGENT);
    const child = mine.find((s) => s.name === 'invoke_agent Kepler')!;
    const childTurn = mine.find((s) => s.name === 'handle_conversation_turn Kepler')!;
    for (const [tool, kind] of [['send_message', 'send_message'], ['followup_task', 'followup_task'], ['close_agent', 'close_agent']]) {
      const span = mine.find((s) => s.name === `execute_tool ${tool}`)!;
      assert.deepEqual(span.links.map((l) => [l.traceId, l.spanId, l.attributes['codex.link.kind']]), [[child.traceId, child.spanId, kind]], tool);
    }
    // the parent's model call after the result arrived links back to the child's turn that produced it
    const linked = mine.filter((s) => s.links.some((l) => l.attributes['codex.link.kind'] === 'agent_result'));
    assert.equal(linked.length, 1);
    assert.equal(linked[0]!.attributes['codex.inference.call_id'], 'e41c0b77-2d3e-4f50-8a61-72839405a6b7');
    assert.equal(linked[0]!.links[0]!.spanId, childTurn.spanId);
  });

  test('a failed then retried model call: two chat spans, the first an error with the recorded text', () => {
    const chats = of(FAILURES).filter((s) => kindOf(s) === 'chat').sort((a, b) => Number(a.startNs - b.startNs));
    const [failed, retried] = chats;
    assert.equal(failed!.parentSpanId, retried!.parentSpanId);
    assert.deepEqual(failed!.status, { code: 2, message: 'stream disconnected before completion' });
    assert.equal(failed!.attributes['error.type'], 'failed');
    assert.equal(failed!.attributes['gen_ai.usage.input_tokens'], undefined);
    assert.equal(retried!.status.code, 0);
    assert.equal(retried!.attributes['gen_ai.usage.input_tokens'], 9000);
    assert.equal(retried!.attributes['gen_ai.response.id'], 'resp_f000');
  });

  test('a failing command: ERROR with its exit code, and the terminal operation beneath it', () => {
    const mine = of(FAILURES);
    const tool = mine.find((s) => s.attributes['gen_ai.tool.call.id'] === 'call_t1')!;
    assert.equal(tool.name, 'execute_tool exec_command · cargo');
    assert.equal(tool.status.code, 2);
    assert.equal(tool.attributes['process.exit.code'], 101);
    assert.equal(tool.attributes['error.type'], 'exit_code');
    const terminal = mine.find((s) => s.parentSpanId === tool.spanId)!;
    assert.equal(terminal.name, 'terminal exec_command');
    assert.equal(terminal.attributes['codex.terminal.id'], '4100');
    assert.equal(terminal.attributes['process.exit.code'], 101);
    assert.equal(terminal.startNs, BigInt(1786000002950) * 1_000_000n);
    assert.equal(terminal.endNs, BigInt(1786000007000) * 1_000_000n);
  });

  test('a cancelled model call is not an error, nor is the interrupted turn; a turn that completed with an error is', () => {
    const mine = of(FAILURES);
    const cancelled = mine.find((s) => s.attributes['codex.inference.call_id'] === 'f0000000-0000-4000-8000-0000000000a4')!;
    assert.deepEqual(cancelled.status, { code: 0, message: '' });
    assert.equal(cancelled.attributes['error.type'], undefined);
    assert.equal(cancelled.attributes['codex.inference.status'], 'cancelled');
    assert.equal(cancelled.attributes['codex.inference.cancel_reason'], 'response stream dropped before provider terminal event');
    const turn = (id: string) => mine.find((s) => s.attributes['codex.turn.id'] === id)!;
    const aborted = turn('019e2000-1111-7000-8000-00000000b202');
    assert.equal(aborted.status.code, 0);
    assert.equal(aborted.attributes['codex.turn.status'], 'aborted');
    assert.equal(aborted.attributes['codex.turn.abort_reason'], 'interrupted');
    const errored = turn('019e2000-1111-7000-8000-00000000b203');
    assert.deepEqual(errored.status, { code: 2, message: 'unexpected status 500 Internal Server Error' });
    assert.equal(errored.attributes['codex.turn.status'], 'failed');
    assert.deepEqual(errored.events.map((e) => [e.name, e.attributes['exception.message']]), [['exception', 'unexpected status 500 Internal Server Error']]);
  });

  test('multi-agent v2 as Codex writes it: the child is placed by SubAgentActivity under its spawn call, starting inside it', () => {
    const r = readBundle(REAL_V2);
    const mine = of(REAL_V2);
    const child = mine.find((s) => s.name === 'invoke_agent Noether')!;
    const spawn = mine.find((s) => s.attributes['gen_ai.tool.call.id'] === 'call_sp5')!;
    const [childId, call] = [...r.spawns][0]!;
    assert.equal(call, 'call_sp5');
    assert.equal(spawn.name, 'execute_tool spawn_agent');
    assert.equal(child.attributes['gen_ai.agent.id'], childId);
    assert.equal(child.parentSpanId, spawn.spanId);
    assert.equal(child.attributes['codex.parent.link'], undefined);
    // recorded after the spawn returned: the span starts when the spawn ended, the recorded start is kept
    assert.equal(child.startNs, spawn.endNs);
    assert.equal(child.attributes['codex.thread.recorded_start_unix_ms'], 1786000002600);
    assert.ok(child.endNs > spawn.endNs, 'the child outlives its spawn call');
    const childTurn = mine.find((s) => s.name === 'handle_conversation_turn Noether')!;
    for (const [tool, kind, target] of [['send_message', 'send_message', child], ['close_agent', 'close_agent', child]] as const) {
      const span = mine.find((s) => s.name === `execute_tool ${tool}`)!;
      assert.deepEqual(span.links.map((l) => [l.spanId, l.attributes['codex.link.kind']]), [[target.spanId, kind]], tool);
    }
    const result = mine.find((s) => s.attributes['codex.inference.call_id'] === 'd0000000-0000-4000-8000-0000000000d2')!;
    assert.deepEqual(result.links.map((l) => [l.spanId, l.attributes['codex.link.kind']]), [[childTurn.spanId, 'agent_result']]);
  });

  test('a command that completed as a call but failed as a process: ERROR with its exit code', () => {
    const mine = of(REAL_V2);
    const tool = mine.find((s) => s.attributes['gen_ai.tool.call.id'] === 'call_x5')!;
    assert.equal(tool.name, 'execute_tool exec_command · npm');
    assert.equal(tool.status.code, 2);
    assert.equal(tool.attributes['process.exit.code'], 2);
    assert.equal(tool.attributes['codex.tool.status'], undefined);
    assert.equal(mine.find((s) => s.parentSpanId === tool.spanId)?.attributes['process.exit.code'], 2);
  });

  test('a response cut off when its turn completes is cancelled, not failed', () => {
    const cut = of(REAL_V2).find((s) => s.attributes['codex.inference.call_id'] === 'd0000000-0000-4000-8000-0000000000c2')!;
    assert.equal(cut.status.code, 0);
    assert.equal(cut.attributes['codex.inference.status'], 'cancelled');
    assert.equal(cut.attributes['codex.inference.cancel_reason'], 'the turn ended (completed) before the response did');
    assert.equal(cut.endNs, BigInt(1786000004500) * 1_000_000n);
  });

  test('an error breadcrumb fails its turn: the turn of the line before it, else the next turn to end', () => {
    const mine = of(REAL_V2);
    const turn = (n: string) => mine.find((s) => s.attributes['codex.turn.id'] === `019e5000-1111-7000-8000-00000000${n}`)!;
    const overflow = "Codex ran out of room in the model's context window. Start a new thread or clear earlier history before retrying.";
    for (const [t, message, type] of [[turn('b502'), overflow, 'context_window_exceeded'], [turn('b500'), 'model "gpt-9" is not supported', 'bad_request']] as const) {
      assert.deepEqual(t.status, { code: 2, message });
      assert.equal(t.attributes['error.type'], type);
      assert.equal(t.attributes['codex.turn.status'], 'failed');
      assert.deepEqual(t.events.map((e) => [e.name, e.attributes['exception.type'], e.attributes['exception.message']]), [['exception', type, message]]);
    }
    assert.equal(turn('b501').status.code, 0);
  });

  test('a code-mode cell is a tool span with the calls it made beneath it', () => {
    const mine = of(TOOLS);
    const cell = mine.find((s) => s.attributes['gen_ai.tool.call.id'] === 'call_exec1')!;
    assert.equal(cell.name, 'execute_tool exec');
    assert.equal(cell.attributes['codex.code_cell.id'], '1');
    assert.equal(cell.attributes['codex.code_cell.status'], 'completed');
    assert.equal(cell.endNs, BigInt(1786000004000) * 1_000_000n, 'the cell ends when it ended, after the wait');
    const nested = mine.filter((s) => s.parentSpanId === cell.spanId);
    assert.deepEqual(nested.map((s) => s.name).sort(), ['execute_tool apply_patch · 1 file', 'execute_tool exec_command · ls']);
    assert.ok(nested.every((s) => String(s.attributes['gen_ai.tool.call.id']).startsWith('exec-')));
    assert.deepEqual(nested.map((s) => s.attributes['codex.code_mode.tool_id']).sort(), ['tool-1', 'tool-2']);
    const wait = mine.find((s) => s.name === 'execute_tool wait')!;
    assert.equal(wait.parentSpanId, cell.parentSpanId);
  });

  test('terminal operations: a process that outlives its call, and the write_stdin that polls it', () => {
    const mine = of(TOOLS);
    const run = mine.find((s) => s.attributes['gen_ai.tool.call.id'] === 'call_run1')!;
    const poll = mine.find((s) => s.attributes['gen_ai.tool.call.id'] === 'call_poll1')!;
    const terminalOf = (s: ReceivedSpan) => mine.find((t) => t.parentSpanId === s.spanId && kindOf(t) === 'terminal')!;
    assert.equal(terminalOf(run).name, 'terminal exec_command');
    assert.equal(terminalOf(run).attributes['codex.terminal.still_running'], true);
    assert.equal(run.attributes['codex.tool.still_running'], true);
    assert.equal(terminalOf(run).endNs, run.endNs, 'cut at the end of the call that started it');
    assert.equal(terminalOf(poll).name, 'terminal write_stdin');
    assert.equal(terminalOf(poll).attributes['codex.terminal.id'], terminalOf(run).attributes['codex.terminal.id']);
    assert.equal(poll.attributes['process.exit.code'], 0);
  });

  test('an MCP call: named by its tool, with its server and correlation id', () => {
    const mcp = of(TOOLS).find((s) => s.attributes['gen_ai.tool.call.id'] === 'call_m1')!;
    assert.equal(mcp.name, 'execute_tool search_issues');
    assert.equal(mcp.attributes['codex.mcp.server'], 'github');
    assert.equal(mcp.attributes['codex.mcp.call_id'], '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d');
    assert.equal(mcp.attributes['gen_ai.tool.type'], 'extension');
    assert.equal(mcp.status.code, 0);
  });

  test('a remote compaction: its attempts beneath it, and the next completed response marked compacted', () => {
    const mine = of(TOOLS);
    const compaction = mine.find((s) => s.name === 'compaction')!;
    assert.equal(compaction.attributes['codex.compaction.kind'], 'remote');
    assert.equal(compaction.attributes['codex.compaction.replacement_items'], 2);
    assert.equal(compaction.attributes['codex.compaction.input_items'], 6);
    assert.equal(compaction.startNs, BigInt(1786000009100) * 1_000_000n);
    assert.equal(compaction.endNs, BigInt(1786000011010) * 1_000_000n);
    const attempts = mine.filter((s) => s.parentSpanId === compaction.spanId).sort((a, b) => Number(a.startNs - b.startNs));
    assert.deepEqual(attempts.map((s) => s.name), ['compaction_request gpt-5.5-codex', 'compaction_request gpt-5.4-mini']);
    assert.deepEqual(attempts[0]!.status, { code: 2, message: 'compact endpoint returned 503 Service Unavailable' });
    assert.equal(attempts[1]!.status.code, 0);
    const compacted = mine.filter((s) => s.attributes['gen_ai.conversation.compacted'] === true);
    assert.deepEqual(compacted.map((s) => s.attributes['codex.inference.call_id']), ['b0000000-0000-4000-8000-0000000000b6']);
  });

  test('a crashed bundle exports what is there and counts what it could not use, by line', () => {
    const mine = of(CRASHED);
    assert.equal(mine.filter((s) => kindOf(s) === 'chat').length, 6);
    const turn = mine.find((s) => kindOf(s) === 'handle_conversation_turn')!;
    assert.equal(turn.attributes['codex.turn.status'], 'incomplete');
    assert.equal(turn.attributes['codex.incomplete'], true);
    assert.equal(mine.find((s) => s.attributes['codex.inference.call_id'] === 'c0000000-0000-4000-8000-0000000000c6')!.attributes['codex.incomplete'], true);
    const trace = join(CRASHED, 'trace.jsonl');
    for (const [line, type] of [[2, 'payload-missing'], [6, 'payload-missing'], [8, 'payload-outside-bundle'], [10, 'payload-outside-bundle'], [12, 'payload-outside-bundle'], [13, 'future_trace_event'], [16, 'payload-shape'], [17, 'payload-shape'], [19, 'invalid-json']] as const) {
      assert.ok(run.stderr.includes(`${trace}:${line}: ${type}: `), `${type} at line ${line}`);
    }
    assert.match(run.stderr, /1 unknown line skipped/);
    assert.match(run.stderr, /7 incomplete records/);
    // a field of an unexpected type is lost alone, and named; the rest of its payload is used
    assert.ok(run.stderr.includes(`${trace}:16: payload-shape: payloads/13.json: unusable command: expected array, got string`), run.stderr);
    assert.ok(run.stderr.includes(`${trace}:17: payload-shape: payloads/14.json: unusable response_id: expected string, got number`), run.stderr);
    const c5 = mine.find((s) => s.attributes['codex.inference.call_id'] === 'c0000000-0000-4000-8000-0000000000c5')!;
    assert.equal(c5.attributes['gen_ai.usage.input_tokens'], 4000);
    assert.equal(c5.attributes['gen_ai.response.id'], undefined);
    const make = mine.find((s) => s.attributes['gen_ai.tool.call.id'] === 'call_k1')!;
    assert.equal(mine.find((s) => s.parentSpanId === make.spanId)?.attributes['codex.terminal.id'], '9001');
    // nothing from the file outside the bundle got in
    assert.ok(spans.every((s) => s.attributes['gen_ai.usage.input_tokens'] !== 999999 && s.attributes['gen_ai.response.id'] !== 'resp_outside'));
  });

  test('a bundle given as its directory, trace.jsonl or manifest.json exports the same spans, every time', async () => {
    const asDir = await exportTo(['--capture', 'errors', FAILURES]);
    assert.equal(asDir.run.code, 0, asDir.run.stderr);
    for (const file of ['trace.jsonl', 'manifest.json']) {
      const other = await exportTo(['--capture', 'errors', join(FAILURES, file)]);
      assert.equal(other.run.code, 0, other.run.stderr);
      assert.deepEqual(full(other.spans), full(asDir.spans), file);
    }
    assert.deepEqual(full(asDir.spans), full(of(FAILURES)), 'the same as from the trace root');
  });

  test('events are replayed in seq order, whatever the order of the lines', async () => {
    const copy = join(mkdtempSync(join(tmpdir(), 'rollout-otel-seq-')), basename(MULTI_AGENT));
    cpSync(MULTI_AGENT, copy, { recursive: true });
    const lines = readFileSync(join(copy, 'trace.jsonl'), 'utf8').trim().split('\n');
    writeFileSync(join(copy, 'trace.jsonl'), `${lines.reverse().join('\n')}\n`);
    const { run: shuffled, spans: got } = await exportTo([copy]);
    assert.equal(shuffled.code, 0, shuffled.stderr);
    const timed = (ss: ReceivedSpan[]) => ss.map((s) => `${shape([s])[0]} ${s.startNs}-${s.endNs} ${s.status.code} ${s.links.map((l) => l.spanId)}`).sort();
    assert.deepEqual(timed(got), timed(of(MULTI_AGENT)));
  });

  test('bundles are found inside mixed directories, beside rollout files', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rollout-otel-mixed-'));
    mkdirSync(join(dir, 'sessions'), { recursive: true });
    const rollout = 'rollout-2026-05-08T09-23-20-019e06e6-0c4e-72d2-a0ab-34efa4c2613d.jsonl.zst';
    copyFileSync(fixture(`archive/${rollout}`), join(dir, 'sessions', rollout));
    cpSync(MULTI_AGENT, join(dir, 'traces', 'deeper', basename(MULTI_AGENT)), { recursive: true });
    const { run: mixed, spans: got } = await exportTo([dir]);
    assert.equal(mixed.code, 0, mixed.stderr);
    assert.equal(mixed.stdout.trim().split('\n').length, 2);
    const fromBundle = got.filter((s) => String(s.attributes['rollout.source.path']).endsWith('trace.jsonl'));
    assert.deepEqual(shape(fromBundle), shape(of(MULTI_AGENT)));
    // the archive is named as the session Codex first wrote
    assert.ok(got.some((s) => s.attributes['rollout.source.path'] === `sessions/2026/05/08/${rollout.replace(/\.zst$/, '')}`));
  });

  test('with --capture-content, content comes from the payload files', async () => {
    const { run: captured, spans: got } = await exportTo(['--capture-content', TOOLS]);
    assert.equal(captured.code, 0, captured.stderr);
    const chat = got.find((s) => s.attributes['codex.inference.call_id'] === 'b0000000-0000-4000-8000-0000000000b1')!;
    assert.match(String(chat.attributes['gen_ai.input.messages']), /please run the tests/);
    assert.match(String(chat.attributes['gen_ai.output.messages']), /All good\./);
    const cell = got.find((s) => s.attributes['gen_ai.tool.call.id'] === 'call_exec1')!;
    assert.match(String(cell.attributes['gen_ai.tool.call.arguments']), /tools\.exec_command/);
    assert.equal(cell.attributes['gen_ai.tool.call.result'], 'src');
    const mcp = got.find((s) => s.attributes['gen_ai.tool.call.id'] === 'call_m1')!;
    assert.equal(mcp.attributes['gen_ai.tool.call.arguments'], '{"q":"otel"}');
  });
});
