import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { createChunkPacker, createChunkUnpacker, type PackedChunk } from './chunk-codec.js';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const knownRaw = Buffer.alloc(200_000, 9);
const packer = createChunkPacker({ workers: 1, known: [sha256(knownRaw)] });
const unpacker = createChunkUnpacker({ workers: 2 });
afterAll(async () => {
  await packer.close();
  await unpacker.close();
});

async function pack(raw: Uint8Array): Promise<PackedChunk> {
  const packed = await packer.pack(raw);
  if (!packed.compressed) throw new Error('a chunk the packer was not told about came back uncompressed');
  return packed;
}

describe('chunk codec on worker threads', () => {
  it('packs and unpacks back to the same bytes, with the hashes of both forms', async () => {
    const raw = Buffer.concat([randomBytes(300_000), Buffer.alloc(700_000, 3)]);
    const packed = await pack(Buffer.from(raw));
    expect(packed.sha256).toBe(sha256(raw));
    expect(packed.compressedSha256).toBe(sha256(packed.compressed));
    expect(packed.compressed.length).toBeLessThan(raw.length);
    const unpacked = await unpacker.unpack(Buffer.from(packed.compressed));
    expect(unpacked.raw.equals(raw)).toBe(true);
    expect(unpacked.sha256).toBe(sha256(raw));
  });

  it('only hashes a chunk whose raw SHA-256 it was given as known: its compressed bytes are the caller’s', async () => {
    expect(await packer.pack(Buffer.from(knownRaw))).toEqual({ sha256: sha256(knownRaw), compressed: null });
  });

  it('refuses damaged bytes with the decoder’s reason, and keeps working', async () => {
    const packed = await pack(randomBytes(100_000));
    const damaged = Buffer.from(packed.compressed);
    damaged[damaged.length - 2]! ^= 0xff;
    await expect(unpacker.unpack(damaged)).rejects.toThrow(/./);
    await expect(unpacker.unpack(packed.compressed.subarray(0, 50))).rejects.toThrow(/./);
    expect((await unpacker.unpack(Buffer.from(packed.compressed))).raw.length).toBe(100_000);
  });

  it('keeps the process alive while a chunk is unpacked, and lets it end once idle', () => {
    // No close(): a process with nothing else to do must still get its answer, then exit.
    const script = `
      import { createChunkPacker, createChunkUnpacker } from './src/images/chunk-codec.ts';
      const packer = createChunkPacker({ workers: 1 });
      const packed = await packer.pack(Buffer.alloc(1 << 20, 7));
      await packer.close();
      const { sha256 } = await createChunkUnpacker().unpack(packed.compressed);
      console.log(sha256);`;
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(out.trim()).toBe(sha256(Buffer.alloc(1 << 20, 7)));
  });
});
