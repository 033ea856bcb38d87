import type { Readable } from 'node:stream';

export interface SourceLine {
  text: string;
  /** 1-based line number */
  line: number;
  /** byte offset of the line's first byte */
  offset: number;
  /** bytes the line takes in the file, its newline included */
  bytes: number;
  /** false for a last line with no newline after it (it may still be being written) */
  complete: boolean;
  /** the line was longer than the limit: its text was not kept (`text` is empty) */
  tooLong?: boolean;
}

/**
 * The longest line kept, in bytes. Real rollouts have lines of tens of MB (tool output); a longer
 * one is skipped while it is read, never held, and reported with its number.
 */
export const MAX_LINE_BYTES = 64 * 1024 * 1024;

/** Splits a byte stream into lines, keeping each line's number and byte offset. */
export async function* readLines(stream: AsyncIterable<Buffer | Uint8Array> | Readable, firstLine = 1, firstOffset = 0): AsyncGenerator<SourceLine> {
  for await (const batch of readLineBatches(stream, firstLine, firstOffset)) yield* batch;
}

/**
 * The lines each chunk completes, as one batch: consumers pay one await per chunk instead of one
 * per line. Batches hold decoded text only, never the chunk's memory.
 */
export async function* readLineBatches(stream: AsyncIterable<Buffer | Uint8Array> | Readable, firstLine = 1, firstOffset = 0, maxLineBytes = MAX_LINE_BYTES): AsyncGenerator<SourceLine[]> {
  let line = firstLine;
  let offset = firstOffset;
  // the start of an unfinished line, kept as pieces so a long line is copied once, not once per chunk
  let carry: Buffer[] = [];
  let carryBytes = 0;
  // bytes of a line over the limit, counted but not kept
  let skipped = 0;
  for await (const chunk of stream as AsyncIterable<Buffer | Uint8Array>) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const first = buf.indexOf(10);
    if (first === -1) {
      if (skipped > 0) skipped += buf.length;
      else if (buf.length > 0) {
        carry.push(buf);
        carryBytes += buf.length;
        if (carryBytes > maxLineBytes) {
          skipped = carryBytes;
          carry = [];
          carryBytes = 0;
        }
      }
      continue;
    }
    const batch: SourceLine[] = [];
    let start = 0;
    if (skipped > 0 || carryBytes + first > maxLineBytes) {
      const bytes = skipped + carryBytes + first + 1;
      batch.push({ text: '', line, offset, bytes, complete: true, tooLong: true });
      line++;
      offset += bytes;
      start = first + 1;
      carry = [];
      carryBytes = 0;
      skipped = 0;
    } else if (carryBytes > 0) {
      carry.push(buf.subarray(0, first + 1));
      const joined = Buffer.concat(carry, carryBytes + first + 1);
      line += splitLines(joined, 0, joined.length, line, offset, batch);
      offset += joined.length;
      start = first + 1;
      carry = [];
      carryBytes = 0;
    }
    const end = buf.lastIndexOf(10) + 1;
    line += splitLines(buf, start, end, line, offset, batch, maxLineBytes);
    offset += end - start;
    if (end < buf.length) {
      carry.push(buf.subarray(end));
      carryBytes = buf.length - end;
      if (carryBytes > maxLineBytes) {
        skipped = carryBytes;
        carry = [];
        carryBytes = 0;
      }
    }
    yield batch;
  }
  if (skipped > 0) yield [{ text: '', line, offset, bytes: skipped, complete: false, tooLong: true }];
  else if (carryBytes > 0) yield [{ text: Buffer.concat(carry, carryBytes).toString('utf8'), line, offset, bytes: carryBytes, complete: false }];
}

/**
 * Appends to `out` the complete lines of `buf[start, end)`, where `end` is just past a newline,
 * and returns how many there were.
 */
export function splitLines(buf: Buffer, start: number, end: number, line: number, offset: number, out: SourceLine[], maxLineBytes = MAX_LINE_BYTES): number {
  let n = 0;
  for (let nl = buf.indexOf(10, start); nl !== -1 && nl < end; nl = buf.indexOf(10, start)) {
    const stop = nl > start && buf[nl - 1] === 13 ? nl - 1 : nl;
    if (stop - start > maxLineBytes) out.push({ text: '', line: line + n, offset, bytes: nl + 1 - start, complete: true, tooLong: true });
    else out.push({ text: buf.toString('utf8', start, stop), line: line + n, offset, bytes: nl + 1 - start, complete: true });
    n++;
    offset += nl + 1 - start;
    start = nl + 1;
  }
  return n;
}
