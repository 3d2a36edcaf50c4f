import { randomBytes } from 'node:crypto';
import { closeSync, ftruncateSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../test/helpers/temp-dir.js';
import { readAhead } from './read-ahead.js';
import { dataRanges } from './sparse-file.js';

const dir = tempDir('rpi-deploy-read-ahead-');
afterAll(() => dir.remove());

async function pieces(path: string, pieceBytes: number, depth: number): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for await (const piece of readAhead(path, { pieceBytes, depth })) out.push(piece as Buffer);
  return out;
}

describe('readAhead', () => {
  it.each([
    ['empty', 0],
    ['shorter than a piece', 100],
    ['a whole number of pieces', 4096 * 5],
    ['a partial last piece', 4096 * 7 + 3],
  ])('gives a file that is %s in order, whole pieces but the last', async (_, size) => {
    const bytes = randomBytes(size);
    const path = join(dir.path, `f${size}`);
    writeFileSync(path, bytes);
    for (const depth of [1, 4]) {
      const got = await pieces(path, 4096, depth);
      expect(Buffer.concat(got).equals(bytes)).toBe(true);
      expect(got.slice(0, -1).every((p) => p.length === 4096)).toBe(true);
      expect(got.every((p) => p.length > 0)).toBe(true);
    }
  });

  it('makes the pieces in holes of a sparse file and reads the rest, the same bytes as reading it all', async () => {
    const path = join(dir.path, 'sparse');
    const fd = openSync(path, 'w');
    const head = randomBytes(64 * 1024);
    writeSync(fd, head, 0, head.length, 0);
    writeSync(fd, Buffer.from('in the middle'), 0, 13, 320 * 1024 + 5);
    ftruncateSync(fd, 1024 * 1024 + 100);
    closeSync(fd);
    const fh = await open(path, 'r');
    try {
      // Holes are tracked per filesystem block: each range starts and ends on one.
      expect(dataRanges(fh, 1024 * 1024 + 100)).toEqual([
        { offsetBytes: 0, lengthBytes: 64 * 1024 },
        { offsetBytes: 320 * 1024, lengthBytes: 4096 },
      ]);
    } finally {
      await fh.close();
    }
    const got = await pieces(path, 64 * 1024, 4);
    expect(Buffer.concat(got).equals(readFileSync(path))).toBe(true);
    expect(got.map((p) => p.length)).toEqual([...Array<number>(16).fill(64 * 1024), 100]);
  });

  it('fails with the open error for a file that is not there', async () => {
    await expect(pieces(join(dir.path, 'missing'), 4096, 4)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('stops early without errors when its reader stops', async () => {
    const path = join(dir.path, 'big');
    writeFileSync(path, randomBytes(4096 * 64));
    let n = 0;
    for await (const piece of readAhead(path, { pieceBytes: 4096, depth: 8 })) {
      expect((piece as Buffer).length).toBe(4096);
      if (++n === 3) break;
    }
    expect(n).toBe(3);
  });
});
