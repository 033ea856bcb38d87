import assert from 'node:assert/strict';
import { describe, test } from 'vitest';
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, fixture, ROOT, runCli } from './support/cli.ts';
import { startReceiver } from './support/otlp-receiver.ts';

// What the summary and the exit code say is delivered is what the collector kept.

const SOULPASS = fixture('soulpass-0.122.0-tui-compaction-aborts.jsonl');
const XEUS = fixture('xeus-0.129.0-tui-websearch.jsonl');
// 2,700 lines: more than one request of 512 spans
const BIG = fixture('localpush-sanitized-0.104-compaction.jsonl');
const state = () => mkdtempSync(join(tmpdir(), 'rollout-otel-accounting-'));

describe('a collector that refuses some spans (OTLP partial_success)', () => {
  for (const protocol of ['http/protobuf', 'http/json']) {
    test(`${protocol}: the refused spans are counted as not delivered, the collector's message is shown, exit 1`, async () => {
      const r = await startReceiver({ reject: { spans: 7, message: 'span too large' } });
      try {
        const run = await runCli(['export', '--protocol', protocol, SOULPASS, BIG], { OTEL_EXPORTER_OTLP_ENDPOINT: r.url });
        assert.equal(run.code, 1, run.stderr);
        assert.ok(r.requests.length >= 2, 'more than one request');
        const sent = r.requests.reduce((a, q) => a + q.spans.length, 0);
        const refused = r.requests.reduce((a, q) => a + Math.min(7, q.spans.length), 0);
        const n = (x: number) => x.toLocaleString('en-US');
        assert.match(run.stderr, new RegExp(`delivered ${n(sent - refused)} spans .*NOT delivered: ${n(refused)} spans \\(the collector refused 7 of \\d+ spans in a request: span too large\\)`));
        assert.match(run.stderr, /2 sessions were not fully delivered/);
      } finally {
        await r.close();
      }
    });
  }

  test('what was refused is not taken as delivered: the next export sends it again', async () => {
    const dir = state();
    const r = await startReceiver({ reject: { spans: 1, message: 'no' } });
    try {
      const env = { OTEL_EXPORTER_OTLP_ENDPOINT: r.url, XDG_STATE_HOME: dir };
      assert.equal((await runCli(['export', XEUS], env)).code, 1);
      const again = await runCli(['export', XEUS], env);
      assert.equal(again.code, 1, again.stderr);
      assert.doesNotMatch(again.stderr, /already delivered/);
      assert.equal(r.requests.length, 2, 'sent twice');
    } finally {
      await r.close();
    }
  });

  test('watch: a refused span holds the ledger back, so nothing is taken as delivered', async () => {
    const root = mkdtempSync(join(tmpdir(), 'rollout-otel-accounting-watch-'));
    const day = join(root, 'sessions', '2026', '03', '01');
    mkdirSync(day, { recursive: true });
    copyFileSync(XEUS, join(day, 'rollout-2026-03-01T10-00-00-019c0000-0000-7000-8000-00000000abcd.jsonl'));
    const r = await startReceiver({ reject: { spans: 1, message: 'quota' } });
    const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OTEL_')));
    const w = spawn(process.execPath, [BIN, 'watch', join(root, 'sessions'), '--state', join(root, 'state'), '--idle-timeout', '1s', '--poll', '100ms'], {
      env: { ...base, OTEL_EXPORTER_OTLP_ENDPOINT: r.url, CODEX_HOME: join(root, 'no-home') },
      cwd: ROOT,
    });
    let err = '';
    w.stderr.on('data', (d) => (err += d));
    const exited = new Promise<number | null>((resolve) => w.on('close', resolve));
    try {
      const deadline = Date.now() + 20_000;
      while (!/is not accepting spans \(the collector refused 1 of \d+ spans in a request: quota\)/.test(err)) {
        assert.ok(Date.now() < deadline, `no refusal reported: ${err}`);
        await sleep(100);
      }
      w.kill('SIGTERM');
      assert.equal(await exited, 1, `stopped while the collector still refuses: ${err}`);
      const ledger = existsSync(join(root, 'state')) ? readdirSync(join(root, 'state')).filter((f) => f.startsWith('delivered-')) : [];
      const entries = ledger.flatMap((f) => Object.keys((JSON.parse(readFileSync(join(root, 'state', f), 'utf8')) as { sessions: object }).sessions));
      assert.deepEqual(entries, [], 'no session noted as delivered');
    } finally {
      w.kill('SIGKILL');
      await r.close();
    }
  });

  test('a partial success that refuses nothing is a warning, and everything counts as delivered', async () => {
    const r = await startReceiver({ reject: { spans: 0, message: 'attributes trimmed' } });
    try {
      const run = await runCli(['export', XEUS], { OTEL_EXPORTER_OTLP_ENDPOINT: r.url });
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stderr, /warns: attributes trimmed/);
      assert.match(run.stderr, /delivered 4 spans/);
    } finally {
      await r.close();
    }
  });
});

