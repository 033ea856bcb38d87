import assert from 'node:assert/strict';
import { afterAll, describe, test } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { BIN, fixture, ROOT, runCli } from './support/cli.ts';
import { getTrace, searchTraces, useJaeger, type JaegerHandle, type V1Trace } from './support/jaeger.ts';
import { startReceiver, type ReceivedSpan } from './support/otlp-receiver.ts';

// One faithful copy: every way of reaching, re-reading and following a session delivers each span
// once, in one version, with one root per trace; a second export sends nothing.

const SOULPASS = readFileSync(fixture('soulpass-0.122.0-tui-compaction-aborts.jsonl'), 'utf8').split('\n').filter((l) => l !== '');
const XEUS = fixture('xeus-0.129.0-tui-websearch.jsonl');
const NAME = 'rollout-2026-03-01T10-00-00-019c0000-0000-7000-8000-00000000abcd.jsonl';
const NO_HOME = join(tmpdir(), 'rollout-otel-no-home');
/** a line inside a turn, about half way: what an export sees of a session still being written */
const MIDDLE = (() => {
  const ends = SOULPASS.flatMap((l, i) => (/"type":"(task_complete|turn_aborted)"/.test(l) ? [i] : []));
  return ends[Math.floor(ends.length / 2)]! + 3;
})();

interface Home {
  root: string;
  state: string;
  /** the session as Codex writes it, under sessions/YYYY/MM/DD */
  file: string;
  /** what the session still has to write */
  rest: string[];
}

let homes = 0;
/** A Codex home holding the session under an id of its own, so that no two tests share a trace. */
function codexHome(cut = SOULPASS.length): Home {
  const root = mkdtempSync(join(tmpdir(), 'rollout-otel-once-'));
  const day = join(root, 'sessions', '2026', '03', '01');
  mkdirSync(day, { recursive: true });
  const file = join(day, NAME);
  const id = `019db04b-0312-7661-8759-${(process.pid * 1000 + homes++).toString(16).padStart(12, '0')}`;
  const lines = SOULPASS.map((l) => l.replaceAll(SOULPASS_ID, id));
  writeFileSync(file, `${lines.slice(0, cut).join('\n')}\n`);
  return { root, state: join(root, 'state'), file, rest: lines.slice(cut) };
}

/** The session goes on to its end. */
const grow = (h: Home) => appendFileSync(h.file, `${h.rest.join('\n')}\n`);
const SOULPASS_ID = '019db04b-0312-7661-8759-f0642fa6cd46';

let service = 'codex';
const env = (endpoint: string, h: { state: string }) => ({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, XDG_STATE_HOME: h.state, CODEX_HOME: NO_HOME, OTEL_SERVICE_NAME: service });

async function exportOk(args: string[], e: Record<string, string>): Promise<{ stdout: string; stderr: string }> {
  const run = await runCli(['export', ...args], e);
  assert.equal(run.code, 0, run.stderr);
  return run;
}

/** Every span arrived once, and each trace is whole: one root, every parent present. */
function assertFaithful(spans: ReceivedSpan[]): void {
  const seen = new Set<string>();
  for (const s of spans) {
    const key = `${s.traceId}/${s.spanId}`;
    assert.ok(!seen.has(key), `${s.name} ${key} was sent twice`);
    seen.add(key);
  }
  for (const trace of new Set(spans.map((s) => s.traceId))) {
    const of = spans.filter((s) => s.traceId === trace);
    const ids = new Set(of.map((s) => s.spanId));
    assert.equal(of.filter((s) => s.parentSpanId === '').length, 1, `trace ${trace}: one root`);
    for (const s of of) if (s.parentSpanId) assert.ok(ids.has(s.parentSpanId), `${s.name}: its parent is in trace ${trace}`);
  }
}

/** Strips what may rightly differ between two copies of a trace: nothing. */
const wire = (spans: ReceivedSpan[]) => spans.map((s) => JSON.stringify(s, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))).sort();

interface Watch {
  proc: ChildProcess;
  stderr(): string;
  stop(): Promise<number | null>;
}

