import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { spawn } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { BIN, fixture, ROOT, runCli } from './support/cli.ts';
import { startReceiver, type Receiver } from './support/otlp-receiver.ts';

// A mixed sessions home, as a user has one: Codex rollouts by day, an archived one, a zstd archive,
// a trace bundle, generic logs (two of them written "recently", relative to now), and a stray file.
const XEUS = 'xeus-0.129.0-tui-websearch.jsonl';
const XEUS_ID = '019e06e6-0c4e-72d2-a0ab-34efa4c2613d';
const SOLSMILE = 'solsmile-0.142.5-vscode-abort-rollback.jsonl';
const SOLSMILE_ID = '019f2241-882c-7f02-83c0-98d016ea60da';
const COMPACTION = 'localpush-sanitized-0.104-compaction.jsonl';
const COMPACTION_ID = '019c8a59-e9dd-71f0-9ae3-4079fe9726a9';
const ZST = 'rollout-2026-05-08T09-23-20-019e06e6-0c4e-72d2-a0ab-34efa4c2613d.jsonl.zst';
const BUNDLE = 'trace-2b3c4d5e-6f70-4812-9a3b-4c5d6e7f8091-019e2000-0000-7000-8000-00000000a002';
const HOUR = 3_600_000;

interface Listed {
  id: string;
  agent: string;
  format: string;
  start: string;
  end: string;
  cwd: string | null;
  title: string | null;
  turns: number | null;
  tokens: { input: number; output: number; total: number } | null;
  path: string;
}

/** A generic log of one turn, `ago` ms before now. */
function genericLog(id: string, agent: string, cwd: string, ago: number): string {
  const t = (ms: number) => new Date(Date.now() - ago + ms).toISOString();
  return [
    { type: 'session_meta', seq: 0, timestamp: t(0), item: { id, agent, cwd, model: 'gpt-5.1' } },
    { type: 'user_message', seq: 1, timestamp: t(1000), item: { text: `task of ${id}` } },
    { type: 'assistant_message', seq: 2, timestamp: t(3000), item: { text: 'done', usage: { input_tokens: 100, output_tokens: 20 } } },
    { type: 'assistant_message', seq: 3, timestamp: t(5000), item: { text: 'really done', usage: { input_tokens: 130, output_tokens: 5 } } },
  ].map((l) => JSON.stringify(l)).join('\n') + '\n';
}

function makeHome() {
  const home = mkdtempSync(join(tmpdir(), 'rollout-otel-home-'));
  const codex = join(home, '.codex');
  const day = join(codex, 'sessions', '2026', '05', '08');
  const other = join(codex, 'sessions', '2026', '07', '02');
  const archived = join(codex, 'archived_sessions');
  const work = join(codex, 'sessions', 'agents');
  for (const d of [day, other, archived, work]) mkdirSync(d, { recursive: true });
  const paths = {
    xeus: join(day, `rollout-2026-05-08T09-23-20-${XEUS_ID}.jsonl`),
    solsmile: join(other, `rollout-2026-07-02T09-55-54-${SOLSMILE_ID}.jsonl`),
    compaction: join(archived, `rollout-2026-02-23T11-54-34-${COMPACTION_ID}.jsonl`),
    zst: join(archived, ZST),
    bundle: join(codex, 'sessions', BUNDLE),
    recent: join(work, 'recent.jsonl'),
    older: join(work, 'older.jsonl'),
  };
  copyFileSync(fixture(XEUS), paths.xeus);
  copyFileSync(fixture(SOLSMILE), paths.solsmile);
  copyFileSync(fixture(COMPACTION), paths.compaction);
  copyFileSync(fixture(`archive/${ZST}`), paths.zst);
  cpSync(fixture(`bundles/${BUNDLE}`), paths.bundle, { recursive: true });
  writeFileSync(paths.recent, genericLog('recent-run', 'fixbot', '/work/proj/api', HOUR));
  writeFileSync(paths.older, genericLog('older-run', 'helper', '/work/other', 3 * 24 * HOUR));
  writeFileSync(join(work, 'notes.jsonl'), '{"hello":"not a rollout"}\n');
  writeFileSync(join(codex, 'session_index.jsonl'), `${JSON.stringify({ id: SOLSMILE_ID, thread_name: 'grant application', updated_at: '2026-07-02T10:00:00Z' })}\n`);
  // the home is found through HOME and CODEX_HOME, as a user's is; times print in UTC
  const env: Record<string, string> = { HOME: home, CODEX_HOME: codex, TZ: 'UTC' };
  return { home, codex, env, paths };
}

