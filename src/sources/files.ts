import { closeSync, createReadStream, fstatSync, openSync, readSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { Decompress } from 'fzstd';
import { readLineBatches, splitLines, type SourceLine } from './lines.js';

export function isZstd(path: string): boolean {
  return path.endsWith('.zst');
}

/** Opens a rollout read-only; `.zst` archives are decompressed on the fly (pure JS). */
export function openRollout(path: string): AsyncIterable<Buffer | Uint8Array> {
  if (path === '-') return process.stdin;
  const raw = createReadStream(path, { highWaterMark: 256 * 1024 });
  return isZstd(path) ? zstdStream(raw) : raw;
}

const MB = 1024 * 1024;
// Most rollouts are a few MB at most: one synchronous read into a reused buffer costs several times
// less than a stream and leaves no trail of large buffers for the GC. Bigger files are streamed.
const WHOLE_FILE_LIMIT = 8 * MB;
// Lines are decoded a batch at a time so that few decoded lines wait long enough to be promoted.
const BATCH_BYTES = 256 * 1024;
/** a read buffer no reader holds, kept for the next file */
let spare: Buffer | undefined;

/** The lines of a rollout in batches; like `readLineBatches(openRollout(path))`, only cheaper. */
export async function* readRolloutLines(path: string): AsyncGenerator<SourceLine[]> {
  if (path === '-' || isZstd(path)) {
    yield* readLineBatches(openRollout(path));
    return;
  }
  const fd = openSync(path, 'r');
  let whole: { buf: Buffer; size: number } | undefined;
  try {
    const stat = fstatSync(fd);
    if (stat.isFile() && stat.size <= WHOLE_FILE_LIMIT) whole = readWhole(fd, stat.size);
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  if (!whole) {
    // the stream owns the descriptor from here and closes it
    yield* readLineBatches(createReadStream('', { fd, highWaterMark: 256 * 1024 }));
    return;
  }
  closeSync(fd);
  const { buf, size } = whole;
  try {
    const end = size > 0 ? buf.lastIndexOf(10, size - 1) + 1 : 0;
    let start = 0;
    let line = 1;
    while (start < end) {
      const cut = buf.indexOf(10, Math.min(start + BATCH_BYTES, end - 1));
      const batch: SourceLine[] = [];
      line += splitLines(buf, start, cut + 1, line, start, batch);
      start = cut + 1;
      yield batch;
    }
    if (end < size) yield [{ text: buf.toString('utf8', end, size), line, offset: end, bytes: size - end, complete: false }];
  } finally {
    if (!spare || spare.length < buf.length) spare = buf;
  }
}

/** Reads the file up to its current end (it may have grown since fstat). */
function readWhole(fd: number, sizeHint: number): { buf: Buffer; size: number } {
  const need = sizeHint + 1; // one spare byte: a read of 0 bytes, not a full buffer, tells the end
  let buf: Buffer;
  if (spare && spare.length >= need) {
    buf = spare;
    spare = undefined;
  } else buf = Buffer.allocUnsafeSlow(Math.ceil(need / MB) * MB);
  let size = 0;
  for (;;) {
    if (size === buf.length) {
      const bigger = Buffer.allocUnsafeSlow(buf.length * 2);
      buf.copy(bigger, 0, 0, size);
      buf = bigger;
    }
    const n = readSync(fd, buf, size, buf.length - size, size);
    if (n === 0) return { buf, size };
    size += n;
  }
}

/** Stated limits of a `.zst` archive: the most it may hold, and how far it may expand beyond its first 16 MiB (real rollouts compress 5–20:1). */
export const ZSTD_LIMITS = { maxBytes: 4 * 1024 * MB, maxRatio: 200, freeBytes: 16 * MB };

export class ArchiveLimitError extends Error {}

async function* zstdStream(raw: Readable, limits = ZSTD_LIMITS): AsyncGenerator<Uint8Array> {
  const out: Uint8Array[] = [];
  let inBytes = 0;
  let outBytes = 0;
  // The decoder hands over one block at a time: the check runs per block, so one crafted chunk
  // (a 4-byte block can expand to 128 KiB) is stopped while it expands, not after.
  const dec = new Decompress((chunk) => {
    outBytes += chunk.length;
    if (outBytes > limits.maxBytes) throw new ArchiveLimitError(`archive expands past ${limits.maxBytes / MB} MiB; the rest is not read`);
    if (outBytes > limits.freeBytes && outBytes > inBytes * limits.maxRatio) {
      throw new ArchiveLimitError(`archive expands more than ${limits.maxRatio}:1 (${Math.round(outBytes / MB)} MiB from ${Math.ceil(inBytes / 1024)} KiB); the rest is not read`);
    }
    out.push(chunk);
  });
  for await (const chunk of raw as AsyncIterable<Buffer>) {
    inBytes += chunk.length;
    dec.push(chunk);
    while (out.length) yield out.shift() as Uint8Array;
  }
  dec.push(new Uint8Array(0), true);
  while (out.length) yield out.shift() as Uint8Array;
}
