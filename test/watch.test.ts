import assert from 'node:assert/strict';
import { describe, test } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, fixture, ROOT, runCli } from './support/cli.ts';
import { startReceiver, type ReceivedSpan } from './support/otlp-receiver.ts';

const SOULPASS = 'soulpass-0.122.0-tui-compaction-aborts.jsonl';
const NAME = 'rollout-2026-03-01T10-00-00-019c0000-0000-7000-8000-00000000abcd.jsonl';

interface Watch {
  proc: ChildProcess;
  stderr(): string;
  exited: Promise<number | null>;
}

function startWatch(dir: string, state: string, url: string, extra: string[] = []): Watch {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OTEL_')));
  const proc = spawn(process.execPath, [BIN, 'watch', dir, '--state', state, '--idle-timeout', '2s', '--poll', '100ms', ...extra], {
    env: { ...env, OTEL_EXPORTER_OTLP_ENDPOINT: url, OTEL_EXPORTER_OTLP_TIMEOUT: '2000', CODEX_HOME: join(tmpdir(), 'rollout-otel-no-home') },
    cwd: ROOT,
  });
  let err = '';
  proc.stderr?.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((resolve) => proc.on('close', (code) => resolve(code)));
  return { proc, stderr: () => err, exited };
}

async function until(what: string, check: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

async function backfill(file: string): Promise<ReceivedSpan[]> {
  const r = await startReceiver();
  try {
    const run = await runCli(['export', file], { OTEL_EXPORTER_OTLP_ENDPOINT: r.url, CODEX_HOME: join(tmpdir(), 'rollout-otel-no-home') });
    assert.equal(run.code, 0, run.stderr);
    return r.spans();
  } finally {
    await r.close();
  }
}

const ids = (spans: ReceivedSpan[]) => new Set(spans.map((s) => `${s.traceId}/${s.spanId}<-${s.parentSpanId} ${s.name}`));
const turnEnds = (lines: string[]) => lines.flatMap((l, i) => (/"type":"(task_complete|turn_aborted)"/.test(l) ? [i] : []));

function dirs(): { sessions: string; state: string; day: string } {
  const root = mkdtempSync(join(tmpdir(), 'rollout-otel-watch-'));
  const sessions = join(root, 'sessions');
  const day = join(sessions, '2026', '03', '01');
  mkdirSync(day, { recursive: true });
  return { sessions, state: join(root, 'state'), day };
}

describe('watch: live export of growing rollouts', () => {
  test('turns arrive as they finish; after a SIGKILL and a restart, live equals backfill span for span', async () => {
    const { sessions, state, day } = dirs();
    const lines = readFileSync(fixture(SOULPASS), 'utf8').split('\n').filter((l) => l !== '');
    const ends = turnEnds(lines);
    const file = join(day, NAME);
    const r = await startReceiver();
    let w = startWatch(sessions, state, r.url);
    try {
      writeFileSync(file, '');
      // Up to the end of the first turn: its spans arrive while the session is still open.
      for (const l of lines.slice(0, ends[0]! + 1)) appendFileSync(file, `${l}\n`);
      await until('the first turn', () => r.spans().some((s) => s.name.startsWith('handle_conversation_turn')));
      assert.ok(!r.spans().some((s) => s.name.startsWith('invoke_agent')), 'the thread span waits for the session to end');

      // A half-written line is waited for, not parsed.
      const next = lines[ends[0]! + 1]!;
      appendFileSync(file, next.slice(0, 20));
      await sleep(400);
      appendFileSync(file, `${next.slice(20)}\n`);

      // Up to the third turn's end, then SIGKILL before the watcher can say anything more.
      for (const l of lines.slice(ends[0]! + 2, ends[2]! + 1)) appendFileSync(file, `${l}\n`);
      await until('the third turn', () => r.spans().filter((s) => s.name.startsWith('handle_conversation_turn')).length >= 3);
      w.proc.kill('SIGKILL');
      await w.exited;
      for (const l of lines.slice(ends[2]! + 1, ends[5]! + 1)) appendFileSync(file, `${l}\n`);

      w = startWatch(sessions, state, r.url);
      for (const l of lines.slice(ends[5]! + 1)) appendFileSync(file, `${l}\n`);
      await until('the thread span after the idle timeout', () => r.spans().some((s) => s.name.startsWith('invoke_agent codex')));
      await sleep(500);
      w.proc.kill('SIGTERM');
      assert.equal(await w.exited, 0, w.stderr());

      const live = r.spans();
      const expected = await backfill(file);
      assert.deepEqual([...ids(live)].sort(), [...ids(expected)].sort(), 'the same spans, ids and parents as a backfill of the final file');
      assert.ok(!/invalid-json|truncated/.test(w.stderr()), w.stderr());
      // Little repeated: the restart sends only what the first run had not delivered, plus the updated turn.
      assert.ok(live.length < expected.length * 1.5, `${live.length} spans sent live for ${expected.length}`);
      assert.match(w.stderr(), /idle for \d+s; session closed \(trace [0-9a-f]{32}/);
    } finally {
      w.proc.kill('SIGKILL');
      await r.close();
    }
  });

  test('--no-notify (network file systems): by listing alone, a new session, its turns and a turn appended after it closed all arrive', async () => {
    const { sessions, state, day } = dirs();
    const lines = readFileSync(fixture(SOULPASS), 'utf8').split('\n').filter((l) => l !== '');
    const ends = turnEnds(lines);
    const file = join(day, NAME);
    const r = await startReceiver();
    const w = startWatch(sessions, state, r.url, ['--no-notify']);
    const turns = () => r.spans().filter((s) => s.name.startsWith('handle_conversation_turn')).length;
    try {
      await until('the watcher to start', () => /change notification off \(--no-notify\)/.test(w.stderr()));
      writeFileSync(file, lines.slice(0, ends[0]! + 1).map((l) => `${l}\n`).join(''));
      await until('the first turn of a new file', () => turns() === 1);
      appendFileSync(file, lines.slice(ends[0]! + 1, ends[ends.length - 2]! + 1).map((l) => `${l}\n`).join(''));
      await until('the thread span after the idle timeout', () => r.spans().some((s) => s.name.startsWith('invoke_agent codex')));
      appendFileSync(file, lines.slice(ends[ends.length - 2]! + 1).map((l) => `${l}\n`).join(''));
      await until('the turn appended after it closed', () => turns() === ends.length, 20_000);
      w.proc.kill('SIGTERM');
      assert.equal(await w.exited, 0, w.stderr());
      assert.doesNotMatch(w.stderr(), /directories watched/);
    } finally {
      w.proc.kill('SIGKILL');
      await r.close();
    }
  });

  test('a collector outage: the watcher says so, holds, and re-sends from the files when it is back', async () => {
    const { sessions, state, day } = dirs();
    const file = join(day, NAME);
    writeFileSync(file, readFileSync(fixture('xeus-0.129.0-tui-websearch.jsonl')));
    const r = await startReceiver({ failFirst: 3, failStatus: 400 });
    const w = startWatch(sessions, state, r.url);
    try {
      await until('the thread span', () => r.spans().some((s) => s.name.startsWith('invoke_agent codex')), 30_000);
      w.proc.kill('SIGINT');
      assert.equal(await w.exited, 0, w.stderr());
      // once per outage, with its cause; once when a request really succeeded (three requests failed)
      const lines = (re: RegExp) => w.stderr().split('\n').filter((l) => re.test(l)).length;
      assert.equal(lines(/is not accepting spans \(HTTP 400/), 1, w.stderr());
      assert.equal(lines(/is accepting spans again/), 1, w.stderr());
      assert.deepEqual([...ids(r.spans())].sort(), [...ids(await backfill(file))].sort());
    } finally {
      w.proc.kill('SIGKILL');
      await r.close();
    }
  });

  test('a restart after everything was delivered sends nothing again; a moved file is followed', async () => {
    const { sessions, state, day } = dirs();
    const file = join(day, NAME);
    writeFileSync(file, readFileSync(fixture('xeus-0.129.0-tui-websearch.jsonl')));
    const r = await startReceiver();
    let w = startWatch(sessions, state, r.url);
    try {
      await until('the thread span', () => r.spans().some((s) => s.name.startsWith('invoke_agent codex')));
      await sleep(300);
      w.proc.kill('SIGTERM');
      assert.equal(await w.exited, 0);
      const sent = r.spans().length;
      assert.ok(existsSync(state) && readdirSync(state).some((f) => f.startsWith('delivered-')), 'the delivery ledger was written');

      w = startWatch(sessions, state, r.url);
      await until('the watcher to follow the file', () => /following 1 rollout file/.test(w.stderr()));
      const archived = join(sessions, 'archived');
      mkdirSync(archived);
      renameSync(file, join(archived, NAME));
      await until('the move to be seen', () => /moved to/.test(w.stderr()));
      await sleep(500);
      assert.equal(r.spans().length, sent, 'nothing was sent twice');
      w.proc.kill('SIGTERM');
      assert.equal(await w.exited, 0);
    } finally {
      w.proc.kill('SIGKILL');
      await r.close();
    }
  });

  test('a file rewritten in place is read again from its start', async () => {
    const { sessions, state, day } = dirs();
    const file = join(day, NAME);
    writeFileSync(file, readFileSync(fixture('xeus-0.129.0-tui-websearch.jsonl')));
    const r = await startReceiver();
    const w = startWatch(sessions, state, r.url);
    try {
      await until('the first session', () => r.spans().some((s) => s.name.startsWith('invoke_agent codex')));
      const other = fixture('localpush-sanitized-0.104-small.jsonl');
      writeFileSync(file, readFileSync(other));
      await until('the rewrite to be seen', () => /was rewritten/.test(w.stderr()));
      const expected = await backfill(other);
      await until('the new content\'s spans', () => [...ids(expected)].every((id) => ids(r.spans()).has(id)));
      w.proc.kill('SIGTERM');
      assert.equal(await w.exited, 0);
    } finally {
      w.proc.kill('SIGKILL');
      await r.close();
    }
  });

  test('a trace bundle written while watched: sent whole once still; grown after that, sent whole again into a trace of its own', async () => {
    const { sessions, state } = dirs();
    const source = fixture('bundles/trace-7f0c1e2a-3b4d-4c5e-8f60-718293a4b5c6-019e1a2b-0000-7000-8000-00000000a001');
    const bundle = join(sessions, 'traces', 'trace-7f0c1e2a-3b4d-4c5e-8f60-718293a4b5c6-019e1a2b-0000-7000-8000-00000000a001');
    cpSync(source, bundle, { recursive: true });
    const log = readFileSync(join(source, 'trace.jsonl'), 'utf8').split('\n').filter((l) => l !== '');
    const half = Math.floor(log.length / 2);
    writeFileSync(join(bundle, 'trace.jsonl'), `${log.slice(0, half).join('\n')}\n`);
    const r = await startReceiver();
    const w = startWatch(sessions, state, r.url);
    const untraced = (spans: ReceivedSpan[]) => new Set(spans.map((s) => `${s.spanId}<-${s.parentSpanId} ${s.name}`));
    try {
      await until('the first half', () => r.spans().length > 0);
      await sleep(300);
      const first = r.spans()[0]!.traceId;
      const firstCount = r.spans().length;
      appendFileSync(join(bundle, 'trace.jsonl'), `${log.slice(half).join('\n')}\n`);
      const expected = await backfill(source);
      await until('the whole bundle', () => r.spans().length >= firstCount + expected.length);
      await sleep(300);
      w.proc.kill('SIGTERM');
      assert.equal(await w.exited, 0, w.stderr());
      const later = r.spans().filter((s) => s.traceId !== first);
      assert.equal(new Set(later.map((s) => s.traceId)).size, 1, 'the grown bundle is one new trace');
      assert.deepEqual([...untraced(later)].sort(), [...untraced(expected)].sort(), 'the new trace holds the whole bundle');
      for (const trace of [first, later[0]!.traceId]) {
        const spans = r.spans().filter((s) => s.traceId === trace);
        assert.equal(new Set(spans.map((s) => s.spanId)).size, spans.length, 'each span id once in its trace');
        assert.equal(spans.filter((s) => s.parentSpanId === '').length, 1, 'one root');
      }
      assert.match(w.stderr(), /following bundle/);
    } finally {
      w.proc.kill('SIGKILL');
      await r.close();
    }
  });

  test('bad flags are usage errors', async () => {
    const run = await runCli(['watch', '--idle-timeout', 'soon']);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /--idle-timeout must be a duration such as 2s, 90s or 10m/);
  });
});

