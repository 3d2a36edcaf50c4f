import { execFileSync } from 'node:child_process';
import { closeSync, copyFileSync, openSync, readFileSync, writeSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WriteStats } from '../../src/protocol/imaging.js';
import type { Manifest } from '../../src/protocol/manifest.js';
import { cardFile, NODE24, runAgentProcess, type AgentRun } from '../helpers/agent.js';
import { firstDifference, readPrefix, usedOutsideBoot } from '../helpers/card-check.js';
import { runCli } from '../helpers/cli.js';
import { startCountingProxy } from '../helpers/counting-proxy.js';
import { buildPiImage, pseudoRandomBytes, type PiImage } from '../helpers/pi-image.js';
import { startServer, type TestServer } from '../helpers/start-server.js';
import { tempDir } from '../helpers/temp-dir.js';

/**
 * Delta re-image with the bundled agent on the boards' Node: a card that holds version 1 gets
 * version 2, and the server sends only the chunks that differ on the card. Version 2 is version 1
 * with one root file rewritten in place (a package update), made without mounting.
 */
const MiB = 1024 * 1024;
const CARD_BYTES = 160 * MiB;
const CHANGED_FILE = 'usr/bin/agent-standin';
const CUSTOMISED = new Set(['user-data', 'meta-data', 'network-config', 'cmdline.txt']);

let dir: ReturnType<typeof tempDir>;
let server: TestServer;
let pi: PiImage;
let v2: Buffer;
let v2Files: Record<string, Buffer>;
let m2: Manifest;
let v1Id: number;
let v2Id: number;
/** A third image, of the same layout, all of whose files differ from version 1's. */
let pi3: PiImage;
let v3Id: number;
/** A card the agent wrote with version 1. */
let cardV1: string;
/** A blank card written with version 2: the full write every delta is compared with. */
let full: { run: AgentRun; chunks: number; bytes: number };
let serial = 0xde000000;
const nextSerial = () => (serial++).toString(16);

const debugfs = (image: string, offset: number, request: string) =>
  execFileSync('debugfs', ['-R', request, `${image}?offset=${offset}`], {
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 256 * MiB,
  });

/** Runs the agent on `card` (a new board unless `board` names one) through a proxy that counts the chunks sent. */
async function image(card: string, board = nextSerial()): Promise<{ run: AgentRun; chunks: number[]; bytes: number }> {
  const proxy = await startCountingProxy(server.device);
  try {
    const run = await runAgentProcess(
      ['--server', proxy.url, '--target', card, '--serial', board].concat([
        '--venue',
        'CORO',
        '--product',
        'KXP2',
        '--quiet',
      ]),
      { node: NODE24 },
    ).done;
    expect(run.result, run.stderr).toMatchObject({ status: 'success' });
    return { run, chunks: [...proxy.chunks].sort((a, b) => a - b), bytes: proxy.chunkBytes() };
  } finally {
    await proxy.close();
  }
}

/** A copy of the version-1 card to image again. */
function copyOfV1(name: string): string {
  const card = join(dir.path, `${name}.img`);
  copyFileSync(cardV1, card);
  return card;
}

const used = (m: Manifest) => m.chunks.filter((c) => c.used);
/** Used chunks of version 2 whose bytes on `card` differ from the manifest's hash, and chunk 0 (always sent). */
function differing(card: string): number[] {
  const bytes = readPrefix(card, v2.length);
  return used(m2)
    .filter(
      (c) =>
        c.index === 0 ||
        createHash('sha256')
          .update(bytes.subarray(c.offsetBytes, c.offsetBytes + c.sizeBytes))
          .digest('hex') !== c.sha256,
    )
    .map((c) => c.index);
}

/** The card holds version 2: used bytes outside the boot partition, every root file, every boot file not customised. */
function expectVersion2(card: string): void {
  expect(firstDifference(readPrefix(card, v2.length), v2, usedOutsideBoot(m2))).toBeUndefined();
  for (const [path, data] of Object.entries(v2Files))
    expect(debugfs(card, pi.root.offsetBytes, `cat /${path}`).equals(data), path).toBe(true);
  for (const [path, data] of Object.entries(pi.boot.files)) {
    if (CUSTOMISED.has(path)) continue;
    const onCard = execFileSync('mtype', ['-i', `${card}@@${pi.boot.offsetBytes}`, `::${path}`], {
      env: { ...process.env, MTOOLS_SKIP_CHECK: '1' },
      maxBuffer: 256 * MiB,
    });
    expect(onCard.equals(data), path).toBe(true);
  }
  expect(execFileSync('e2fsck', ['-fn', `${card}?offset=${pi.root.offsetBytes}`], { stdio: 'pipe' })).toBeDefined();
}