const jsonLines = (text: string) => text.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);

/** The last cumulative token count a Codex rollout records, read independently of the decoder. */
function lastTotalTokens(file: string): number {
  let total = -1;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.includes('"token_count"')) continue;
    const info = JSON.parse(line).payload?.info;
    if (info?.total_token_usage) total = info.total_token_usage.total_tokens;
  }
  return total;
}

describe('list', () => {
  let h: ReturnType<typeof makeHome>;
  beforeAll(() => {
    h = makeHome();
  });

  test('every session under the homes, newest first, with its facts; other files skipped and counted', async () => {
    const run = await runCli(['list', '--json'], h.env);
    assert.equal(run.code, 0, run.stderr);
    const listed = jsonLines(run.stdout) as unknown as Listed[];
    const ids = listed.map((l) => l.id);
    // the live xeus file and its zstd archive are both listed: they are two files
    assert.deepEqual(new Set(ids), new Set([XEUS_ID, SOLSMILE_ID, COMPACTION_ID, '019e2000-0000-7000-8000-00000000a002', 'recent-run', 'older-run']));
    assert.equal(listed.length, 7);
    const starts = listed.map((l) => Date.parse(l.start));
    assert.deepEqual(starts, [...starts].sort((a, b) => b - a), 'newest first');
    assert.match(run.stderr, /7 sessions under .*; 1 other \.jsonl file skipped \(not a rollout\)/);

    const xeus = listed.find((l) => l.path === h.paths.xeus)!;
    const meta = JSON.parse(readFileSync(h.paths.xeus, 'utf8').split('\n')[0]!).payload;
    assert.equal(xeus.agent, 'codex');
    assert.equal(xeus.format, 'codex');
    assert.equal(xeus.start, new Date(meta.timestamp).toISOString());
    assert.equal(xeus.cwd, meta.cwd);
    assert.equal(xeus.tokens?.total, lastTotalTokens(h.paths.xeus));
    assert.equal(xeus.title, 'what are my rate limits rn');
    const lines = readFileSync(h.paths.xeus, 'utf8').trim().split('\n');
    assert.equal(xeus.end, new Date(JSON.parse(lines[lines.length - 1]!).timestamp).toISOString());
    const zst = listed.find((l) => l.path === h.paths.zst)!;
    assert.deepEqual({ ...zst, path: '' }, { ...xeus, path: '', bytes: (zst as unknown as { bytes: number }).bytes }, 'the archive lists as its plain file does');

    assert.equal(listed.find((l) => l.id === SOLSMILE_ID)!.title, 'grant application', "Codex's thread name wins over the first prompt");
    const recent = listed.find((l) => l.id === 'recent-run')!;
    assert.equal(recent.agent, 'fixbot');
    assert.deepEqual(recent.tokens && [recent.tokens.input, recent.tokens.output, recent.tokens.total], [230, 25, 255]);
    assert.equal(recent.turns, 1);
    assert.equal(listed.find((l) => l.format === 'bundle')!.cwd, '/home/dev/repo');
  });

  test("turns are the export's, for every real session in the fixtures", async () => {
    const files = [XEUS, SOLSMILE, COMPACTION, 'soulpass-0.122.0-tui-compaction-aborts.jsonl', 'rave-era-0.125.0-tui-windows-apply-patch.jsonl',
      'acidicsoil-viewer-legacy-2025-09-10.jsonl', 'edgerunner-0.144.1-tui-codemode-abort.jsonl', 'generic/agent-run.jsonl'].map(fixture);
    const listed = jsonLines((await runCli(['list', '--json', ...files], h.env)).stdout) as unknown as Listed[];
    const exported = jsonLines((await runCli(['export', '--dry-run', '--json', ...files], h.env)).stdout).filter((o) => o.type === 'session');
    assert.equal(listed.length, files.length);
    for (const l of listed) {
      const e = exported.find((x) => x.path === l.path)!;
      assert.equal(l.turns, e.turns, l.path);
      assert.equal(l.id, e.sessionId, l.path);
    }
  });

  test('text: one aligned line per session, nothing else on stdout, no progress bar off a terminal', async () => {
    const run = await runCli(['list'], h.env);
    assert.equal(run.code, 0, run.stderr);
    const rows = run.stdout.trimEnd().split('\n');
    assert.equal(rows.length, 7);
    const xeus = rows.find((r) => r.includes(XEUS_ID) && r.includes('.jsonl  '))!;
    assert.match(xeus, /^2026-05-08 09:23 +codex +019e06e6-0c4e-72d2-a0ab-34efa4c2613d +C:\\Users\\Divik +1 turn +34k tokens +\$0\.0860 +~\/\.codex\/sessions\/2026\/05\/08\/rollout-.*\.jsonl +"what are my rate limits rn"$/);
    assert.equal(new Set(rows.map((r) => r.indexOf(' codex ') >= 0 ? r.indexOf('019') : -1).filter((i) => i > 0)).size, 1, 'the id column lines up');
    assert.doesNotMatch(run.stderr, /\[|\u001b/, 'no bar, no escape codes');
  });

  // needs util-linux script(1) for a terminal
  test.skipIf(process.platform !== 'linux' || !existsSync('/usr/bin/script'))('a progress bar on a terminal only', async () => {
    const many = mkdtempSync(join(tmpdir(), 'rollout-otel-many-'));
    for (let i = 0; i < 60; i++) copyFileSync(fixture(XEUS), join(many, `s${i}.jsonl`));
    // script(1) runs the command on a pseudo-terminal: stderr is a TTY there
    const onTty = await new Promise<string>((resolve, reject) => {
      const child = spawn('/usr/bin/script', ['-qec', `"${process.execPath}" "${BIN}" list "${many}" > /dev/null`, '/dev/null'], { env: { ...process.env, ...h.env } });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.on('error', reject);
      child.on('close', () => resolve(out));
    });
    assert.match(onTty, /reading \[.*\] \d+\/60 files/);
    const piped = await runCli(['list', many], h.env);
    assert.equal(piped.code, 0);
    assert.doesNotMatch(piped.stderr, /reading \[/);
    assert.equal(piped.stdout.trim().split('\n').length, 60);
  });

  test('--since and --until: durations, dates, today and yesterday', async () => {
    const ids = async (...args: string[]) => {
      const run = await runCli(['list', '--json', ...args], h.env);
      assert.equal(run.code, 0, run.stderr);
      return (jsonLines(run.stdout) as unknown as Listed[]).map((l) => l.id).sort();
    };
    assert.deepEqual(await ids('--since', '2d'), ['recent-run']);
    assert.deepEqual(await ids('--since', '4d'), ['older-run', 'recent-run']);
    assert.deepEqual(await ids('--since', '80h', '--until', '1d'), ['older-run']);
    assert.deepEqual(await ids('--since', '2026-07-01', '--until', '2026-07-02'), [SOLSMILE_ID], 'a bare --until date includes its day');
    assert.deepEqual(await ids('--until', '2026-03-01'), [COMPACTION_ID]);
    const today = await ids('--since', 'today');
    const recentStart = Date.now() - HOUR;
    assert.equal(today.includes('recent-run'), new Date(recentStart).getUTCDate() === new Date().getUTCDate());
    assert.deepEqual(await ids('--since', 'yesterday', '--agent', 'helper'), []);
  });

  test('--agent, --cwd and --session pick sessions; a bad flag value is a usage error', async () => {
    const ids = async (...args: string[]) => (jsonLines((await runCli(['list', '--json', ...args], h.env)).stdout) as unknown as Listed[]).map((l) => l.id).sort();
    assert.deepEqual(await ids('--agent', 'fixbot'), ['recent-run']);
    assert.deepEqual(await ids('--agent', 'fixbot,helper'), ['older-run', 'recent-run']);
    assert.deepEqual(await ids('--agent', 'bundle'), ['019e2000-0000-7000-8000-00000000a002']);
    assert.deepEqual(await ids('--cwd', '/work/proj'), ['recent-run']);
    assert.deepEqual(await ids('--cwd', '/work/pro'), [], 'a directory, not a string prefix');
    assert.deepEqual(await ids('--session', '019f22'), [SOLSMILE_ID]);
    const bad = await runCli(['list', '--since', 'last tuesday'], h.env);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^rollout-otel: --since must be a duration .*got "last tuesday"\n$/);
  });

  test('bounded reading: a line too long to hold is passed over, a file of no lines is no rollout', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rollout-otel-long-'));
    const lines = readFileSync(fixture(XEUS), 'utf8').trimEnd().split('\n');
    const long = JSON.stringify({ timestamp: '2026-05-08T09:23:30.000Z', type: 'response_item', payload: { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'x'.repeat(20 * 1024 * 1024) }] } });
    writeFileSync(join(dir, 'long.jsonl'), [...lines.slice(0, 5), long, ...lines.slice(5)].join('\n') + '\n');
    writeFileSync(join(dir, 'blob.jsonl'), Buffer.alloc(8 * 1024 * 1024, 'a'));
    const run = await runCli(['list', '--json', dir], h.env);
    assert.equal(run.code, 0, run.stderr);
    const [entry, ...rest] = jsonLines(run.stdout) as unknown as Listed[];
    assert.equal(rest.length, 0);
    const plain = (jsonLines((await runCli(['list', '--json', fixture(XEUS)], h.env)).stdout) as unknown as Listed[])[0]!;
    assert.deepEqual([entry!.turns, entry!.tokens?.total, entry!.end, entry!.title], [plain.turns, plain.tokens?.total, plain.end, plain.title]);
    assert.match(run.stderr, /1 other \.jsonl file skipped \(not a rollout\)/);
  });

  test('a path that does not exist: named, exit 3; no home at all: said, exit 0', async () => {
    const run = await runCli(['list', join(h.home, 'nope'), h.paths.xeus], h.env);
    assert.equal(run.code, 3);
    assert.match(run.stderr, /nope: no such file or directory/);
    assert.equal(run.stdout.trim().split('\n').length, 1);
    const empty = mkdtempSync(join(tmpdir(), 'rollout-otel-empty-'));
    const none = await runCli(['list'], { HOME: empty, CODEX_HOME: join(empty, '.codex') });
    assert.equal(none.code, 0);
    assert.equal(none.stdout, '');
    assert.match(none.stderr, /no sessions home found \(looked for .*\.codex\/sessions/);
  });
});

