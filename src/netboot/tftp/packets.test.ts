import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { encodeData } from './codec.js';
import { dataPackets } from './packets.js';

describe('ready-made DATA datagrams', () => {
  it.each([
    ['a file ending mid-block', 1468 * 3 + 10, 1468],
    ['a file of whole blocks (an empty last block follows)', 512 * 4, 512],
    ['an empty file', 0, 512],
    ['past 65535 blocks (the number wraps to 0)', 8 * 65_540 + 3, 8],
  ])('%s: each equals DATA(block, bytes)', (_case, size, blksize) => {
    const bytes = randomBytes(size);
    const packets = dataPackets(bytes, blksize);
    const blocks = Math.floor(size / blksize) + 1;
    for (let block = 1; block <= blocks; block++) {
      const want = encodeData(block, bytes.subarray((block - 1) * blksize, Math.min(block * blksize, size)));
      if (!packets.packet(block).equals(want)) throw new Error(`block ${block} differs`);
    }
    expect(packets.packet(blocks).length).toBe(4 + (size % blksize));
  });

  it('builds once per file and block size', () => {
    const bytes = randomBytes(5000);
    expect(dataPackets(bytes, 512).packet(2).buffer).toBe(dataPackets(bytes, 512).packet(3).buffer);
    expect(dataPackets(bytes, 1468).packet(1).buffer).not.toBe(dataPackets(bytes, 512).packet(1).buffer);
  });
});
