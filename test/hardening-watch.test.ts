// Bad input through `watch`, built here (no binaries committed): the real CLI follows a tree holding
// broken entries beside a healthy rollout, is stopped with SIGTERM, and must have named each broken
// entry once, delivered the healthy one, exited with the code that says so, and stayed in bounded memory.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { BIN, fixture, ROOT } from './support/cli.ts';
import { startReceiver, type Receiver } from './support/otlp-receiver.ts';
import { zstdRle } from './support/zstd-bomb.ts';

const SMALL = fixture('localpush-sanitized-0.104-small.jsonl');
const SMALL_SPANS = 13;
const MB = 1024 * 1024;
const RSS_LIMIT_KB = 250 * 1024;
const NOBODY = 65534;
// Root reads any file: permission cases run the watcher as nobody, when setpriv can.
const asNobody = process.getuid?.() === 0 && canRunAsNobody();

function canRunAsNobody(): boolean {
  try {
    execFileSync('setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', process.execPath, '-e', `require('node:fs').accessSync(${JSON.stringify(BIN)})`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

interface Watch {
  stderr(): string;
  /** stops it with SIGTERM; its exit code and peak RSS in KB */
  stop(): Promise<{ code: number | null; rssKb: number }>;
  exited: Promise<number | null>;
}

describe('bad input through watch', () => {
  let receiver: Receiver;
  let dir: string;
  beforeAll(async () => {
    receiver = await startReceiver();
    dir = mkdtempSync(join(tmpdir(), 'rollout-otel-bad-watch-'));
    chmodSync(dir, 0o755);
  });
  afterAll(async () => {
    await receiver.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function watch(path: string, extra: string[] = [], nobody = false): Watch {
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OTEL_')));
    const state = mkdtempSync(join(dir, 'state-'));
    chmodSync(state, 0o777);
    const rss = join(state, 'rss');
    const args = [BIN, 'watch', path, '--state', state, '--idle-timeout', '1s', '--poll', '100ms', ...extra];
    const [cmd, argv] = nobody ? ['setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', process.execPath, ...args]] : [process.execPath, args];
    const proc = spawn(cmd, argv, {
      env: { ...env, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, NODE_OPTIONS: `--require ${join(ROOT, 'test/support/rss.cjs')}`, RSS_OUT: rss, CODEX_HOME: join(dir, 'no-home') },
      cwd: ROOT,
    });
    let err = '';
    proc.stderr.on('data', (d) => (err += d));
    const exited = new Promise<number | null>((resolve) => proc.on('close', (code) => resolve(code)));
    return {
      stderr: () => err,
      exited,
      stop: async () => {
        proc.kill('SIGTERM');
        const code = await exited;
        return { code, rssKb: existsSync(rss) ? Number(readFileSync(rss, 'utf8')) : NaN };
      },
    };
  }

  async function until(what: string, w: Watch, check: () => boolean, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${w.stderr()}`);
      await sleep(50);
    }
  }

  /** A copy of the small sample with a fresh session id (its own trace), finished a day ago. */
  function rollout(path: string, edit: (lines: string[]) => void = () => {}): string {
    const text = readFileSync(SMALL, 'utf8');
    const id = JSON.parse(text.slice(0, text.indexOf('\n'))).payload.id as string;
    const lines = text.split(id).join(randomUUID()).split('\n');
    edit(lines);
    writeFileSync(path, lines.join('\n'));
    const old = new Date(Date.now() - 86_400_000);
    utimesSync(path, old, old);
    return path;
  }

  const spansOf = (path: string) => receiver.spans().filter((s) => String(s.attributes['rollout.source.path'] ?? '').endsWith(path.slice(path.lastIndexOf('/') + 1)));
  const count = (text: string, re: RegExp) => text.split('\n').filter((l) => re.test(l)).length;

  test('FIFOs, symlinks to directories, broken symlinks, loops and a zstd bomb: each named once, the rest delivered, exit 3', async () => {
    const tree = join(dir, 'tree');
    mkdirSync(join(tree, '2026', '01'), { recursive: true });
    const good = rollout(join(tree, '2026', '01', 'good.jsonl'));
    execFileSync('mkfifo', [join(tree, 'fifo.jsonl')]);
    symlinkSync(tree, join(tree, 'dir.jsonl'));
    symlinkSync('nowhere', join(tree, 'broken.jsonl'));
    symlinkSync('loop.jsonl', join(tree, 'loop.jsonl'));
    writeFileSync(join(tree, 'bomb.jsonl.zst'), zstdRle(0x78, 20_000));
    const w = watch(tree);
    await until('the healthy file', w, () => spansOf(good).length === SMALL_SPANS);
    // a second listing of the tree (a new entry) must not say them again
    rollout(join(tree, '2026', '01', 'later.jsonl'));
    await until('the later file', w, () => spansOf(join(tree, 'later.jsonl')).length === SMALL_SPANS);
    const { code, rssKb } = await w.stop();
    const err = w.stderr();
    assert.equal(code, 3, err);
    assert.equal(count(err, /fifo\.jsonl: a FIFO, not a regular file: skipped \(rename or remove it/), 1, err);
    assert.equal(count(err, /dir\.jsonl: a directory, not a regular file: skipped/), 1, err);
    assert.equal(count(err, /broken\.jsonl: a broken symlink: skipped \(fix or remove the link\)/), 1, err);
    assert.equal(count(err, /loop\.jsonl: a symlink loop: skipped/), 1, err);
    assert.match(err, /stopped: 26 spans delivered in this run; 4 entries skipped \(named above\)/);
    assert.doesNotMatch(err, /at .*\.js:\d+/, 'no stack trace');
    assert.ok(rssKb < RSS_LIMIT_KB, `peak RSS ${rssKb} KB`);
  });

  test('content nested 10,000 levels deep with --capture-content: cut at the stated depth, every span delivered', async () => {
    const tree = join(dir, 'deep');
    mkdirSync(tree);
    const deep = '{"a":'.repeat(10_000) + '"leaf"' + '}'.repeat(10_000);
    const file = rollout(join(tree, 'deep.jsonl'), (lines) => {
      const i = lines.findIndex((l) => l.includes('"function_call_output"'));
      lines[i] = lines[i]!.replace(/"output":"[^"]*"/, `"output":${deep}`);
    });
    const w = watch(tree, ['--capture-content']);
    await until('the deep file', w, () => spansOf(file).length === SMALL_SPANS);
    const { code, rssKb } = await w.stop();
    assert.equal(code, 0, w.stderr());
    assert.doesNotMatch(w.stderr(), /Maximum call stack/);
    const results = spansOf(file).map((s) => String(s.attributes['gen_ai.tool.call.result'] ?? ''));
    assert.ok(results.some((r) => /\[nested [\d,]+ levels deeper than the 64-level content limit: cut\]/.test(r)), results.join('\n').slice(0, 2000));
    assert.ok(rssKb < RSS_LIMIT_KB, `peak RSS ${rssKb} KB`);
  });

  test('a 9 MiB line is read; a line over the 64 MiB limit is skipped by number and the lines after it delivered', async () => {
    const tree = join(dir, 'long');
    mkdirSync(tree);
    const user = (text: string) => JSON.stringify({ timestamp: '2026-02-23T19:34:26.099Z', type: 'response_item', payload: { type: 'message', role: 'user', content: [{ type: 'input_text', text }] } });
    const nine = rollout(join(tree, 'nine.jsonl'), (lines) => lines.splice(5, 0, user('y'.repeat(9 * MB))));
    const over = rollout(join(tree, 'over.jsonl'), (lines) => lines.splice(5, 0, user('x'.repeat(70 * MB))));
    const w = watch(tree);
    await until('both files', w, () => spansOf(nine).length === SMALL_SPANS && spansOf(over).length === SMALL_SPANS, 60_000);
    const { code, rssKb } = await w.stop();
    assert.equal(code, 0, w.stderr());
    assert.match(w.stderr(), /over\.jsonl:6: line-too-long: line of 73,400,\d+ bytes is over the 64 MiB line limit: skipped/);
    assert.ok(rssKb < RSS_LIMIT_KB, `peak RSS ${rssKb} KB`);
  });

  test('a named watch directory that does not exist is an error, not a silent wait', async () => {
    const w = watch(join(dir, 'no-such-dir'));
    const code = await w.exited;
    assert.equal(code, 3);
    assert.match(w.stderr(), /no-such-dir: no such directory: nothing to watch \(check the path\)/);
  });

  test.skipIf(!asNobody)('as a user who cannot read them: an unreadable file and subdirectory are named once; the file is read once it is made readable', async () => {
    const tree = join(dir, 'perm');
    mkdirSync(join(tree, 'closed'), { recursive: true });
    mkdirSync(join(tree, 'open'));
    chmodSync(tree, 0o755);
    chmodSync(join(tree, 'open'), 0o777);
    const good = rollout(join(tree, 'open', 'good.jsonl'));
    const secret = rollout(join(tree, 'open', 'secret.jsonl'));
    rollout(join(tree, 'closed', 'hidden.jsonl'));
    chmodSync(good, 0o644);
    chmodSync(secret, 0o600);
    chmodSync(join(tree, 'closed'), 0o700);
    const w = watch(tree, [], true);
    await until('the readable file', w, () => spansOf(good).length === SMALL_SPANS);
    await until('the unreadable file named', w, () => /secret\.jsonl: cannot be read \(permission denied\)/.test(w.stderr()));
    await sleep(1500);
    chmodSync(secret, 0o644);
    await until('the file made readable', w, () => spansOf(secret).length === SMALL_SPANS);
    const { code, rssKb } = await w.stop();
    const err = w.stderr();
    assert.equal(code, 3, err);
    assert.equal(count(err, /secret\.jsonl: cannot be read \(permission denied\): skipped until it changes \(make it readable\); the rest is followed/), 1, err);
    assert.equal(count(err, /closed: directory not read: permission denied: skipped \(make it readable\)/), 1, err);
    assert.ok(rssKb < RSS_LIMIT_KB, `peak RSS ${rssKb} KB`);
    const unreadable = join(dir, 'unreadable-root');
    mkdirSync(unreadable, { mode: 0o700 });
    const r = watch(unreadable, [], true);
    assert.equal(await r.exited, 3);
    assert.match(r.stderr(), /unreadable-root: permission denied: nothing to watch/);
  });
});
