import { createHash, randomBytes } from 'node:crypto';
import {
  openSync,
  closeSync,
  writeSync,
  readFileSync,
  mkdtempSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Manifest, ManifestChunk } from '../protocol/manifest.js';
import { openCard, type Card } from './card.js';
import type { ChunkFetcher } from './chunk-fetch.js';
import { createReadFirstPolicy } from './delta.js';
import { pickedWhole, readBackPlan } from './verify-sample.js';
import {
  BOOT_SECTOR_BYTES,
  checkManifest,
  newWriteCounters,
  writeBootSector,
  writeImage,
  type WriteOptions,
} from './writer.js';

const CHUNK = 64 * 1024;
let dir: string;
let cardPath: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'writer-'));
  cardPath = join(dir, 'card.img');
  writeFileSync(cardPath, '');
  truncateSync(cardPath, 32 * CHUNK);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** An image of `chunks` chunks of random bytes (the last one short); `unused` chunks are zeros and not used. */
function makeImage(chunks: number, unused: number[] = []): { image: Buffer; manifest: Manifest } {
  const image = randomBytes(chunks * CHUNK - 1000);
  for (const i of unused) image.fill(0, i * CHUNK, Math.min(image.length, (i + 1) * CHUNK));
  const table: ManifestChunk[] = [];
  for (let i = 0; i * CHUNK < image.length; i++) {
    const raw = image.subarray(i * CHUNK, (i + 1) * CHUNK);
    table.push({
      index: i,
      offsetBytes: i * CHUNK,
      sizeBytes: raw.length,
      sha256: createHash('sha256').update(raw).digest('hex'),
      storedBytes: raw.length,
      storedSha256: createHash('sha256').update(raw).digest('hex'),
      used: !unused.includes(i),
    });
  }
  const manifest: Manifest = {
    format: 1,
    imageId: 1,
    product: 'KXP2',
    version: '1',
    sizeBytes: image.length,
    sha256: createHash('sha256').update(image).digest('hex'),
    chunkSizeBytes: CHUNK,
    chunks: table,
    partitionTable: 'mbr',
    partitions: [],
    usedRanges: [],
    usedBytes: 0,
    boot: null,
  };
  return { image, manifest };
}

function memoryFetcher(image: Buffer, fetched: number[] = []): ChunkFetcher {
  return {
    stats: { resumedRequests: 0, corruptChunks: 0 },
    async fetch(c) {
      fetched.push(c.index);
      return Buffer.from(image.subarray(c.offsetBytes, c.offsetBytes + c.sizeBytes));
    },
  };
}

/** A card whose medium flips byte `at` of chunk `index` after each write of it, `times` times: a faulty card. */
function flakyCard(card: Card, index: number, times: number, at = 100): Card {
  let left = times;
  return {
    ...card,
    verifyMethod: card.verifyMethod,
    async writeAt(offset, data, signal) {
      await card.writeAt(offset, data, signal);
      if (offset === index * CHUNK && left-- > 0) {
        await card.flush();
        const fd = openSync(cardPath, 'r+');
        writeSync(fd, Buffer.from([data[at]! ^ 0xff]), 0, 1, offset + at);
        closeSync(fd);
      }
    },
  };
}

async function run(
  manifest: Manifest,
  image: Buffer,
  card: Card,
  resumed: number[] = [],
  fetched: number[] = [],
  extra: Partial<WriteOptions> = {},
) {
  const phases: string[] = [];
  const verified: number[] = [];
  const counters = newWriteCounters();
  const out = await writeImage({
    manifest,
    card,
    fetcher: memoryFetcher(image, fetched),
    parallel: 3,
    verifyBatchBytes: 4 * CHUNK,
    resumed: new Set(resumed),
    signal: new AbortController().signal,
    onPhase: (p) => phases.push(p),
    onWritten: () => undefined,
    onVerified: (c) => verified.push(c.index),
    readBack: readBackPlan('full', 'test'),
    counters,
    ...extra,
  });
  return { out, phases, verified, counters };
}

