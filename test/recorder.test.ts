import assert from 'node:assert/strict';
import { describe, test } from 'vitest';
import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { exportLive, readLines, RolloutRecorder } from '../dist/index.js';
import { fixture, ROOT, runCli } from './support/cli.ts';
import { startReceiver, type ReceivedSpan } from './support/otlp-receiver.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'rollout-otel-rec-'));
// the exporter's default delivery ledger (and the example's) goes to a state directory of this run's
process.env.XDG_STATE_HOME = tmp();
/** One turn: a prompt and an answer with usage. */
function recordTurn(rec: RolloutRecorder, i: number): void {
  rec.turnStarted(`t${i}`);
  rec.userMessage(`prompt ${i}`);
  rec.assistantMessage(`answer ${i}`, { usage: { input_tokens: 10, output_tokens: 1 } });
  rec.turnEnded();
}

const shape = (spans: ReceivedSpan[]) => [...new Set(spans.map((s) => `${s.traceId}/${s.spanId}<-${s.parentSpanId} ${s.name}`))].sort();

async function backfill(file: string): Promise<ReceivedSpan[]> {
  const r = await startReceiver();
  try {
    const run = await runCli(['export', file], { OTEL_EXPORTER_OTLP_ENDPOINT: r.url });
    assert.equal(run.code, 0, run.stderr);
    return r.spans();
  } finally {
    await r.close();
  }
}

