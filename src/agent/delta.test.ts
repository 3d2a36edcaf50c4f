import { mkdtempSync, rmSync, truncateSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Manifest, Partition } from '../protocol/manifest.js';
import { openCard } from './card.js';
import { compareTables, createReadFirstPolicy } from './delta.js';

describe('createReadFirstPolicy (the stop rule)', () => {
  /** Which of `matches.length` chunks in a row the policy reads first. */
  function reads(matches: boolean[]): number[] {
    const policy = createReadFirstPolicy();
    const read: number[] = [];
    matches.forEach((matched, i) => {
      if (!policy.readNext(i)) return;
      read.push(i);
      policy.record(matched);
    });
    return read;
  }
  const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

  it.each([
    ['every chunk matches: reads them all', Array(100).fill(true), range(0, 100)],
    ['one in five differs: reads them all', range(0, 100).map((i) => i % 5 !== 0), range(0, 100)],
    [
      'nothing matches: 8 reads, then probes 16, 32, 64 … chunks apart',
      Array(300).fill(false),
      [...range(0, 8), 23, 55, 119, 247],
    ],
    [
      'changes only at the start: stops, a probe matches, reads again to the end',
      range(0, 100).map((i) => i >= 20),
      [...range(0, 8), ...range(23, 100)],
    ],
    [
      'a probe that matches reads again and resets the gap: the next stop probes 16 chunks on',
      range(0, 200).map((i) => i >= 40 && i < 60),
      [...range(0, 8), 23, ...range(55, 71), 86, 118, 182],
    ],
  ])('%s', (_case, matches: boolean[], expected: number[]) => {
    expect(reads(matches)).toEqual(expected);
  });

  describe('with the server hint of changed chunks', () => {
    /** Which chunks the policy reads first, given the hint and what each chunk would show. */
    function readsWith(changed: [number, number][], matches: boolean[]): number[] {
      const policy = createReadFirstPolicy(undefined, changed);
      return matches.flatMap((matched, i) => {
        if (!policy.readNext(i)) return [];
        policy.record(matched);
        return [i];
      });
    }

    it('every chunk changed and hinted: none is read first', () => {
      expect(readsWith([[0, 299]], Array<boolean>(300).fill(false))).toEqual([]);
    });

    it('reads every chunk outside the hint, whatever the hinted ones are', () => {
      expect(
        readsWith(
          [
            [10, 19],
            [40, 89],
          ],
          Array<boolean>(100).fill(true),
        ),
      ).toEqual([...range(0, 10), ...range(20, 40), ...range(90, 100)]);
    });

    it('a card changed outside the hint (a wrong hint) stops the rule as without one', () => {
      const read = readsWith([[0, 49]], Array<boolean>(400).fill(false));
      expect(read).toEqual([...range(50, 58), 73, 105, 169, 297]);
    });

    it('refuses ranges that are reversed or out of order', () => {
      expect(() => createReadFirstPolicy(undefined, [[5, 3]])).toThrow(/not ascending, disjoint ranges/);
      expect(() =>
        createReadFirstPolicy(undefined, [
          [5, 9],
          [9, 12],
        ]),
      ).toThrow(/range 1: 9–12/);
    });
  });

  it('the probe gap stops growing at 128 chunks', () => {
    const read = reads(Array<boolean>(1000).fill(false));
    const gaps = read.slice(8).map((i, k) => i - (k === 0 ? 7 : read[k + 7]!));
    expect(gaps).toEqual([16, 32, 64, 128, 128, 128, 128, 128, 128]);
  });

  it('reads under 1 % of the chunks when all differ at full scale (25 GB in 4 MiB chunks): the 100 % changed cost', () => {
    const n = 6000;
    const read = reads(Array<boolean>(n).fill(false)).length;
    // 8 reads before the stop, 4 probes while the gap grows to 128 (up to chunk 247), then 44 more 128 apart.
    expect(read).toBe(8 + 4 + 44);
    expect(read / n).toBeLessThan(0.01);
  });
});

describe('compareTables', () => {
  const MiB = 1024 * 1024;
  let dir: string;
  let path: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'delta-'));
    path = join(dir, 'card.img');
    writeFileSync(path, '');
    truncateSync(path, 64 * MiB);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const part = (number: number, startMiB: number, sizeMiB: number, type: string): Partition => ({
    number,
    startBytes: startMiB * MiB,
    sizeBytes: sizeMiB * MiB,
    type,
    filesystem: 'unknown',
    label: null,
  });
  const image: Partition[] = [part(1, 4, 16, '0c'), part(2, 20, 24, '83')];
  const manifest = { partitionTable: 'mbr', partitions: image } as Manifest;

  /** Writes an MBR with these partitions to the card file. */
  function writeMbr(parts: Partition[]): void {
    const mbr = Buffer.alloc(512);
    parts.forEach((p, i) => {
      const e = 446 + i * 16;
      mbr.writeUInt8(parseInt(p.type, 16), e + 4);
      mbr.writeUInt32LE(p.startBytes / 512, e + 8);
      mbr.writeUInt32LE(p.sizeBytes / 512, e + 12);
    });
    mbr.writeUInt16LE(0xaa55, 510);
    const fd = openSync(path, 'r+');
    writeSync(fd, mbr, 0, 512, 0);
    closeSync(fd);
  }

  it.each([
    ['the same table', image, true],
    ['the root grown to the end of the card (first boot)', [image[0]!, part(2, 20, 44, '83')], true],
    ['the root moved', [image[0]!, part(2, 21, 24, '83')], false],
    ['the boot partition larger', [part(1, 4, 17, '0c'), image[1]!], false],
    ['another type', [image[0]!, part(2, 20, 24, '8e')], false],
    ['a third partition', [...image, part(3, 44, 8, '83')], false],
    ['no table at all', [], false],
  ])('a card with %s: matches %s', async (_case, onCard: Partition[], matches: boolean) => {
    if (onCard.length > 0) writeMbr(onCard);
    const card = await openCard({ path, kind: 'file', sizeBytes: 64 * MiB, devNumber: null });
    const verdict = await compareTables(card, 64 * MiB, manifest);
    await card.close();
    expect(verdict.matches).toBe(matches);
    if (!verdict.matches) expect(verdict.reason).toMatch(/partition|table/);
  });

  it('a GPT card against an MBR image does not match', async () => {
    writeMbr([part(1, 0.001953125, 63, 'ee')]);
    const card = await openCard({ path, kind: 'file', sizeBytes: 64 * MiB, devNumber: null });
    const verdict = await compareTables(card, 64 * MiB, manifest);
    await card.close();
    expect(verdict).toMatchObject({ matches: false, reason: expect.stringContaining('gpt') });
  });
});
