import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { readLines, type SourceLine } from './lines.js';

export interface TailPosition {
  /** byte offset of the first line not yet read */
  offset: number;
  /** number of that line (1-based) */
  line: number;
}

export type TailResult =
  | { kind: 'lines'; lines: SourceLine[] }
  /** the file is shorter than what was read, or another file now has its name: read it again from the start */
  | { kind: 'rewritten' }
  | { kind: 'gone' };

/**
 * Follows one append-only file by polling: each `read` returns the complete lines appended since
 * the last one. A last line without its newline is left for later (it is still being written).
 */
export class FileTail {
  ino: number | undefined;
  size = 0;
  mtimeMs = 0;

  /** the file's first bytes as first read: a file rewritten in place starts differently */
  private head: Buffer | undefined;

  constructor(public path: string, public pos: TailPosition = { offset: 0, line: 1 }) {}

  private async sameHead(): Promise<boolean> {
    if (!this.head || this.pos.offset === 0) return true;
    const now = await readHead(this.path, this.head.length);
    return now.equals(this.head);
  }

  async read(maxBytes = 8 * 1024 * 1024): Promise<TailResult> {
    let s;
    try {
      s = await stat(this.path);
    } catch {
      return { kind: 'gone' };
    }
    const replaced = this.ino !== undefined && s.ino !== this.ino;
    this.ino = s.ino;
    const changed = s.mtimeMs !== this.mtimeMs || s.size !== this.size;
    this.mtimeMs = s.mtimeMs;
    if (replaced || s.size < this.pos.offset || (changed && !(await this.sameHead()))) {
      this.head = undefined;
      this.size = s.size;
      return { kind: 'rewritten' };
    }
    this.size = s.size;
    if (s.size === this.pos.offset) return { kind: 'lines', lines: [] };
    if (this.head === undefined) this.head = await readHead(this.path, Math.min(HEAD_BYTES, s.size));
    const lines: SourceLine[] = [];
    let taken = 0;
    // Read to the end seen, however long a line is (the reader skips one over the limit), and stop
    // once `maxBytes` of lines are in hand: the rest waits for the next read.
    const stream = createReadStream(this.path, { start: this.pos.offset, end: s.size - 1, highWaterMark: 256 * 1024 });
    for await (const l of readLines(stream, this.pos.line, this.pos.offset)) {
      if (!l.complete) break;
      lines.push(l);
      this.pos = { offset: l.offset + l.bytes, line: l.line + 1 };
      taken += l.bytes;
      if (taken >= maxBytes) break;
    }
    return { kind: 'lines', lines };
  }
}

const HEAD_BYTES = 256;

async function readHead(path: string, n: number): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(n);
    const { bytesRead } = await fh.read(buf, 0, n, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}
