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
}

/** Splits a byte stream into lines, keeping each line's number and byte offset. */
export async function* readLines(stream: AsyncIterable<Buffer | Uint8Array> | Readable, firstLine = 1, firstOffset = 0): AsyncGenerator<SourceLine> {
  let line = firstLine;
  let offset = firstOffset;
  let carry: Buffer | undefined;
  for await (const chunk of stream as AsyncIterable<Buffer | Uint8Array>) {
    let buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (carry) {
      buf = Buffer.concat([carry, buf]);
      carry = undefined;
    }
    let start = 0;
    for (let nl = buf.indexOf(10, start); nl !== -1; nl = buf.indexOf(10, start)) {
      const end = nl > start && buf[nl - 1] === 13 ? nl - 1 : nl;
      yield { text: buf.toString('utf8', start, end), line, offset, bytes: nl + 1 - start, complete: true };
      line++;
      offset += nl + 1 - start;
      start = nl + 1;
    }
    if (start < buf.length) carry = buf.subarray(start);
  }
  if (carry && carry.length > 0) yield { text: carry.toString('utf8'), line, offset, bytes: carry.length, complete: false };
}