describe('writeImage', () => {
  it('writes every used chunk, skips unused ones, and holds the partition table back until writeBootSector', async () => {
    const { image, manifest } = makeImage(10, [4, 7]);
    checkManifest(manifest);
    const card = await openCard({ path: cardPath, kind: 'file', sizeBytes: 32 * CHUNK, devNumber: null });
    expect(card.verifyMethod).toBe('direct-io');
    const { out, phases, verified } = await run(manifest, image, card);
    expect(phases).toEqual(['writing', 'verifying']);
    expect(verified.sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 5, 6, 8, 9]);
    let onCard = readFileSync(cardPath);
    expect(onCard.subarray(0, BOOT_SECTOR_BYTES).equals(Buffer.alloc(BOOT_SECTOR_BYTES))).toBe(true);
    await writeBootSector(card, out.bootSector, new AbortController().signal);
    await card.close();
    onCard = readFileSync(cardPath);
    for (const c of manifest.chunks) {
      const want = c.used ? image.subarray(c.offsetBytes, c.offsetBytes + c.sizeBytes) : Buffer.alloc(c.sizeBytes);
      expect(onCard.subarray(c.offsetBytes, c.offsetBytes + c.sizeBytes).equals(want)).toBe(true);
    }
  });

  it('rewrites a chunk that reads back wrong, and succeeds when the second write holds', async () => {
    const { image, manifest } = makeImage(6);
    const card = flakyCard(
      await openCard({ path: cardPath, kind: 'file', sizeBytes: 32 * CHUNK, devNumber: null }),
      3,
      1,
    );
    const { out } = await run(manifest, image, card);
    expect(out.rewrites).toBe(1);
    await card.close();
    expect(
      readFileSync(cardPath)
        .subarray(3 * CHUNK, 4 * CHUNK)
        .equals(image.subarray(3 * CHUNK, 4 * CHUNK)),
    ).toBe(true);
  });

  it('gives up on a chunk that keeps reading back wrong', async () => {
    const { image, manifest } = makeImage(6);
    const card = flakyCard(
      await openCard({ path: cardPath, kind: 'file', sizeBytes: 32 * CHUNK, devNumber: null }),
      2,
      99,
    );
    await expect(run(manifest, image, card)).rejects.toMatchObject({
      code: 'AGENT_VERIFY_MISMATCH',
      details: { chunk: 2 },
    });
    await card.close();
  });

  it('reads resumed chunks back instead of fetching them, and fetches the ones that changed', async () => {
    const { image, manifest } = makeImage(8);
    const first = await openCard({ path: cardPath, kind: 'file', sizeBytes: 32 * CHUNK, devNumber: null });
    await run(manifest, image, first);
    await first.close();
    // Chunk 5 changed on the card since (say, the board booted a half-written card once).
    const fd = openSync(cardPath, 'r+');
    writeSync(fd, Buffer.from('changed'), 0, 7, 5 * CHUNK + 10);
    closeSync(fd);
    const fetched: number[] = [];
    const card = await openCard({ path: cardPath, kind: 'file', sizeBytes: 32 * CHUNK, devNumber: null });
    const { out, verified } = await run(manifest, image, card, [1, 2, 3, 4, 5, 6, 7], fetched);
    await card.close();
    expect(fetched.sort()).toEqual([0, 5]);
    expect(out.resumedOk).toBe(6);
    expect(verified.sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(
      readFileSync(cardPath)
        .subarray(5 * CHUNK, 6 * CHUNK)
        .equals(image.subarray(5 * CHUNK, 6 * CHUNK)),
    ).toBe(true);
  });
});

