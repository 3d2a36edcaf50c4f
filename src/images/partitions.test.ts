import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bufferDevice } from '../lib/fat/index.js';
import { analyseImage } from './analyse.js';
import { partitionPastEnd, readPartitionTable } from '../lib/disk/index.js';

/** Partition tables written by sfdisk (util-linux), read back and damaged on purpose. */
const dir = mkdtempSync(join(tmpdir(), 'parts-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const MiB = 1024 * 1024;
const FAT_TYPE = 'ebd0a0a2-b9e5-4433-87c0-68b6b72699c7';
const LINUX_TYPE = '0fc63daf-8483-477d-8e79-3d69e4ac47e4';

function disk(name: string, sizeMiB: number, script: string): Buffer {
  const path = join(dir, `${name}.img`);
  rmSync(path, { force: true });
  execFileSync('truncate', ['-s', `${sizeMiB}M`, path]);
  execFileSync('sfdisk', ['--quiet', '--no-reread', '--no-tell-kernel', path], { input: script });
  return readFileSync(path);
}

const flip = (b: Buffer, at: number) => b.writeUInt8(b.readUInt8(at) ^ 0xff, at);

const gptScript = `label: gpt\nfirst-lba: 2048\nstart=2048, size=16384, type=${FAT_TYPE}, name="boot"\nstart=18432, size=20480, type=${LINUX_TYPE}, name="root"\n`;

describe('partition tables', () => {
  it('reads a GPT made by sfdisk, with the backup at the end counted as used', async () => {
    const img = disk('gpt', 24, gptScript);
    const t = await readPartitionTable(bufferDevice(img));
    expect(t.kind).toBe('gpt');
    expect(t.entries).toEqual([
      { number: 1, startBytes: 1 * MiB, sizeBytes: 8 * MiB, type: FAT_TYPE, isContainer: false },
      { number: 2, startBytes: 9 * MiB, sizeBytes: 10 * MiB, type: LINUX_TYPE, isContainer: false },
    ]);
    const last = t.usedRanges[t.usedRanges.length - 1]!;
    expect(t.usedRanges[0]).toEqual({ offsetBytes: 0, lengthBytes: 1 * MiB });
    // 128 entries of 128 bytes (16 KiB) plus the backup header, ending at the end of the disk.
    expect(last).toEqual({ offsetBytes: img.length - 16 * 1024 - 512, lengthBytes: 16 * 1024 + 512 });
  });

  it('falls back to the backup GPT header when the primary is damaged', async () => {
    const img = disk('gpt-primary', 24, gptScript);
    flip(img, 512 + 20); // inside the primary header: its CRC no longer matches
    const t = await readPartitionTable(bufferDevice(img));
    expect(t.entries.map((e) => e.startBytes)).toEqual([1 * MiB, 9 * MiB]);
  });

  it('counts the whole disk as used when no GPT header can be trusted', async () => {
    const img = disk('gpt-dead', 24, gptScript);
    flip(img, 512 + 20);
    flip(img, img.length - 512 + 20);
    expect(await readPartitionTable(bufferDevice(img))).toEqual({
      kind: 'gpt',
      entries: [],
      usedRanges: [{ offsetBytes: 0, lengthBytes: img.length }],
    });
  });

  it('counts the whole disk as used when the GPT entry array fails its CRC', async () => {
    const img = disk('gpt-array', 24, gptScript);
    flip(img, 1024 + 56); // a name byte of entry 1 in the primary array
    expect((await readPartitionTable(bufferDevice(img))).usedRanges).toEqual([
      { offsetBytes: 0, lengthBytes: img.length },
    ]);
  });

  it('reads MBR primary entries and keeps an extended partition whole', async () => {
    const img = disk(
      'mbr',
      40,
      'label: dos\nstart=2048, size=8192, type=c\nstart=10240, size=40960, type=5\nstart=12288, size=8192, type=83\n',
    );
    const t = await readPartitionTable(bufferDevice(img));
    expect(t.kind).toBe('mbr');
    expect(t.entries.map((e) => [e.number, e.startBytes, e.type, e.isContainer])).toEqual([
      [1, 1 * MiB, '0c', false],
      [2, 5 * MiB, '05', true],
    ]);
    expect(t.usedRanges).toEqual([{ offsetBytes: 0, lengthBytes: 1 * MiB }]);
  });

  it.each([
    ['no signature', () => Buffer.alloc(MiB)],
    [
      'boot code where the table would be',
      () => Buffer.from(Buffer.alloc(MiB).fill(0x41).fill(0x55, 510, 511).fill(0xaa, 511, 512)),
    ],
    ['less than a sector', () => Buffer.alloc(100)],
  ])('finds no table in %s', async (_case, make) => {
    expect((await readPartitionTable(bufferDevice(make()))).kind).toBe('none');
  });

  it.each([
    ['an MBR', 'cut-mbr', 'label: dos\nstart=2048, size=8192, type=c\nstart=10240, size=20480, type=83\n'],
    ['a GPT', 'cut-gpt', gptScript],
  ])(
    'keeps the sizes %s gives when the image was cut short, and names the partition past the end',
    async (_case, name, script) => {
      const whole = disk(name, 24, script);
      const cut = whole.subarray(0, 12 * MiB);
      const t = await readPartitionTable(bufferDevice(cut));
      const second = t.entries.find((e) => e.number === 2)!;
      expect(second.startBytes + second.sizeBytes).toBeGreaterThan(cut.length);
      expect(partitionPastEnd(t, cut.length)).toBe(second);
      expect(partitionPastEnd(t, whole.length)).toBeUndefined();
      await expect(analyseImage(bufferDevice(cut), { name: 'cut.img', format: 'img' })).rejects.toMatchObject({
        code: 'IMAGE_PARTITION_PAST_END',
        details: { partition: 2, imageBytes: 12 * MiB },
      });
    },
  );

  it('names the partition that starts past the end of an image cut before it', async () => {
    const cut = disk(
      'cut-early',
      24,
      'label: dos\nstart=2048, size=8192, type=c\nstart=18432, size=8192, type=83\n',
    ).subarray(0, 8 * MiB);
    const t = await readPartitionTable(bufferDevice(cut));
    expect(t.kind).toBe('mbr');
    expect(partitionPastEnd(t, cut.length)).toMatchObject({ number: 2, startBytes: 9 * MiB });
  });

  it('analyses a GPT image: partitions past the table, the backup used, free space unused', async () => {
    const img = disk('gpt-analyse', 24, gptScript);
    const a = await analyseImage(bufferDevice(img), { name: 'gpt-analyse.img', format: 'img' });
    expect(a.partitionTable).toBe('gpt');
    expect(a.partitions.map((p) => [p.number, p.filesystem])).toEqual([
      [1, 'unknown'],
      [2, 'unknown'],
    ]);
    // Unknown filesystems count whole; only the space after partition 2 before the backup is free.
    expect(a.usedRanges).toEqual([
      { offsetBytes: 0, lengthBytes: 19 * MiB },
      { offsetBytes: img.length - 16 * 1024 - 512, lengthBytes: 16 * 1024 + 512 },
    ]);
  });
});
