import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixture, runCli } from './support/cli.ts';
import { startReceiver, type Receiver } from './support/otlp-receiver.ts';

const XEUS = fixture('xeus-0.129.0-tui-websearch.jsonl');
const SMALL = fixture('localpush-sanitized-0.104-small.jsonl');

describe('inputs', () => {
  let receiver: Receiver;
  let dir: string;
  beforeAll(async () => {
    receiver = await startReceiver();
    dir = mkdtempSync(join(tmpdir(), 'rollout-otel-'));
  });
  afterAll(() => receiver.close());

  test('a sessions tree: recursive, .jsonl.zst decoded, the plain file wins over its archive, other files ignored', async () => {
    const day = join(dir, 'sessions', '2026', '05', '08');
    mkdirSync(day, { recursive: true });
    mkdirSync(join(dir, 'archived_sessions'));
    const archived = 'rollout-2026-05-08T09-23-20-019e06e6-0c4e-72d2-a0ab-34efa4c2613d.jsonl.zst';
    copyFileSync(fixture(`archive/${archived}`), join(dir, 'archived_sessions', archived));
    copyFileSync(SMALL, join(day, 'rollout-2026-02-23T20-34-25-019c8bfe-ec25-79e0-97d7-bda6a9c575ff.jsonl'));
    copyFileSync(SMALL, join(day, 'rollout-2026-02-23T20-34-25-019c8bfe-ec25-79e0-97d7-bda6a9c575ff.jsonl.zst'));
    writeFileSync(join(day, 'notes.txt'), 'not a rollout');
    writeFileSync(join(dir, 'session_index.jsonl'), '{"id":"x","thread_name":"y"}\n');
    const run = await runCli(['export', dir], { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /2 sessions read/);
    const traces = new Set(receiver.spans().map((s) => s.traceId));
    assert.equal(traces.size, 2);
    const names = receiver.spans().filter((s) => s.name.startsWith('chat')).map((s) => s.attributes['rollout.source.path']);
    // an archive is named as the session Codex first wrote, relative to the Codex home
    assert.ok(names.includes(`sessions/2026/05/08/${archived.replace(/\.zst$/, '')}`), 'spans from the zstd archive');
  });

  test('stdin with -', async () => {
    const r = await startReceiver();
    try {
      const run = await runCli(['export', '-'], { OTEL_EXPORTER_OTLP_ENDPOINT: r.url }, readFileSync(XEUS, 'utf8'));
      assert.equal(run.code, 0, run.stderr);
      assert.equal(r.spans().length, 4);
      assert.ok(r.spans().every((s) => s.attributes['rollout.source.path'] === '-'));
    } finally {
      await r.close();
    }
  });
});

describe('bad input is reported, and the rest still delivered', () => {
  let receiver: Receiver;
  beforeAll(async () => {
    receiver = await startReceiver();
  });
  afterAll(() => receiver.close());

  test('a wrong path: named, exit code 3, the good file still exported', async () => {
    const run = await runCli(['export', '/no/such/rollout.jsonl', XEUS], { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url });
    assert.equal(run.code, 3);
    assert.match(run.stderr, /\/no\/such\/rollout\.jsonl: no such file or directory/);
    assert.match(run.stderr, /1 session read, 4 spans built, 1 input not read/);
    assert.match(run.stderr, /delivered 4 spans/);
  });

  test('a truncated last line and an unknown event type: warned with line numbers, the rest delivered', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rollout-otel-'));
    const lines = readFileSync(XEUS, 'utf8').trimEnd().split('\n');
    lines.splice(3, 0, '{"timestamp":"2026-05-08T09:23:47.800Z","type":"event_msg","payload":{"type":"brand_new_event","x":1}}');
    const file = join(dir, 'cut.jsonl');
    writeFileSync(file, `${lines.join('\n')}\n{"timestamp":"2026-05-08T09:24:02.000Z","type":"event_m`);
    const r = await startReceiver();
    try {
      const run = await runCli(['export', file], { OTEL_EXPORTER_OTLP_ENDPOINT: r.url });
      assert.equal(run.code, 3, 'a line that is not JSON makes the exit code say so');
      assert.match(run.stderr, /cut\.jsonl:4: event_msg:brand_new_event: unknown event type/);
      assert.match(run.stderr, /cut\.jsonl:19: invalid-json: truncated last line/);
      assert.equal(r.spans().length, 4, 'everything readable was delivered');
    } finally {
      await r.close();
    }
  });

  test('an unknown line type: delivered all the same, listed as a warning, exit code 4', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rollout-otel-'));
    const file = join(dir, 'extra.jsonl');
    writeFileSync(file, `${readFileSync(XEUS, 'utf8')}{"timestamp":"2026-05-08T09:24:03.000Z","type":"future_line","payload":{}}\n`);
    const r = await startReceiver();
    try {
      const run = await runCli(['export', file], { OTEL_EXPORTER_OTLP_ENDPOINT: r.url });
      assert.equal(run.code, 4, run.stderr);
      assert.equal(r.spans().length, 4);
      assert.match(run.stderr, /extra\.jsonl:18: future_line: unknown line type/);
      assert.match(run.stderr, /1 unknown line skipped/);
    } finally {
      await r.close();
    }
  });

  test('a file that is not a rollout', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rollout-otel-'));
    const file = join(dir, 'other.jsonl');
    writeFileSync(file, '{"hello":"world"}\n');
    const run = await runCli(['export', file], { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url });
    assert.equal(run.code, 3);
    assert.match(run.stderr, /other\.jsonl: not a rollout: no line in a known format/);
  });

  test('a collector that is down: nothing claimed as delivered, exit code 1', async () => {
    const down = await startReceiver();
    const url = down.url;
    await down.close();
    const run = await runCli(['export', XEUS, SMALL], { OTEL_EXPORTER_OTLP_ENDPOINT: url, OTEL_EXPORTER_OTLP_TIMEOUT: '1500' });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /delivered 0 spans .*NOT delivered: \d+ spans \(gave up after \d+ attempts?: last answer connection refused/);
    assert.match(run.stderr, /2 sessions were not fully delivered/);
    assert.match(run.stdout, /NOT DELIVERED/);
  });

  test('transient collector failures are retried', async () => {
    const flaky = await startReceiver({ failFirst: 1 });
    try {
      const run = await runCli(['export', XEUS], { OTEL_EXPORTER_OTLP_ENDPOINT: flaky.url });
      assert.equal(run.code, 0, run.stderr);
      assert.equal(flaky.failures, 1);
      assert.equal(flaky.spans().length, 4);
    } finally {
      await flaky.close();
    }
  });

  test('usage errors exit 2', async () => {
    assert.equal((await runCli(['export', XEUS, '--protocol', 'thrift'])).code, 2);
    // no path and no agent home to fall back on
    const nowhere = join(tmpdir(), 'rollout-otel-no-home');
    const none = await runCli(['export'], { CODEX_HOME: nowhere, CLAUDE_CONFIG_DIR: nowhere });
    assert.equal(none.code, 2);
    assert.match(none.stderr, /no paths given, and no sessions home found/);
    const bad = await runCli(['export', XEUS], { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/thrift' });
    assert.equal(bad.code, 2);
    assert.equal(bad.stderr, 'rollout-otel: unknown OTLP protocol "http/thrift" (use http/protobuf, http/json or grpc)\n');
    const watch = await runCli(['watch', mkdtempSync(join(tmpdir(), 'rollout-otel-')), '--format', 'bundle', '--state', mkdtempSync(join(tmpdir(), 'rollout-otel-'))]);
    assert.equal(watch.code, 2);
    assert.match(watch.stderr, /--format bundle is for export/);
  });
});