const statsOf = (run: AgentRun) => run.result!.writeStats as WriteStats;

beforeAll(async () => {
  dir = tempDir();
  pi = buildPiImage(dir.path, { variant: 'cloud-init', seed: 'delta', payloadBytes: 24 * MiB });
  const v2Path = join(dir.path, 'pi-v2.img');
  copyFileSync(pi.path, v2Path);
  const blocks = debugfs(v2Path, pi.root.offsetBytes, `blocks /${CHANGED_FILE}`).toString().trim().split(/\s+/);
  const changed = pseudoRandomBytes('delta-v2/bin', pi.root.files[CHANGED_FILE]!.length);
  const fd = openSync(v2Path, 'r+');
  blocks.forEach((b, i) =>
    writeSync(fd, changed, i * 4096, Math.min(4096, changed.length - i * 4096), pi.root.offsetBytes + Number(b) * 4096),
  );
  closeSync(fd);
  v2 = readFileSync(v2Path);
  v2Files = { ...pi.root.files, [CHANGED_FILE]: changed };

  pi3 = buildPiImage(dir.path, { variant: 'cloud-init', seed: 'delta-third', payloadBytes: 24 * MiB });
  server = await startServer();
  await server.app.fleet.venues.create({ code: 'CORO', name: 'Corona Karting' });
  await server.app.fleet.pools.import({ venue: 'CORO', text: '1-100' });
  v1Id = (await server.app.images.import({ path: pi.path }, { product: 'KXP2', version: '1.0.0', activate: true })).id;
  v3Id = (await server.app.images.import({ path: pi3.path }, { product: 'KXP2', version: '1.2.0', activate: false }))
    .id;
  cardV1 = cardFile(join(dir.path, 'card-v1.img'), CARD_BYTES);
  const first = await image(cardV1);
  expect(statsOf(first.run)).toMatchObject({
    mode: 'full',
    fullWriteReason: expect.stringContaining('no partition table'),
  });

  const record = await server.app.images.import(
    { path: v2Path },
    { product: 'KXP2', version: '1.1.0', activate: true },
  );
  v2Id = record.id;
  m2 = await server.app.images.manifest(record.id);
  const blank = await image(cardFile(join(dir.path, 'card-blank.img'), CARD_BYTES));
  full = { run: blank.run, chunks: blank.chunks.length, bytes: blank.bytes };
  expect(full.chunks).toBe(used(m2).length);
}, 180_000);
afterAll(async () => {
  await server?.stop();
  dir?.remove();
});

/**
 * A board the server last imaged with `imageId` (a full write of a blank card), asked to re-image
 * with `next` active: what the hint in its next plan is made from.
 */
async function boardImagedWith(imageId: number, name: string): Promise<{ serial: string; card: string }> {
  const card = cardFile(join(dir.path, `${name}.img`), CARD_BYTES);
  const serial = nextSerial();
  await server.app.images.activate(imageId);
  await image(card, serial);
  await server.app.fleet.enrollment.requestReimage(serial);
  return { serial, card };
}

describe.runIf(NODE24)('delta re-image with the server hint (bundled agent, Node 24)', () => {
  afterAll(() => server.app.images.activate(v2Id));

  it('every chunk changed since the image the server wrote: none is read first, and the card is right', async () => {
    const m1 = await server.app.images.manifest(v1Id);
    const m3 = await server.app.images.manifest(v3Id);
    const board = await boardImagedWith(v1Id, 'hint-all');
    await server.app.images.activate(v3Id);
    const { run, chunks } = await image(board.card, board.serial);
    // The chunks version 3 shares with version 1 are the only ones read first (none, if it shares none).
    const shared = used(m3).filter(
      (c) => c.index !== 0 && m1.chunks[c.index]?.used && m1.chunks[c.index]!.sha256 === c.sha256,
    );
    expect(shared.length).toBeLessThan(used(m3).length / 10);
    expect(statsOf(run)).toMatchObject({ mode: 'delta', chunksReadFirst: shared.length, readFirstStops: 0 });
    expect(chunks.length).toBeGreaterThanOrEqual(used(m3).length - shared.length);
    expect(
      firstDifference(readPrefix(board.card, pi3.sizeBytes), readFileSync(pi3.path), usedOutsideBoot(m3)),
    ).toBeUndefined();
    expect(
      execFileSync('e2fsck', ['-fn', `${board.card}?offset=${pi3.root.offsetBytes}`], { stdio: 'pipe' }),
    ).toBeDefined();
  }, 120_000);

  it('a wrong hint (the card holds another image than the server wrote) still gives a right card', async () => {
    const board = await boardImagedWith(v1Id, 'hint-wrong');
    const fd = openSync(board.card, 'r+');
    writeSync(fd, readFileSync(pi3.path), 0, pi3.sizeBytes, 0);
    closeSync(fd);
    await server.app.images.activate(v2Id);
    const { run } = await image(board.card, board.serial);
    const stats = statsOf(run);
    expect(stats.mode).toBe('delta');
    expect(stats.chunksReadFirst).toBeGreaterThan(0);
    expectVersion2(board.card);
  }, 120_000);
});

