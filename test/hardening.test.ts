// Bad input, built here (no binaries committed): each case through the real CLI, checking the exit
// code, the message, that the valid parts arrived, and the peak memory of the child process.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, linkSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { fixture, ROOT, runCli } from './support/cli.ts';
import { startReceiver, type Receiver } from './support/otlp-receiver.ts';
import { zstdRle } from './support/zstd-bomb.ts';

const SMALL = fixture('localpush-sanitized-0.104-small.jsonl');
const SMALL_SPANS = 13;
const MB = 1024 * 1024;
const RSS_LIMIT_KB = 250 * 1024;

describe('bad input through export', () => {
  let receiver: Receiver;
  let dir: string;
  beforeAll(async () => {
    receiver = await startReceiver();
    dir = mkdtempSync(join(tmpdir(), 'rollout-otel-bad-'));
  });
  afterAll(async () => {
    await receiver.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Exports `paths`, returning the result, the spans that arrived and the child's peak RSS in KB. */
  async function exportOf(...paths: string[]) {
    const before = receiver.spans().length;
    const rssFile = join(dir, `rss-${Math.random()}`);
    const r = await runCli(['export', '--no-progress', '-e', receiver.url, ...paths], {
      NODE_OPTIONS: `--require ${join(ROOT, 'test/support/rss.cjs')}`, RSS_OUT: rssFile,
    });
    return { ...r, spans: receiver.spans().slice(before), rssKb: Number(readFileSync(rssFile, 'utf8')) };
  }

  function smallWith(name: string, at: number, line: string): string {
    const lines = readFileSync(SMALL, 'utf8').split('\n');
    lines.splice(at, 0, line);
    const path = join(dir, name);
    writeFileSync(path, lines.join('\n'));
    return path;
  }

  const userLine = (text: string, timestamp = '2025-10-20T09:05:00.000Z') =>
    JSON.stringify({ timestamp, type: 'response_item', payload: { type: 'message', role: 'user', content: [{ type: 'input_text', text }] } });

  test('a line over the 64 MiB limit is skipped by number; the lines after it are delivered', async () => {
    const r = await exportOf(smallWith('long-line.jsonl', 5, userLine('x'.repeat(70 * MB))));
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /long-line\.jsonl:6: line-too-long: line of 73,400,\d+ bytes is over the 64 MiB line limit: skipped/);
    assert.equal(r.spans.length, SMALL_SPANS);
    assert.ok(r.rssKb < RSS_LIMIT_KB, `peak RSS ${r.rssKb} KB`);
  });

  test('a 9 MiB line is read like any other', async () => {
    const r = await exportOf(smallWith('nine-mib.jsonl', 5, userLine('y'.repeat(9 * MB))));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.spans.length, SMALL_SPANS);
  });

  test('a zstd bomb stops at the expansion limit with a message, in bounded memory', async () => {
    const bomb = join(dir, 'bomb.jsonl.zst');
    writeFileSync(bomb, zstdRle(0x78, 20_000)); // 2.4 GiB of "x" from 80 KB
    const newlines = join(dir, 'newlines.jsonl.zst');
    writeFileSync(newlines, zstdRle(0x0a, 8_000)); // 1 GiB of empty lines
    for (const path of [bomb, newlines]) {
      const r = await exportOf(path);
      assert.equal(r.code, 3, r.stderr);
      assert.match(r.stderr, /archive expands more than 200:1/);
      assert.ok(r.rssKb < RSS_LIMIT_KB, `peak RSS ${r.rssKb} KB`);
    }
  });

  test('FIFOs, symlinks to directories, broken symlinks and loops are named and skipped; the rest is delivered', async () => {
    const tree = join(dir, 'tree');
    mkdirSync(tree);
    cpSync(SMALL, join(tree, 'good.jsonl'));
    execFileSync('mkfifo', [join(tree, 'fifo.jsonl')]);
    symlinkSync(tree, join(tree, 'dir.jsonl'));
    symlinkSync('nowhere', join(tree, 'broken.jsonl'));
    symlinkSync('loop.jsonl', join(tree, 'loop.jsonl'));
    const r = await exportOf(tree);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /fifo\.jsonl: a FIFO, not a regular file: skipped/);
    assert.match(r.stderr, /dir\.jsonl: a directory, not a regular file: skipped/);
    assert.match(r.stderr, /broken\.jsonl: a broken symlink: skipped/);
    assert.match(r.stderr, /loop\.jsonl: a symlink loop: skipped/);
    assert.equal(r.spans.length, SMALL_SPANS);
    const named = await exportOf(join(tree, 'fifo.jsonl'));
    assert.equal(named.code, 3);
    assert.match(named.stderr, /a FIFO, not a regular file: nothing read/);
  });

  test('a payload hard-linked to a file outside the bundle is refused, and the exit code says so', async () => {
    const src = fixture('bundles');
    const name = readdirSync(src).find((d) => d.startsWith('trace-7f0c'))!;
    const bundle = join(dir, name);
    cpSync(join(src, name), bundle, { recursive: true });
    const outside = join(dir, 'outside.json');
    cpSync(join(bundle, 'payloads', '1.json'), outside);
    rmSync(join(bundle, 'payloads', '1.json'));
    linkSync(outside, join(bundle, 'payloads', '1.json'));
    const r = await exportOf(bundle);
    assert.equal(r.code, 4, r.stderr);
    assert.match(r.stderr, /payload-outside-bundle: payloads\/1\.json: refused: the file is a hard link/);
    assert.ok(r.spans.length > 0);
  });

  test('a time past what OTLP can carry (year 9999) is unreadable, not wrapped', async () => {
    const r = await exportOf(smallWith('y9999.jsonl', 5, userLine('late', '9999-12-31T23:59:59.000Z')));
    assert.match(r.stderr, /y9999\.jsonl:6: response_item: unreadable timestamp "9999-12-31T23:59:59.000Z"; placed at the previous line's time/);
    for (const s of r.spans) assert.ok(Number(s.endNs / 1_000_000n) < Date.UTC(2100, 0, 1), `${s.name} ends after 2100`);
  });

  test('tool output nested 10,000 levels deep, with content captured, is cut at the depth limit and the session delivered', async () => {
    const deep = `{"output":${'['.repeat(10_000)}${']'.repeat(10_000)},"metadata":{"exit_code":0}}`;
    const lines = readFileSync(SMALL, 'utf8').split('\n');
    const at = lines.findIndex((l) => l.includes('"function_call_output"'));
    const v = JSON.parse(lines[at]!);
    v.payload.output = deep;
    lines[at] = JSON.stringify(v);
    const path = join(dir, 'deep.jsonl');
    writeFileSync(path, lines.join('\n'));
    const before = receiver.spans().length;
    const r = await runCli(['export', '--no-progress', '--capture-content', '-e', receiver.url, path]);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /call stack/);
    assert.equal(receiver.spans().length - before, SMALL_SPANS);
  });

  test('a turn of 30,000 tool calls: held up to the turn limit, the rest counted on the turn span and named, memory bounded', async () => {
    const lines = readFileSync(SMALL, 'utf8').split('\n').filter(Boolean);
    const call = JSON.parse(lines.find((l) => l.includes('"function_call"'))!);
    const output = JSON.parse(lines.find((l) => l.includes('"function_call_output"'))!);
    const at = lines.findIndex((l) => l.includes('"function_call"'));
    const many: string[] = [];
    for (let i = 0; i < 30_000; i++) {
      call.payload.call_id = output.payload.call_id = `many-${i}`;
      many.push(JSON.stringify(call), JSON.stringify(output));
    }
    const path = join(dir, 'huge-turn.jsonl');
    writeFileSync(path, [...lines.slice(0, at), ...many, ...lines.slice(at)].join('\n'));
    const r = await exportOf(path);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /huge-turn\.jsonl:\d+: turn-too-large: [\d,]+ tool calls and model outputs past the 10,000-item turn limit counted, not traced/);
    const turn = r.spans.find((s) => s.name.startsWith('handle_conversation_turn'))!;
    const tools = r.spans.filter((s) => s.name.startsWith('execute_tool')).length;
    assert.ok(tools > 4_000 && tools < 10_000, `${tools} tool spans`);
    // counted are the calls past the limit and the model output lines after them
    assert.ok(tools + Number(turn.attributes['codex.turn.untraced_calls']) >= 30_000 + 5, 'every call traced or counted');
    assert.ok(r.spans.some((s) => s.name.startsWith('invoke_agent')));
    assert.ok(r.rssKb < RSS_LIMIT_KB, `peak RSS ${r.rssKb} KB`);
  });

  test('a session record with one field of an unexpected shape still starts the session: the field is left out and named', async () => {
    const lines = readFileSync(SMALL, 'utf8').split('\n');
    const meta = JSON.parse(lines[0]!);
    meta.payload.git = { ...meta.payload.git, commit_hash: { unexpected: true } };
    lines[0] = JSON.stringify(meta);
    const path = join(dir, 'odd-meta.jsonl');
    writeFileSync(path, lines.join('\n'));
    const r = await exportOf(path);
    assert.equal(r.code, 4, r.stderr);
    assert.match(r.stderr, /odd-meta\.jsonl:1: session_meta: git\.commit_hash: .*; left out/);
    const root = r.spans.find((s) => s.name.startsWith('invoke_agent'))!;
    assert.equal(root.attributes['gen_ai.agent.id'], meta.payload.id, 'the recorded thread id, not one made up');
    assert.equal(root.attributes['codex.cli_version'], meta.payload.cli_version);
    assert.equal(r.spans.length, SMALL_SPANS);
    const listed = await runCli(['list', '--json', path]);
    assert.equal(JSON.parse(listed.stdout.split('\n')[0]!).id, meta.payload.id, listed.stderr);
  });

  test('list: a session whose first line holds megabytes (long instructions) is listed like any other', async () => {
    const lines = readFileSync(SMALL, 'utf8').split('\n');
    const meta = JSON.parse(lines[0]!);
    meta.payload.base_instructions = { text: 'i'.repeat(5 * MB) };
    lines[0] = JSON.stringify(meta);
    const path = join(dir, 'long-meta.jsonl');
    writeFileSync(path, lines.join('\n'));
    const r = await runCli(['list', '--json', path]);
    assert.equal(r.code, 0, r.stderr);
    const entry = JSON.parse(r.stdout.split('\n')[0]!);
    assert.equal(entry.id, meta.payload.id);
    assert.equal(entry.cwd, meta.payload.cwd);
  });

  test('names of megabytes (model, tool, cwd) are cut at 2,048 characters: on every span, in the summary, in memory', async () => {
    const big = (c: string) => c.repeat(5 * MB);
    const lines = readFileSync(SMALL, 'utf8').split('\n').filter(Boolean).map((l) => {
      const v = JSON.parse(l);
      if (v.type === 'session_meta') v.payload.cwd = `/${big('d')}`;
      if (v.type === 'turn_context') v.payload.model = big('m');
      if (v.payload?.type === 'function_call') v.payload.name = big('n');
      return JSON.stringify(v);
    });
    const path = join(dir, 'long-names.jsonl');
    writeFileSync(path, lines.join('\n'));
    const r = await exportOf(path);
    assert.equal(r.code, 0, r.stderr.slice(0, 2000));
    assert.equal(r.spans.length, SMALL_SPANS);
    const longest = Math.max(...r.spans.flatMap((s) => [s.name.length, ...Object.values(s.attributes).map((v) => String(v).length)]));
    assert.ok(longest < 2_200, `a value of ${longest} characters`);
    assert.ok(r.stderr.length < 10_000, `${r.stderr.length} characters of messages`);
    assert.ok(r.rssKb < RSS_LIMIT_KB, `peak RSS ${r.rssKb} KB`);
  });

  test('a bundle whose event log is over the 12 MiB bundle limit is named and not read; memory stays small', async () => {
    const src = fixture('bundles/trace-7f0c1e2a-3b4d-4c5e-8f60-718293a4b5c6-019e1a2b-0000-7000-8000-00000000a001');
    const copy = join(dir, 'big-bundle', src.split('/').slice(-1)[0]!);
    cpSync(src, copy, { recursive: true });
    writeFileSync(join(copy, 'trace.jsonl'), readFileSync(join(copy, 'trace.jsonl'), 'utf8') + '\n'.repeat(13 * MB));
    const r = await exportOf(copy);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /trace\.jsonl: event log of 13\.0 MiB is over the 12 MiB bundle limit .*: not read; export the threads' rollout files instead/);
    assert.equal(r.spans.length, 0);
    assert.ok(r.rssKb < RSS_LIMIT_KB, `peak RSS ${r.rssKb} KB`);
  });

  test('a schema warning names the field it is about', async () => {
    const r = await exportOf(smallWith('bad-field.jsonl', 3, JSON.stringify({ timestamp: '2025-10-20T09:05:00.000Z', type: 'event_msg', payload: { type: 'token_count', info: { total_token_usage: { input_tokens: 'many' } } } })));
    assert.match(r.stderr, /bad-field\.jsonl:4: token_count: info\.total_token_usage\.input_tokens: /);
  });
});