describe('an endpoint that is not OTLP', () => {
  test('a 2xx web page (Jaeger\'s UI port) is a failure with a hint, not a delivery; no HTML is printed', async () => {
    const page = '<!doctype html><html><head><title>Jaeger UI</title></head><body><div id="jaeger-ui-root"></div></body></html>';
    const r = await startReceiver({ answer: { status: 200, contentType: 'text/html; charset=utf-8', body: page } });
    try {
      const run = await runCli(['export', XEUS, SOULPASS], { OTEL_EXPORTER_OTLP_ENDPOINT: r.url });
      assert.equal(run.code, 1, run.stderr);
      assert.match(run.stderr, /delivered 0 spans/);
      assert.match(run.stderr, /answered 200 with text\/html that is not an OTLP response; nothing was stored: is this the OTLP port\? \(Jaeger takes OTLP\/HTTP on 4318/);
      assert.doesNotMatch(run.stderr, /doctype|jaeger-ui-root/);
      assert.match(run.stdout, /NOT DELIVERED 4\/4/);
    } finally {
      await r.close();
    }
  });

  test('a 2xx JSON body that does not parse is not OTLP either', async () => {
    const r = await startReceiver({ answer: { status: 202, contentType: 'application/json', body: 'accepted, thanks' } });
    try {
      const run = await runCli(['export', '--protocol', 'http/json', XEUS], { OTEL_EXPORTER_OTLP_ENDPOINT: r.url });
      assert.equal(run.code, 1, run.stderr);
      assert.match(run.stderr, /not an OTLP response/);
    } finally {
      await r.close();
    }
  });
});

describe('retries that give up', () => {
  test('name the last status and its Retry-After', async () => {
    const r = await startReceiver({ failFirst: 1000, failStatus: 503, retryAfter: '30' });
    try {
      const run = await runCli(['export', XEUS], { OTEL_EXPORTER_OTLP_ENDPOINT: r.url, OTEL_EXPORTER_OTLP_TIMEOUT: '2000' });
      assert.equal(run.code, 1, run.stderr);
      assert.match(run.stderr, /NOT delivered: 4 spans \(gave up after 1 attempt: last answer HTTP 503 Service Unavailable, Retry-After: 30; the next retry \(in 30 s\) would pass the 2\.0 s timeout\)/);
    } finally {
      await r.close();
    }
  });

  test('a 429 retried until the attempts run out says so', async () => {
    const r = await startReceiver({ failFirst: 1000, failStatus: 429, retryAfter: '0' });
    try {
      const run = await runCli(['export', XEUS], { OTEL_EXPORTER_OTLP_ENDPOINT: r.url, OTEL_EXPORTER_OTLP_TIMEOUT: '10000' });
      assert.equal(run.code, 1, run.stderr);
      assert.equal(r.requests.length, 6, 'the first attempt and five retries');
      assert.match(run.stderr, /gave up after 6 attempts: last answer HTTP 429 Too Many Requests, Retry-After: 0\)/);
    } finally {
      await r.close();
    }
  });
});

describe('a collector that never answers', () => {
  test('is given up at the timeout, and says so', async () => {
    const server = createServer(() => {});
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const run = await runCli(['export', '--timeout', '1000', XEUS], { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
      assert.equal(run.code, 1, run.stderr);
      assert.match(run.stderr, /NOT delivered: 4 spans \(gave up after 1 attempt: last answer none within the 1\.0 s timeout\)/);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});

describe('--out that cannot be written', () => {
  test('a full disk (/dev/full): one line, exit 1, nothing claimed', async () => {
    const run = await runCli(['export', '-o', '/dev/full', XEUS]);
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, /NOT delivered: 4 spans \(cannot write \/dev\/full: no space left on device\)/);
    assert.doesNotMatch(run.stderr, /\n\s+at /, 'no stack trace');
  });

  test('a missing directory: one line, exit 1, nothing read', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'rollout-otel-out-')), 'no', 'such', 'spans.jsonl');
    const run = await runCli(['export', '-o', out, XEUS]);
    assert.equal(run.code, 1);
    assert.equal(run.stderr, `rollout-otel: cannot write ${out}: no such directory; nothing was exported\n`);
    assert.equal(run.stdout, '');
  });

  test('a place without write permission: one line, exit 1', async (context) => {
    // root may write anywhere but where the kernel refuses
    const out = process.getuid?.() === 0 ? '/sys/kernel/rollout-otel-test' : '/proc/version';
    if (!existsSync('/sys/kernel')) return context.skip('no /sys on this system');
    const run = await runCli(['export', '-o', out, XEUS]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, new RegExp(`^rollout-otel: cannot write ${out}: (permission denied|.*); nothing was exported\\n$`));
  });

  test('a writable file gets every request, one per line', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'rollout-otel-out-')), 'spans.jsonl');
    const run = await runCli(['export', '-o', out, XEUS]);
    assert.equal(run.code, 0, run.stderr);
    const lines = readFileSync(out, 'utf8').trim().split('\n');
    assert.equal(lines.length, 1);
    assert.equal((JSON.parse(lines[0]!) as { resourceSpans: { scopeSpans: { spans: unknown[] }[] }[] }).resourceSpans[0]!.scopeSpans[0]!.spans.length, 4);
  });
});
