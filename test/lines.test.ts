import assert from 'node:assert/strict';
import { describe, test } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readRolloutLines } from '../src/sources/files.ts';
import { readLineBatches, readLines, type SourceLine } from '../src/sources/lines.ts';

// The line readers against a reading done the obvious way, on awkward inputs cut into awkward chunks.

function expected(bytes: Buffer): SourceLine[] {
  const out: SourceLine[] = [];
  let offset = 0;
  let line = 1;
  while (offset < bytes.length) {
    const nl = bytes.indexOf(10, offset);
    const complete = nl !== -1;
    let raw = bytes.subarray(offset, complete ? nl : bytes.length);
    if (complete && raw.at(-1) === 13) raw = raw.subarray(0, -1);
    const end = complete ? nl + 1 : bytes.length;
    out.push({ text: raw.toString('utf8'), line, offset, bytes: end - offset, complete });
    offset = end;
    line++;
  }
  return out;
}

async function* chunked(bytes: Buffer, sizes: number[]): AsyncGenerator<Uint8Array> {
  let at = 0;
  for (let i = 0; at < bytes.length; i++) {
    const n = sizes[i % sizes.length] as number;
    yield new Uint8Array(bytes.buffer, bytes.byteOffset + at, Math.min(n, bytes.length - at));
    at += n;
  }
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

// a deterministic generator, so a failure can be replayed
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const PIECES = ['{"a":1}', '', '\r', 'é', '日本', '🙂', 'x'.repeat(300), '{"type":"event_msg","payload":{"text":"ünïcödé"}}'];

function sample(seed: number): Buffer {
  const r = random(seed);
  const lines: string[] = [];
  for (let i = 0, n = Math.floor(r() * 40); i < n; i++) {
    let l = '';
    for (let j = 0, m = Math.floor(r() * 4); j < m; j++) l += PIECES[Math.floor(r() * PIECES.length)];
    lines.push(r() < 0.2 ? `${l}\r` : l);
  }
  const text = lines.join('\n') + (r() < 0.5 ? '\n' : '');
  return Buffer.from(text, 'utf8');
}

describe('line readers', () => {
  test('readLines and readLineBatches match a plain reading for any chunking', async () => {
    for (let seed = 1; seed <= 200; seed++) {
      const bytes = sample(seed);
      const want = expected(bytes);
      for (const sizes of [[1], [2, 3], [7], [64], [1 << 20], [5, 1, 300]]) {
        assert.deepEqual(await collect(readLines(chunked(bytes, sizes))), want, `seed ${seed}, chunks ${sizes}`);
        const batches = await collect(readLineBatches(chunked(bytes, sizes)));
        assert.deepEqual(batches.flat(), want, `seed ${seed}, chunks ${sizes} (batches)`);
      }
    }
  });

  test('line numbers and offsets continue from the given start', async () => {
    const bytes = Buffer.from('a\nbb\r\nccc');
    const lines = await collect(readLines(chunked(bytes, [2]), 10, 100));
    assert.deepEqual(lines, [
      { text: 'a', line: 10, offset: 100, bytes: 2, complete: true },
      { text: 'bb', line: 11, offset: 102, bytes: 4, complete: true },
      { text: 'ccc', line: 12, offset: 106, bytes: 3, complete: false },
    ]);
  });

  test('readRolloutLines reads files whole or streamed, with the same lines', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rollout-lines-'));
    for (let seed = 1; seed <= 50; seed++) {
      const bytes = sample(seed);
      const path = join(dir, `rollout-${seed}.jsonl`);
      writeFileSync(path, bytes);
      assert.deepEqual((await collect(readRolloutLines(path))).flat(), expected(bytes), `seed ${seed}`);
    }
    // larger than one read batch, and a reused read buffer longer than the file
    const big = Buffer.from(Array.from({ length: 20000 }, (_, i) => `{"i":${i},"pad":"${'é'.repeat(i % 50)}"}`).join('\n'));
    writeFileSync(join(dir, 'big.jsonl'), big);
    const batches = await collect(readRolloutLines(join(dir, 'big.jsonl')));
    assert.ok(batches.length > 1);
    assert.deepEqual(batches.flat(), expected(big));
    writeFileSync(join(dir, 'small.jsonl'), 'x\ny');
    assert.deepEqual((await collect(readRolloutLines(join(dir, 'small.jsonl')))).flat(), expected(Buffer.from('x\ny')));
    writeFileSync(join(dir, 'empty.jsonl'), '');
    assert.deepEqual((await collect(readRolloutLines(join(dir, 'empty.jsonl')))).flat(), []);
  });

  test('readRolloutLines fails like a stream on missing files and directories', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rollout-lines-'));
    await assert.rejects(collect(readRolloutLines(join(dir, 'missing.jsonl'))), { code: 'ENOENT' });
    await assert.rejects(collect(readRolloutLines(dir)), { code: 'EISDIR' });
  });
});