describe('writeImage, delta re-image', () => {
  const open = () => openCard({ path: cardPath, kind: 'file', sizeBytes: 32 * CHUNK, devNumber: null });
  /** The card holds `old` (as a finished write leaves it); returns the card reopened. */
  async function cardHolding(old: Buffer): Promise<Card> {
    const fd = openSync(cardPath, 'r+');
    writeSync(fd, old, 0, old.length, 0);
    closeSync(fd);
    return open();
  }
  /** `image` with the chunks `changed` rewritten with other bytes. */
  function changedCopy(image: Buffer, changed: number[]): Buffer {
    const copy = Buffer.from(image);
    for (const i of changed) randomBytes(CHUNK).copy(copy, i * CHUNK, 0, Math.min(CHUNK, copy.length - i * CHUNK));
    return copy;
  }

  it('fetches and writes only the chunks that differ from the card, and verifies the rest by reading them', async () => {
    const { image, manifest } = makeImage(12, [9]);
    const card = await cardHolding(changedCopy(image, [3, 6]));
    const fetched: number[] = [];
    const { verified, counters } = await run(manifest, image, card, [], fetched, {
      readFirst: createReadFirstPolicy(),
    });
    await card.close();
    expect(fetched.sort((a, b) => a - b)).toEqual([0, 3, 6]);
    expect(verified.sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 11]);
    expect(counters).toMatchObject({ chunksReadFirst: 10, chunksReused: 8, chunksWritten: 3 });
    const onCard = readFileSync(cardPath);
    for (const c of manifest.chunks.filter((c) => c.used && c.index !== 0))
      expect(onCard.subarray(c.offsetBytes, c.offsetBytes + c.sizeBytes)).toEqual(
        image.subarray(c.offsetBytes, c.offsetBytes + c.sizeBytes),
      );
  });

  it('rewrites a chunk the board changed on its card where the image did not change', async () => {
    const { image, manifest } = makeImage(8);
    const onCard = Buffer.from(image);
    onCard.write('log line written in service', 5 * CHUNK + 300);
    const card = await cardHolding(onCard);
    const fetched: number[] = [];
    await run(manifest, image, card, [], fetched, { readFirst: createReadFirstPolicy() });
    await card.close();
    expect(fetched.sort((a, b) => a - b)).toEqual([0, 5]);
    expect(readFileSync(cardPath).subarray(5 * CHUNK, 6 * CHUNK)).toEqual(image.subarray(5 * CHUNK, 6 * CHUNK));
  });

  it('stops reading first when nothing matches and writes the rest straight, probing one chunk in 16', async () => {
    const { image, manifest } = makeImage(30);
    const card = await cardHolding(randomBytes(30 * CHUNK));
    const fetched: number[] = [];
    const policy = createReadFirstPolicy();
    const { counters } = await run(manifest, image, card, [], fetched, { readFirst: policy });
    await card.close();
    expect(fetched).toHaveLength(30);
    // 8 reads before the rule stops, then one probe in 16 of the 21 chunks left.
    expect(counters.chunksReadFirst).toBe(8 + 1);
    expect(policy.stops).toBe(1);
    expect(
      readFileSync(cardPath)
        .subarray(CHUNK, 30 * CHUNK - 1000)
        .equals(image.subarray(CHUNK)),
    ).toBe(true);
  });
});

describe('writeImage, verify sample', () => {
  const open = () => openCard({ path: cardPath, kind: 'file', sizeBytes: 32 * CHUNK, devNumber: null });
  const seed = 'board-1';
  const unsampled = Array.from({ length: 20 }, (_, i) => i).find((i) => i > 0 && !pickedWhole(seed, i))!;

  it('reads back fewer bytes than full and still catches a bad write in a sampled region', async () => {
    const { image, manifest } = makeImage(20);
    const full = await run(manifest, image, await open(), [], [], { readBack: readBackPlan('full', seed) });
    const card = flakyCard(await open(), unsampled, 1, 100);
    const sample = await run(manifest, image, card, [], [], { readBack: readBackPlan('sample', seed) });
    await card.close();
    expect(sample.out.rewrites).toBe(1);
    expect(sample.counters.bytesReadBack).toBeLessThan(full.counters.bytesReadBack / 2);
  });

  it('misses a bad byte in the middle of a chunk it did not pick whole, which full catches', async () => {
    const { image, manifest } = makeImage(20);
    const middle = CHUNK / 2;
    const sampled = flakyCard(await open(), unsampled, 1, middle);
    const sampledRun = await run(manifest, image, sampled, [], [], { readBack: readBackPlan('sample', seed) });
    expect(sampledRun.out.rewrites).toBe(0);
    await sampled.close();
    const fullCard = flakyCard(await open(), unsampled, 1, middle);
    const fullRun = await run(manifest, image, fullCard, [], [], { readBack: readBackPlan('full', seed) });
    expect(fullRun.out.rewrites).toBe(1);
    await fullCard.close();
  });
});

describe('checkManifest', () => {
  it.each([
    ['a gap', (m: Manifest) => (m.chunks[2]!.offsetBytes += 1)],
    ['a short middle chunk', (m: Manifest) => (m.chunks[1]!.sizeBytes -= 1)],
    ['a wrong index', (m: Manifest) => (m.chunks[3]!.index = 7)],
    ['a size that does not add up', (m: Manifest) => (m.sizeBytes += 1)],
  ])('refuses a manifest with %s', (_case, spoil) => {
    const { manifest } = makeImage(5);
    spoil(manifest);
    expect(() => checkManifest(manifest)).toThrow(expect.objectContaining({ code: 'AGENT_SERVER_REPLY_INVALID' }));
  });
});