describe('RolloutRecorder and the in-process exporter', () => {
  test('a recorded session is traced live, each turn as it ends; the result equals a backfill of the file', async () => {
    const r = await startReceiver();
    const file = join(tmp(), 'agent.jsonl');
    const errors: Error[] = [];
    try {
      const rec = new RolloutRecorder(file, { agent: 'demo', model: 'gpt-5.1', version: '2.0.0' });
      // header values go out as given (a comma or a % is not a list or an escape)
      const exporter = exportLive(rec, { endpoint: r.url, headers: { authorization: 'Bearer a,b%2' }, onError: (e) => errors.push(e) });
      rec.turnStarted('t1');
      rec.userMessage('run the tests');
      rec.toolCall('c1', 'shell', { cmd: 'npm test' }, { usage: { input_tokens: 100, output_tokens: 5 } });
      rec.toolResult('c1', '1 failing', { exit_code: 1, duration_ms: 40 });
      rec.assistantMessage('one test fails', { usage: { input_tokens: 150, output_tokens: 7, cached_input_tokens: 100 } });
      rec.turnEnded('completed', { turn_id: 't1' });
      await r.waitForSpans(4);
      const first = r.spans();
      assert.deepEqual(first.map((s) => s.name).sort(), ['chat gpt-5.1', 'chat gpt-5.1', 'execute_tool shell', 'handle_conversation_turn demo']);
      assert.equal(first.find((s) => s.name === 'execute_tool shell')!.status.code, 2);

      rec.turnStarted('t2');
      rec.userMessage('fix it');
      rec.error('model overloaded', { type: 'overloaded' });
      rec.turnEnded('failed', { turn_id: 't2', error: 'model overloaded' });
      rec.close();
      const report = await exporter.close();
      assert.equal(report.notDelivered, 0);
      assert.equal(report.delivered, r.spans().length);
      assert.ok(r.requests.every((q) => q.headers.authorization === 'Bearer a,b%2'));
      assert.deepEqual(errors, []);
      const live = r.spans();
      const thread = live.find((s) => s.name === 'invoke_agent demo')!;
      assert.equal(thread.attributes['gen_ai.agent.id'], rec.sessionId);
      assert.equal(thread.resource['service.name'], 'demo');
      const t2 = live.find((s) => s.attributes['codex.turn.id'] === 't2')!;
      assert.equal(t2.status.code, 2);
      assert.equal(live.find((s) => s.attributes['codex.turn.id'] === 't1')!.attributes['gen_ai.usage.input_tokens'], 250);
      assert.deepEqual(shape(live), shape(await backfill(file)));
    } finally {
      await r.close();
    }
  });

  test('the file is one flushed line per event with seq; reopening continues it; replay skips a half-written line', () => {
    const file = join(tmp(), 'agent.jsonl');
    const a = new RolloutRecorder(file, { id: 'sess-1', agent: 'demo' });
    a.userMessage('hi');
    assert.equal(readFileSync(file, 'utf8').split('\n').length, 3, 'written at once, not buffered');
    a.close();
    assert.throws(() => a.userMessage('late'), /closed/);
    const b = new RolloutRecorder(file, { id: 'other' });
    assert.equal(b.sessionId, 'sess-1');
    b.assistantMessage('hello');
    b.close();
    appendFileSync(file, '{"type":"user_message","seq":9');
    const events = RolloutRecorder.replay(file);
    assert.deepEqual(events.map((e) => [e.seq, e.type]), [[0, 'session_meta'], [1, 'user_message'], [2, 'assistant_message']]);
    assert.equal(events[1]!.item.text, 'hi');
  });

  test('a collector that is down never reaches the recorder: it records on, errors are reported', async () => {
    const down = await startReceiver();
    const url = down.url;
    await down.close();
    const file = join(tmp(), 'agent.jsonl');
    const errors: Error[] = [];
    const rec = new RolloutRecorder(file, { agent: 'demo' });
    const exporter = exportLive(rec, { endpoint: url, timeoutMillis: 500, onError: (e) => errors.push(e) });
    for (let i = 0; i < 5; i++) {
      rec.userMessage(`prompt ${i}`);
      rec.assistantMessage(`answer ${i}`);
    }
    rec.close();
    const report = await exporter.close();
    assert.equal(RolloutRecorder.replay(file).length, 11);
    assert.equal(report.delivered, 0);
    assert.ok(report.notDelivered > 0);
    assert.ok(errors.some((e) => /spans not delivered to .* \(gave up after \d+ attempts?: last answer connection refused/.test(e.message)), errors.map((e) => e.message).join('\n'));
  });

  test('turns the collector refused are sent again from the file once it takes spans: nothing lost', async () => {
    const r = await startReceiver({ failFirst: 2, failStatus: 400 });
    const file = join(tmp(), 'agent.jsonl');
    const status: string[] = [];
    try {
      const rec = new RolloutRecorder(file, { agent: 'demo' });
      const exporter = exportLive(rec, { endpoint: r.url, onError: () => {}, onStatus: (m) => status.push(m) });
      for (let i = 0; i < 4; i++) recordTurn(rec, i);
      rec.close();
      const report = await exporter.close();
      assert.equal(r.failures, 2);
      assert.equal(report.notDelivered, 0);
      assert.match(status.join('\n'), /is back: re-sent 9 spans from/);
      assert.deepEqual(shape(r.spans()), shape(await backfill(file)));
    } finally {
      await r.close();
    }
  });

  test('what the exporter delivered, an export with the same state directory does not send again; what it could not, the export sends', async () => {
    // the collector takes the first turn, refuses the rest of the session (spans and thread span)
    const r = await startReceiver();
    const state = tmp();
    const file = join(tmp(), 'agent.jsonl');
    try {
      const rec = new RolloutRecorder(file, { agent: 'demo' });
      const exporter = exportLive(rec, { endpoint: r.url, stateDir: state, timeoutMillis: 300, onError: () => {} });
      for (let i = 0; i < 3; i++) {
        if (i === 1) {
          await r.waitForSpans(2);
          await r.close();
        }
        recordTurn(rec, i);
      }
      rec.close();
      const report = await exporter.close();
      assert.equal(report.delivered, 2, 'the first turn: its turn and chat spans');
      assert.equal(report.notDelivered, 5, 'two turns of two spans, and the thread span');
      const first = r.spans();

      const again = await startReceiver({ port: Number(new URL(r.url).port) });
      try {
        const run = await runCli(['export', '--state', state, file], { OTEL_EXPORTER_OTLP_ENDPOINT: again.url });
        assert.equal(run.code, 0, run.stderr);
        assert.equal(again.spans().length, 5, run.stderr);
        assert.deepEqual(shape([...first, ...again.spans()]), shape(await backfill(file)));
        assert.equal(new Set([...first, ...again.spans()].map((s) => s.spanId)).size, 7, 'no span twice');
        const twice = await runCli(['export', '--state', state, file], { OTEL_EXPORTER_OTLP_ENDPOINT: again.url });
        assert.equal(again.spans().length, 5, twice.stderr);
      } finally {
        await again.close();
      }
    } finally {
      await r.close().catch(() => {});
    }
  });

  test('a session recorded on after its exporter closed goes on in a trace of its own, with nothing sent twice', async () => {
    const r = await startReceiver();
    const state = tmp();
    const file = join(tmp(), 'agent.jsonl');
    try {
      const a = new RolloutRecorder(file, { agent: 'demo' });
      const first = exportLive(a, { endpoint: r.url, stateDir: state });
      recordTurn(a, 0);
      a.close();
      assert.equal((await first.close()).delivered, 3);
      const b = new RolloutRecorder(file, { agent: 'demo' });
      const second = exportLive(b, { endpoint: r.url, stateDir: state });
      recordTurn(b, 1);
      b.close();
      const report = await second.close();
      assert.equal(report.delivered, 3, 'the new turn, its chat span and the new segment\'s thread span');
      const spans = r.spans();
      assert.equal(new Set(spans.map((s) => `${s.traceId}/${s.spanId}`)).size, 6);
      assert.equal(report.spans, 3, 'spans made for this run, not those delivered before');
      const traces = [...new Set(spans.map((s) => s.traceId))];
      assert.equal(traces.length, 2);
      assert.ok(spans.filter((s) => s.traceId === traces[1]).some((s) => s.attributes['codex.turn.id'] === 't1'));
    } finally {
      await r.close();
    }
  });

  test('a thread span the collector refuses leaves the session open in the ledger: the export sends it', async () => {
    // the first turn and the last (closed at the end) are taken; the thread span is refused, every time
    const r = await startReceiver({ failAfter: 2, failStatus: 400 });
    const state = tmp();
    const file = join(tmp(), 'agent.jsonl');
    const port = Number(new URL(r.url).port);
    try {
      const rec = new RolloutRecorder(file, { agent: 'demo' });
      const exporter = exportLive(rec, { endpoint: r.url, stateDir: state, onError: () => {} });
      recordTurn(rec, 0);
      rec.turnStarted('t1');
      rec.userMessage('prompt 1');
      rec.close();
      const report = await exporter.close();
      assert.equal(report.notDelivered, 1);
      assert.ok(!r.spans().some((s) => s.name.startsWith('invoke_agent')));
    } finally {
      await r.close();
    }
    const again = await startReceiver({ port });
    try {
      const run = await runCli(['export', '--state', state, file], { OTEL_EXPORTER_OTLP_ENDPOINT: again.url });
      assert.equal(run.code, 0, run.stderr);
      assert.equal(again.spans().filter((s) => s.name.startsWith('invoke_agent')).length, 1, 'the thread span, sent by the export');
      assert.ok(!again.spans().some((s) => s.attributes['codex.turn.id'] === 't0'), 'the first turn is not sent again');
    } finally {
      await again.close();
    }
  });

  test('lines dropped from a full queue: nothing after the drop is sent live, and the export sends exactly that', async () => {
    const r = await startReceiver();
    const state = tmp();
    const file = join(tmp(), 'agent.jsonl');
    const errors: string[] = [];
    try {
      const rec = new RolloutRecorder(file, { agent: 'demo' });
      const exporter = exportLive(rec, { endpoint: r.url, stateDir: state, maxQueuedLines: 6, onError: (e) => errors.push(e.message) });
      for (let i = 0; i < 6; i++) recordTurn(rec, i);
      rec.close();
      const report = await exporter.close();
      assert.ok(report.droppedLines > 0);
      assert.match(errors.join('\n'), /later lines are not traced live/);
      const live = r.spans();
      const run = await runCli(['export', '--state', state, file], { OTEL_EXPORTER_OTLP_ENDPOINT: r.url });
      assert.equal(run.code, 0, run.stderr);
      const all = r.spans();
      assert.ok(all.length > live.length, 'the export sent the rest');
      assert.deepEqual(shape(all), shape(await backfill(file)));
      assert.equal(new Set(all.map((s) => `${s.traceId}/${s.spanId}`)).size, all.length, 'no span twice');
    } finally {
      await r.close();
    }
  });

  test('twenty exporters in one process share a state directory: every session is in the ledger, an export sends nothing', async () => {
    const r = await startReceiver();
    const state = tmp();
    const dir = tmp();
    try {
      const runs = Array.from({ length: 20 }, (_, i) => {
        const rec = new RolloutRecorder(join(dir, `agent-${i}.jsonl`), { agent: 'demo' });
        return { rec, exporter: exportLive(rec, { endpoint: r.url, stateDir: state }) };
      });
      for (let t = 0; t < 3; t++) for (const { rec } of runs) recordTurn(rec, t);
      for (const { rec } of runs) rec.close();
      await Promise.all(runs.map(({ exporter }) => exporter.close()));
      const sent = r.spans().length;
      const run = await runCli(['export', '--state', state, dir], { OTEL_EXPORTER_OTLP_ENDPOINT: r.url });
      assert.equal(run.code, 0, run.stderr);
      assert.equal(r.spans().length, sent, run.stderr);
      assert.deepEqual(readdirSync(state).filter((f) => f.endsWith('.tmp')), []);
    } finally {
      await r.close();
    }
  });

  test('any async iterable of lines: a Codex rollout streamed in gives the backfill spans', async () => {
    const r = await startReceiver();
    try {
      const path = fixture('xeus-0.129.0-tui-websearch.jsonl');
      const { createReadStream } = await import('node:fs');
      const exporter = exportLive(readLines(createReadStream(path)), { endpoint: r.url, path });
      const report = await exporter.done;
      assert.equal(report.delivered, r.spans().length);
      assert.deepEqual(shape(r.spans()), shape(await backfill(path)));
    } finally {
      await r.close();
    }
  });

  test('the README example runs as shown', async () => {
    const r = await startReceiver();
    try {
      const file = join(tmp(), 'example.jsonl');
      const out = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, ['examples/live-recorder.mjs', file], { cwd: ROOT, env: { ...process.env, OTEL_EXPORTER_OTLP_ENDPOINT: r.url } });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d) => (stdout += d));
        child.stderr.on('data', (d) => (stderr += d));
        child.on('close', (code) => resolve({ code, stdout, stderr }));
      });
      assert.equal(out.code, 0, out.stderr);
      assert.match(out.stdout, /trace [0-9a-f]{32}, 5 spans delivered, 0 not/);
      await sleep(10);
      assert.deepEqual(r.spans().map((s) => s.name).sort(), ['chat gpt-5.1', 'chat gpt-5.1', 'execute_tool shell', 'handle_conversation_turn example-agent', 'invoke_agent example-agent']);
    } finally {
      await r.close();
    }
  });
});
