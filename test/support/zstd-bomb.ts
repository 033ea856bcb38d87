/**
 * A valid zstd frame of RLE blocks: each block is 4 bytes and expands to 128 KiB of one byte. No
 * compressor is needed to make a decompression bomb, so none is committed.
 */
export function zstdRle(byte: number, blocks: number): Buffer {
  const header = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, (17 - 10) << 3]);
  const parts = [header];
  for (let i = 0; i < blocks; i++) {
    const last = i === blocks - 1 ? 1 : 0;
    const v = last | (1 << 1) | (131072 << 3);
    parts.push(Buffer.from([v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, byte]));
  }
  return Buffer.concat(parts);
}