function startWatch(h: Home, endpoint: string, extra: string[] = []): Watch {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OTEL_')));
  const proc = spawn(process.execPath, [BIN, 'watch', join(h.root, 'sessions'), '--idle-timeout', '2s', '--poll', '100ms', ...extra], {
    env: { ...base, ...env(endpoint, h), OTEL_EXPORTER_OTLP_TIMEOUT: '2000' },
    cwd: ROOT,
  });
  let err = '';
  proc.stderr?.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((resolve) => proc.on('close', (code) => resolve(code)));
  return {
    proc,
    stderr: () => err,
    stop: async () => {
      proc.kill('SIGTERM');
      return exited;
    },
  };
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/**
 * The scenarios, each against one OTLP endpoint; `count` says how many spans that endpoint has
 * taken so far (to know when the watcher is done). Each returns what it expects the backend to hold.
 */
const scenarios: Record<string, (endpoint: string, count: () => Promise<number>) => Promise<{ sessions: number; spans: number }>> = {
  async 'the same file by absolute and by relative path'(endpoint) {
    const h = codexHome();
    const first = await exportOk([h.file], env(endpoint, h));
    const again = await exportOk([relative(ROOT, h.file)], env(endpoint, h));
    assert.match(again.stderr, /1 already delivered \(not sent again; --force sends them\)/);
    assert.equal(again.stdout, '');
    return { sessions: 1, spans: Number(/ (\d+) spans /.exec(first.stdout)![1]) };
  },

  async 'a session and its copy in archived_sessions'(endpoint) {
    const h = codexHome();
    mkdirSync(join(h.root, 'archived_sessions'));
    copyFileSync(h.file, join(h.root, 'archived_sessions', NAME));
    const both = await exportOk([join(h.root, 'sessions'), join(h.root, 'archived_sessions')], env(endpoint, h));
    assert.match(both.stderr, /1 session read, .*1 other copy of a session skipped/);
    const archived = await exportOk([join(h.root, 'archived_sessions')], env(endpoint, h));
    assert.match(archived.stderr, /1 already delivered/);
    return { sessions: 1, spans: Number(/ (\d+) spans /.exec(both.stdout)![1]) };
  },

  async 'an export while the session is written, then another once it is done'(endpoint) {
    const h = codexHome(MIDDLE);
    const mid = await exportOk([h.file], env(endpoint, h));
    grow(h);
    const done = await exportOk([h.file], env(endpoint, h));
    const [a, b] = [mid, done].map((r) => /^([0-9a-f]{32}) +(\d+) spans/.exec(r.stdout)!);
    assert.notEqual(a![1], b![1], 'what followed is a trace of its own');
    const third = await exportOk([h.file], env(endpoint, h));
    assert.match(third.stderr, /1 already delivered/);
    return { sessions: 2, spans: Number(a![2]) + Number(b![2]) };
  },

  async 'an export without content, then one with it'(endpoint) {
    const h = codexHome();
    const plain = await exportOk([h.file], env(endpoint, h));
    const content = await exportOk(['--capture-content', h.file], env(endpoint, h));
    assert.equal(content.stdout, '');
    assert.match(content.stderr, /1 session was delivered to \S+ before without captured content; not sent again, as the backend would then hold each of their spans twice: it keeps showing them without content/);
    return { sessions: 1, spans: Number(/ (\d+) spans /.exec(plain.stdout)![1]) };
  },

  async 'an export, then a watch of the same sessions, which go on'(endpoint, count) {
    const h = codexHome(MIDDLE);
    const exported = await exportOk([h.file], env(endpoint, h));
    const first = Number(/ (\d+) spans /.exec(exported.stdout)![1]);
    const w = startWatch(h, endpoint);
    try {
      await until('the watcher to follow the file', () => /following 1 rollout file/.test(w.stderr()));
      await sleep(2500);
      assert.equal(await count(), first, 'the watcher sent nothing that was exported');
      grow(h);
      await until('the session to be closed again', () => /idle for \d+s; session closed/.test(w.stderr()));
      await sleep(500);
      assert.equal(await w.stop(), 0, w.stderr());
      assert.match(w.stderr(), /grew after its session was closed: what follows goes into a trace of its own \(segment 1\)/);
    } finally {
      w.proc.kill('SIGKILL');
    }
    return { sessions: 2, spans: await count() };
  },

  async 'a watched session idle past the timeout that then goes on'(endpoint, count) {
    const h = codexHome(MIDDLE);
    const w = startWatch(h, endpoint);
    try {
      await until('the idle close', () => /idle for \d+s; session closed/.test(w.stderr()));
      await until('its delivery', () => /delivered \d+ spans? \(trace/.test(w.stderr().split('session closed')[1] ?? ''));
      grow(h);
      await until('the second close', () => w.stderr().split('idle for').length === 3);
      await sleep(500);
      assert.equal(await w.stop(), 0, w.stderr());
    } finally {
      w.proc.kill('SIGKILL');
    }
    return { sessions: 2, spans: await count() };
  },
};

describe('exactly once, into an OTLP receiver', () => {
  for (const [name, run] of Object.entries(scenarios)) {
    test(`${name}: each span once, one root per trace`, async () => {
      const r = await startReceiver();
      try {
        const expected = await run(r.url, async () => r.spans().length);
        const spans = r.spans();
        assertFaithful(spans);
        assert.equal(spans.length, expected.spans);
        assert.equal(new Set(spans.map((s) => s.traceId)).size, expected.sessions);
      } finally {
        await r.close();
      }
    });
  }

  test('spans do not depend on the path spelling, nor on sessions/ vs archived_sessions/', async () => {
    const h = codexHome();
    mkdirSync(join(h.root, 'archived_sessions'));
    copyFileSync(h.file, join(h.root, 'archived_sessions', NAME));
    const got: ReceivedSpan[][] = [];
    for (const path of [h.file, relative(ROOT, h.file), join(h.root, 'archived_sessions', NAME)]) {
      const r = await startReceiver();
      try {
        await exportOk([path], env(r.url, { state: mkdtempSync(join(tmpdir(), 'rollout-otel-state-')) }));
        got.push(r.spans());
      } finally {
        await r.close();
      }
    }
    assert.deepEqual(wire(got[1]!), wire(got[0]!), 'relative = absolute');
    assert.deepEqual(wire(got[2]!), wire(got[0]!), 'archived = sessions');
    assert.equal(got[0]![0]!.attributes['rollout.source.path'], `sessions/2026/03/01/${NAME}`);
  });

  test('files that record no thread id get one from their content: copies agree, sessions differ', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rollout-otel-noid-'));
    const strip = (f: string) => readFileSync(f, 'utf8').split('\n').slice(1).join('\n');
    writeFileSync(join(dir, 'a.jsonl'), strip(XEUS));
    mkdirSync(join(dir, 'copy'));
    writeFileSync(join(dir, 'copy', 'a-renamed.jsonl'), strip(XEUS));
    writeFileSync(join(dir, 'b.jsonl'), strip(fixture('solsmile-0.142.5-vscode-abort-rollback.jsonl')));
    const r = await startReceiver();
    try {
      const run = await runCli(['export', join(dir, 'a.jsonl'), join(dir, 'copy', 'a-renamed.jsonl'), join(dir, 'b.jsonl')], env(r.url, { state: join(dir, 'state') }));
      assert.equal(run.code, 0, run.stderr);
      const traces = run.stdout.trim().split('\n').map((l) => l.split(/\s+/)[0]);
      assert.equal(traces[0], traces[1], 'a copy is the same session');
      assert.notEqual(traces[0], traces[2], 'another session is another trace');
      const agents = new Set(r.spans().flatMap((s) => (s.attributes['gen_ai.agent.id'] === undefined ? [] : [s.attributes['gen_ai.agent.id']])));
      assert.equal(agents.size, 2);
      for (const a of agents) assert.match(String(a), /^file-[0-9a-f]{32}$/);
    } finally {
      await r.close();
    }
  });

  test('--force sends again what the ledger says was delivered', async () => {
    const h = codexHome();
    const r = await startReceiver();
    try {
      await exportOk([h.file], env(r.url, h));
      const n = r.spans().length;
      await exportOk([h.file], env(r.url, h));
      assert.equal(r.spans().length, n);
      await exportOk(['--force', h.file], env(r.url, h));
      assert.equal(r.spans().length, 2 * n);
      assert.deepEqual(wire(r.spans().slice(n)), wire(r.spans().slice(0, n)), 'the same spans again');
    } finally {
      await r.close();
    }
  });
});

/** Jaeger's view of a trace: each span id once, one root, every parent found, no warnings. */
function assertWhole(trace: V1Trace): void {
  const ids = new Set(trace.spans.map((s) => s.spanID));
  assert.equal(ids.size, trace.spans.length, `trace ${trace.traceID}: no duplicate span ids`);
  assert.equal(trace.spans.filter((s) => !s.references.some((r) => r.refType === 'CHILD_OF')).length, 1, `trace ${trace.traceID}: one root`);
  for (const s of trace.spans) {
    for (const r of s.references.filter((x) => x.refType === 'CHILD_OF')) assert.ok(ids.has(r.spanID), `${s.operationName}: parent resolved`);
    assert.equal(s.warnings, null, `${s.operationName}: no Jaeger warnings (${s.warnings?.join('; ')})`);
  }
  assert.equal(trace.warnings, null);
}

describe('exactly once, into a real Jaeger', () => {
  let jaeger: JaegerHandle | undefined;
  let skip: string | undefined;
  useJaeger((j, why) => {
    jaeger = j;
    skip = why;
  });
  afterAll(() => {
    service = 'codex';
  });

  test('its UI port is not taken for OTLP: nothing is claimed, and the summary says where OTLP goes', async (context) => {
    if (!jaeger) return context.skip(skip);
    const h = codexHome();
    const run = await runCli(['export', '-e', jaeger.queryUrl, h.file], env(jaeger.queryUrl, h));
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, /delivered 0 spans .*answered 200 with text\/html that is not an OTLP response; nothing was stored: is this the OTLP port\? \(Jaeger takes OTLP\/HTTP on 4318/);
    assert.doesNotMatch(run.stderr, /<!DOCTYPE|<html/i);
    // and nothing was noted as delivered: the same export to the OTLP port sends it all
    const right = await runCli(['export', h.file], env(jaeger.otlpEndpoint, h));
    assert.equal(right.code, 0, right.stderr);
    assert.match(right.stdout, / 253 spans /);
  });

  let n = 0;
  for (const [name, run] of Object.entries(scenarios)) {
    test(`${name}: one root, each span id once, no Jaeger warnings`, async (context) => {
      if (!jaeger) return context.skip(skip);
      const j = jaeger;
      // each scenario under a service of its own, so that its traces are found by it
      service = `exactly-once-${process.pid}-${n++}`;
      const traces = async () => {
        const found = await searchTraces(j.queryUrl, service, new Date('2020-01-01'), new Date('2030-01-01'));
        const ids = new Set(found.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans.map((s) => s.traceId))));
        return (await Promise.all([...ids].map((id) => getTrace(j.queryUrl, id)))).filter((x): x is V1Trace => x !== undefined);
      };
      const stored = async () => (await traces()).reduce((a, tr) => a + tr.spans.length, 0);
      const expected = await run(j.otlpEndpoint, stored);
      await until(`${expected.spans} spans in Jaeger`, async () => (await stored()) >= expected.spans);
      await sleep(1000);
      const got = await traces();
      assert.equal(got.length, expected.sessions);
      assert.equal(got.reduce((a, tr) => a + tr.spans.length, 0), expected.spans);
      for (const trace of got) {
        assertWhole(trace);
        for (const s of trace.spans) assert.equal(trace.processes[s.processID]?.serviceName, service);
      }
    });
  }
});