describe.runIf(NODE24)('delta re-image (bundled agent, Node 24)', () => {
  it('a card with version 1 gets version 2, and the server sends only the chunks that differ', async () => {
    const card = copyOfV1('delta');
    const expected = differing(card);
    const { run, chunks, bytes } = await image(card);
    expect(chunks).toEqual(expected);
    // The changed file, the customised boot files and chunk 0: a small share of the image.
    expect(chunks.length).toBeLessThan(used(m2).length / 3);
    expect(bytes).toBeLessThan(full.bytes / 4);
    const stats = statsOf(run);
    expect(stats).toMatchObject({
      mode: 'delta',
      chunksUsed: used(m2).length,
      chunksWritten: expected.length,
      chunksReused: used(m2).length - expected.length,
      readFirstStops: 0,
    });
    expectVersion2(card);
    const { deployment } = await server.app.fleet.records.deployment(run.result!.deploymentId!);
    expect(deployment.imaging).toEqual({ delta: true, verify: 'full' });
    expect(deployment.writeStats).toEqual(stats);
    const shown = runCli(['deployments', 'show', String(deployment.id), '--data-dir', server.dataDir]);
    expect(shown.stdout).toContain(
      `Write: delta; ${stats.chunksReused} of ${stats.chunksUsed} used chunks reused from the card`,
    );
  });

  it('rewrites a chunk the board changed where the image did not', async () => {
    const card = copyOfV1('modified');
    const same = new Set(used(m2).map((c) => c.index));
    for (const i of differing(card)) same.delete(i);
    const m1Same = used(m2).find((c) => c.offsetBytes > pi.root.offsetBytes && same.has(c.index))!;
    const fd = openSync(card, 'r+');
    writeSync(fd, Buffer.from('written by the board in service'), 0, 31, m1Same.offsetBytes + 1000);
    closeSync(fd);
    const { chunks } = await image(card);
    expect(chunks).toContain(m1Same.index);
    expectVersion2(card);
  });

  it('writes the whole image to a card whose partition table differs', async () => {
    const card = copyOfV1('other-table');
    const fd = openSync(card, 'r+');
    writeSync(fd, Buffer.from([0x8e]), 0, 1, 446 + 16 + 4);
    closeSync(fd);
    const { run, chunks } = await image(card);
    expect(statsOf(run)).toMatchObject({ mode: 'full', fullWriteReason: expect.stringContaining('partition 2') });
    expect(chunks).toHaveLength(used(m2).length);
    expectVersion2(card);
  });

  it('writes the whole image when the product turns delta off', async () => {
    await server.app.fleet.products.update('KXP2', { imaging: { delta: false } });
    try {
      const card = copyOfV1('delta-off');
      const { run, chunks } = await image(card);
      expect(statsOf(run)).toMatchObject({ mode: 'full', chunksReadFirst: 0 });
      expect(statsOf(run).fullWriteReason).toBeUndefined();
      expect(chunks).toHaveLength(used(m2).length);
      const { deployment } = await server.app.fleet.records.deployment(run.result!.deploymentId!);
      expect(deployment.imaging).toEqual({ delta: false, verify: 'full' });
    } finally {
      await server.app.fleet.products.update('KXP2', { imaging: { delta: true } });
    }
  });

  it('verify sample reads back fewer bytes than full, and the deployment record says so', async () => {
    await server.app.fleet.products.update('KXP2', { imaging: { verify: 'sample' } });
    try {
      const card = cardFile(join(dir.path, 'sampled.img'), CARD_BYTES);
      const { run } = await image(card);
      const stats = statsOf(run);
      expect(stats.verify).toBe('sample');
      expect(stats.bytesReadBack).toBeLessThan(statsOf(full.run).bytesReadBack / 2);
      const { deployment } = await server.app.fleet.records.deployment(run.result!.deploymentId!);
      expect(deployment.writeStats?.verify).toBe('sample');
      expectVersion2(card);
    } finally {
      await server.app.fleet.products.update('KXP2', { imaging: { verify: 'full' } });
    }
  });
});