describe('delivery options', () => {
  test('headers and gzip from the environment and flags', async () => {
    const r = await startReceiver();
    try {
      const run = await runCli(['export', XEUS, '--header', 'x-team=agents', '--compression', 'gzip'], {
        OTEL_EXPORTER_OTLP_ENDPOINT: r.url,
        OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20abc,x-team=ignored',
      });
      assert.equal(run.code, 0, run.stderr);
      const req = r.requests[0]!;
      assert.equal(req.gzip, true);
      assert.equal(req.headers['authorization'], 'Bearer abc');
      assert.equal(req.headers['x-team'], 'agents');
    } finally {
      await r.close();
    }
  });

  test('--endpoint beats the environment', async () => {
    const r = await startReceiver();
    try {
      const run = await runCli(['export', XEUS, '--endpoint', r.url], { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9' });
      assert.equal(run.code, 0, run.stderr);
      assert.equal(r.spans().length, 4);
    } finally {
      await r.close();
    }
  });

  test('--dry-run prints the span tree and sends nothing', async () => {
    const run = await runCli(['export', '--dry-run', XEUS], { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9' });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^invoke_agent codex · Stellar-v1k@main {2}41\.54s/m);
    assert.match(run.stdout, /^└─ handle_conversation_turn codex .* in=33020 out=492 status=completed/m);
    assert.match(run.stdout, /^ {3}├─ chat gpt-5\.5 /m);
    assert.match(run.stdout, /^ {3}└─ execute_tool web_search /m);
  });

  test('--out writes OTLP/JSON requests that decode to the same spans', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rollout-otel-'));
    const out = join(dir, 'spans.jsonl');
    const run = await runCli(['export', XEUS, SMALL, '--out', out]);
    assert.equal(run.code, 0, run.stderr);
    const requests = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const spans = requests.flatMap((r) => r.resourceSpans.flatMap((rs: { scopeSpans: { spans: { name: string }[] }[] }) => rs.scopeSpans.flatMap((ss) => ss.spans)));
    assert.equal(spans.length, 4 + 13);
    assert.ok(spans.some((s) => s.name === 'execute_tool search_workflows'), 'MCP tool names are decoded');
  });

  test('content is captured only on request, with secrets redacted and long values cut', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rollout-otel-'));
    const file = join(dir, 'secret.jsonl');
    const key = `sk-proj-${'a1B2'.repeat(10)}`;
    writeFileSync(file, [
      '{"timestamp":"2026-04-10T08:00:00.000Z","type":"session_meta","payload":{"id":"019d7000-0000-7000-8000-000000000001","timestamp":"2026-04-10T08:00:00.000Z","cwd":"/w","originator":"codex-tui","cli_version":"0.120.0","source":"cli","model_provider":"openai"}}',
      '{"timestamp":"2026-04-10T08:00:00.100Z","type":"event_msg","payload":{"type":"task_started","turn_id":"019d7000-0000-7000-8000-0000000000aa"}}',
      '{"timestamp":"2026-04-10T08:00:00.200Z","type":"turn_context","payload":{"turn_id":"019d7000-0000-7000-8000-0000000000aa","cwd":"/w","approval_policy":"never","sandbox_policy":{"type":"danger-full-access"},"model":"gpt-5.4","summary":"auto"}}',
      `{"timestamp":"2026-04-10T08:00:00.300Z","type":"event_msg","payload":{"type":"user_message","message":"use ${key} please"}}`,
      '{"timestamp":"2026-04-10T08:00:01.000Z","type":"response_item","payload":{"type":"function_call","name":"exec_command","arguments":"{\\"cmd\\":\\"curl -H \'Authorization: Bearer abcdefghijklmnop\' https://u:hunter22@example.com\\"}","call_id":"call_1"}}',
      `{"timestamp":"2026-04-10T08:00:02.000Z","type":"response_item","payload":{"type":"function_call_output","call_id":"call_1","output":"Exit code: 7\\nWall time: 0.9 seconds\\nOutput:\\n${'x'.repeat(500)}"}}`,
      '{"timestamp":"2026-04-10T08:00:02.100Z","type":"event_msg","payload":{"type":"token_count","info":{"total_token_usage":{"input_tokens":100,"cached_input_tokens":0,"output_tokens":10,"reasoning_output_tokens":0,"total_tokens":110},"last_token_usage":{"input_tokens":100,"cached_input_tokens":0,"output_tokens":10,"reasoning_output_tokens":0,"total_tokens":110}}}}',
      '{"timestamp":"2026-04-10T08:00:03.000Z","type":"event_msg","payload":{"type":"task_complete","turn_id":"019d7000-0000-7000-8000-0000000000aa"}}',
    ].join('\n') + '\n');
    const r = await startReceiver();
    try {
      const plain = await runCli(['export', file], { OTEL_EXPORTER_OTLP_ENDPOINT: r.url });
      assert.equal(plain.code, 0, plain.stderr);
      const tool = r.spans().find((s) => s.name.startsWith('execute_tool exec_command'))!;
      assert.equal(tool.attributes['gen_ai.tool.call.arguments'], undefined);
      assert.equal(tool.attributes['process.exit.code'], 7);
      assert.equal(tool.attributes['error.type'], 'exit_code');
      assert.equal(tool.status.code, 2);

      const r2 = await startReceiver();
      try {
        const run = await runCli(['export', file, '--content-limit', '200'], { OTEL_EXPORTER_OTLP_ENDPOINT: r2.url, OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: 'true' });
        assert.equal(run.code, 0, run.stderr);
        const all = JSON.stringify(r2.spans().map((s) => s.attributes));
        assert.ok(!all.includes(key), 'API key redacted');
        assert.ok(!all.includes('hunter22'), 'URL password redacted');
        assert.ok(!all.includes('abcdefghijklmnop'), 'bearer token redacted');
        const t = r2.spans().find((s) => s.name.startsWith('execute_tool exec_command'))!;
        assert.match(String(t.attributes['gen_ai.tool.call.arguments']), /Bearer \[REDACTED:auth-header\]/);
        assert.match(String(t.attributes['gen_ai.tool.call.result']), /…\[truncated \d+ chars\]$/);
        assert.ok(String(t.attributes['gen_ai.tool.call.result']).length < 240);
        const chat = r2.spans().find((s) => s.name === 'chat gpt-5.4')!;
        const input = JSON.parse(String(chat.attributes['gen_ai.input.messages']));
        assert.equal(input[0].role, 'user');
        assert.match(input[0].parts[0].content, /use \[REDACTED:api-key-prefix\] please/);
        const output = JSON.parse(String(chat.attributes['gen_ai.output.messages']));
        assert.equal(output[0].parts[0].type, 'tool_call');
      } finally {
        await r2.close();
      }
    } finally {
      await r.close();
    }
  });
});

describe('parallel export (--jobs)', () => {
  // the fixtures tree: Codex rollouts of every generation, a zstd archive, generic rollouts, bundles
  const inputs = [fixture('.')];
  // four copies of it (40 MB): enough that the worker is running before the main thread is done
  let copies: string;
  beforeAll(() => {
    copies = mkdtempSync(join(tmpdir(), 'rollout-otel-jobs-'));
    for (let k = 1; k <= 4; k++) cpSync(fixture('.'), join(copies, `copy${k}`), { recursive: true });
  });
  const dump = (r: Receiver) =>
    r.spans().map((s) => JSON.stringify({ ...s, startNs: String(s.startNs), endNs: String(s.endNs), events: s.events.map((e) => ({ ...e, timeNs: String(e.timeNs) })) })).sort();

  test('worker threads send exactly the spans one thread sends, and the summary counts them all', async () => {
    const one = await startReceiver();
    const two = await startReceiver();
    try {
      const a = await runCli(['export', copies, '--jobs', '1'], { OTEL_EXPORTER_OTLP_ENDPOINT: one.url });
      const b = await runCli(['export', copies, '--jobs', '2'], { OTEL_EXPORTER_OTLP_ENDPOINT: two.url });
      assert.equal(b.code, a.code, b.stderr);
      const spans = Number(/delivered ([\d,]+) spans/.exec(a.stderr)?.[1]?.replace(/,/g, ''));
      assert.ok(spans > 8000, a.stderr);
      // "from 2 threads": the worker exported some of the files, and its counts are in the total
      assert.match(b.stderr, new RegExp(`delivered ${spans.toLocaleString('en-US')} spans .* from 2 threads`));
      assert.doesNotMatch(b.stderr, /worker stopped/);
      assert.equal(/(\d+) sessions read/.exec(b.stderr)?.[1], /(\d+) sessions read/.exec(a.stderr)?.[1]);
      assert.deepEqual(dump(two), dump(one));
      // the per-trace lines keep the order of the inputs
      assert.equal(b.stdout, a.stdout);
    } finally {
      await one.close();
      await two.close();
    }
  });

  test('a collector that is down: each worker\'s spans are counted as not delivered, exit code 1', async () => {
    const down = await startReceiver();
    const url = down.url;
    await down.close();
    const run = await runCli(['export', ...inputs, '--jobs', '3'], { OTEL_EXPORTER_OTLP_ENDPOINT: url, OTEL_EXPORTER_OTLP_TIMEOUT: '1500' });
    assert.equal(run.code, 1);
    const built = Number(/([\d,]+) spans built/.exec(run.stderr)?.[1]?.replace(/,/g, ''));
    assert.match(run.stderr, new RegExp(`delivered 0 spans .*NOT delivered: ${built.toLocaleString('en-US')} spans`));
    assert.doesNotMatch(run.stdout, /  \d+ spans  /, 'no session is claimed as delivered');
  });

  test('standard input among other inputs is read by the main thread', async () => {
    const r = await startReceiver();
    try {
      const run = await runCli(['export', SMALL, '-', '--jobs', '2'], { OTEL_EXPORTER_OTLP_ENDPOINT: r.url }, readFileSync(XEUS, 'utf8'));
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stderr, /2 sessions read/);
      const fromStdin = r.spans().filter((s) => s.attributes['rollout.source.path'] === '-');
      assert.equal(fromStdin.length, 4);
    } finally {
      await r.close();
    }
  });

  test('--jobs must be a positive whole number, whatever the output', async () => {
    for (const args of [['--jobs', '0'], ['--jobs', '1.5'], ['--jobs', 'abc'], ['--jobs', '0', '--dry-run'], ['--jobs', 'x', '--out', join(copies, 'out.jsonl')]]) {
      const run = await runCli(['export', SMALL, ...args]);
      assert.equal(run.code, 2, args.join(' '));
      assert.match(run.stderr, /--jobs must be a whole number/);
    }
  });
});