describe('show', () => {
  let h: ReturnType<typeof makeHome>;
  beforeAll(() => {
    h = makeHome();
  });

  test('by id prefix: the span tree, its facts and its failures', async () => {
    const run = await runCli(['show', '019f2241'], h.env);
    assert.equal(run.code, 0, run.stderr);
    const dry = await runCli(['export', '--dry-run', h.paths.solsmile], h.env);
    const tree = dry.stdout.split('\n').slice(1).join('\n').trim();
    assert.ok(run.stdout.includes(tree), 'the dry-run tree');
    assert.match(run.stdout, /^session 019f2241-882c-7f02-83c0-98d016ea60da {2}codex {2}started 2026-07-02T09:55:54\.837Z .* 2 turns {2}123421 tokens {2}\$0\.2237 {2}gpt-5\.5$/m);
    assert.match(run.stdout, /^1 failed:\n {2}execute_tool shell_command( · \S+)? {2}line 50/m);
  });

  test('--json: one span per line, the same spans the export sends', async () => {
    const receiver = await startReceiver();
    try {
      const run = await runCli(['show', XEUS_ID.slice(0, 13), '--json'], h.env);
      assert.equal(run.code, 0, run.stderr);
      const spans = jsonLines(run.stdout);
      await runCli(['export', h.paths.xeus], { ...h.env, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url });
      const sent = receiver.spans();
      assert.equal(spans.length, sent.length);
      for (const s of sent) {
        const shown = spans.find((x) => x.spanId === s.spanId)!;
        assert.equal(shown.name, s.name);
        assert.equal(shown.traceId, s.traceId);
        assert.equal(shown.parentSpanId ?? '', s.parentSpanId);
        assert.equal(Date.parse(shown.start as string) * 1e6, Number(s.startNs / 1_000_000n) * 1e6);
        assert.deepEqual(Object.keys(shown.attributes as object).sort(), Object.keys(s.attributes).sort());
      }
    } finally {
      await receiver.close();
    }
  });

  test('a file or a bundle directory; an ambiguous prefix (exit 2) and an unknown id (exit 3) say so', async () => {
    const file = await runCli(['show', h.paths.recent], h.env);
    assert.equal(file.code, 0, file.stderr);
    assert.match(file.stdout, /^invoke_agent fixbot/m);
    const bundle = await runCli(['show', h.paths.bundle], h.env);
    assert.equal(bundle.code, 0, bundle.stderr);
    assert.match(bundle.stdout, /^invoke_agent /m);
    const ambiguous = await runCli(['show', '019'], h.env);
    assert.equal(ambiguous.code, 2);
    assert.match(ambiguous.stderr, /^rollout-otel: 4 sessions have ids starting with 019: .*; give more of the id\n$/);
    assert.equal(ambiguous.stdout, '');
    const unknown = await runCli(['show', 'abcdef12'], h.env);
    assert.equal(unknown.code, 3);
    assert.match(unknown.stderr, /^rollout-otel: no session id starts with abcdef12 under /);
  });
});

