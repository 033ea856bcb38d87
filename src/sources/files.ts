import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { Decompress } from 'fzstd';

export function isZstd(path: string): boolean {
  return path.endsWith('.zst');
}

/** Opens a rollout read-only; `.zst` archives are decompressed on the fly (pure JS). */
export function openRollout(path: string): AsyncIterable<Buffer | Uint8Array> {
  if (path === '-') return process.stdin;
  const raw = createReadStream(path, { highWaterMark: 256 * 1024 });
  return isZstd(path) ? zstdStream(raw) : raw;
}

async function* zstdStream(raw: Readable): AsyncGenerator<Uint8Array> {
  const out: Uint8Array[] = [];
  const dec = new Decompress((chunk) => {
    out.push(chunk);
  });
  for await (const chunk of raw as AsyncIterable<Buffer>) {
    dec.push(chunk);
    while (out.length) yield out.shift() as Uint8Array;
  }
  dec.push(new Uint8Array(0), true);
  while (out.length) yield out.shift() as Uint8Array;
}