describe('export: selection, --json, --out -', () => {
  let h: ReturnType<typeof makeHome>;
  let receiver: Receiver;
  beforeAll(async () => {
    h = makeHome();
    receiver = await startReceiver();
  });
  afterAll(() => receiver.close());

  const traces = () => new Set(receiver.spans().map((s) => s.traceId));

  test('with no path: the homes; --since exports only what was active since, and says how many were picked', async () => {
    receiver.requests.length = 0;
    const run = await runCli(['export', '--since', '2d', '--json'], { ...h.env, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url });
    assert.equal(run.code, 0, run.stderr);
    const out = jsonLines(run.stdout);
    const sessions = out.filter((o) => o.type === 'session');
    assert.deepEqual(sessions.map((s) => s.sessionId), ['recent-run']);
    assert.equal(traces().size, 1);
    assert.ok(traces().has(sessions[0]!.traceId as string));
    assert.match(run.stderr, /1 session selected of 8 inputs/);
  });

  test('a session id (prefix) as an argument exports that session only', async () => {
    receiver.requests.length = 0;
    const run = await runCli(['export', '019e06e6', '--json'], { ...h.env, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url });
    assert.equal(run.code, 0, run.stderr);
    const sessions = jsonLines(run.stdout).filter((o) => o.type === 'session');
    // the live file and its archive are the same session: the larger copy is sent, once
    assert.deepEqual([...new Set(sessions.map((s) => s.traceId))], [...traces()]);
    assert.deepEqual(sessions.filter((s) => (s.spans as number) > 0).map((s) => s.path), [h.paths.xeus]);
    const missing = await runCli(['export', 'abcdef12'], { ...h.env, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url });
    assert.equal(missing.code, 3);
    assert.match(missing.stderr, /abcdef12: no such file or directory, and no session id starts with this under /);
  });

  test('--json: a result per session and a summary that agree with what arrived', async () => {
    receiver.requests.length = 0;
    const run = await runCli(['export', h.paths.xeus, h.paths.solsmile, '--json'], { ...h.env, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url });
    assert.equal(run.code, 0, run.stderr);
    const out = jsonLines(run.stdout);
    assert.deepEqual(out.map((o) => o.type), ['session', 'session', 'summary']);
    for (const s of out.slice(0, 2)) {
      const arrived = receiver.spans().filter((x) => x.traceId === s.traceId).length;
      assert.equal(s.delivered, arrived);
      assert.equal(s.spans, arrived);
      assert.equal(s.notDelivered, 0);
    }
    assert.deepEqual(
      { sessions: out[2]!.sessions, delivered: out[2]!.delivered, exitCode: out[2]!.exitCode },
      { sessions: 2, delivered: receiver.spans().length, exitCode: 0 },
    );
  });

  test('--out - --json: stdout holds only OTLP/JSON requests; the results go to stderr', async () => {
    const run = await runCli(['export', h.paths.xeus, h.paths.solsmile, '--out', '-', '--json'], h.env);
    assert.equal(run.code, 0, run.stderr);
    const requests = jsonLines(run.stdout);
    assert.ok(requests.length >= 1);
    for (const r of requests) assert.ok(Array.isArray(r.resourceSpans), 'an OTLP request');
    const spans = requests.flatMap((r) => (r.resourceSpans as { scopeSpans: { spans: unknown[] }[] }[]).flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans)));
    assert.equal(spans.length, 4 + 16);
    const results = run.stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
    assert.deepEqual(results.map((o) => o.type), ['session', 'session', 'summary']);
    // without --json too, the session lines stay off stdout
    const plain = await runCli(['export', h.paths.xeus, '--out', '-'], h.env);
    assert.equal(plain.code, 0);
    for (const l of plain.stdout.trim().split('\n')) assert.ok(Array.isArray(JSON.parse(l).resourceSpans));
    assert.match(plain.stderr, /133ab409d6d76ea667e090b23ec51fe7 {2}4 spans/);
  });

  test('no collector: a hint on how to start one, that nothing was lost, and no link to a trace that is not there', async () => {
    const port = await freePort();
    const run = await runCli(['export', h.paths.xeus], { ...h.env, OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`, OTEL_EXPORTER_OTLP_TIMEOUT: '2000' });
    assert.equal(run.code, 1);
    assert.match(run.stdout, /^133ab409d6d76ea667e090b23ec51fe7 {2}0\/4 spans {2}\S+\.jsonl {2}NOT DELIVERED 4\/4\n$/, 'the columns of a delivered session, then what failed');
    assert.match(run.stderr, /nothing is listening at http:\/\/127\.0\.0\.1:\d+\/v1\/traces\. To start Jaeger: `docker compose up -d`.*jaegertracing\/jaeger.*Nothing was lost/);
    assert.doesNotMatch(run.stderr, /open a trace in Jaeger/);
  });
});

describe('watch: selection', () => {
  test('--session follows the selected session only', async () => {
    const h = makeHome();
    const receiver = await startReceiver();
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OTEL_')));
    const proc = spawn(process.execPath, [BIN, 'watch', join(h.codex, 'sessions'), '--session', '019e06e6', '--state', join(h.home, 'state'), '--idle-timeout', '1s', '--poll', '100ms'], {
      env: { ...env, ...h.env, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url },
      cwd: ROOT,
    });
    let stderr = '';
    proc.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => proc.on('close', resolve));
    try {
      // the session is closed once idle: its thread span (the root) has arrived
      const deadline = Date.now() + 20_000;
      while (!receiver.spans().some((s) => s.parentSpanId === '')) {
        if (Date.now() > deadline) throw new Error(`the selected session never arrived: ${stderr}`);
        await sleep(50);
      }
      proc.kill('SIGINT');
      assert.equal(await exited, 0, stderr);
      assert.deepEqual([...new Set(receiver.spans().map((s) => s.traceId))], ['133ab409d6d76ea667e090b23ec51fe7']);
      assert.match(stderr, /following 1 rollout file /);
      assert.doesNotMatch(stderr, /trace bundle/);
    } finally {
      proc.kill('SIGKILL');
      await receiver.close();
    }
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}
