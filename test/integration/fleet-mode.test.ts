import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Manifest } from '../../src/protocol/manifest.js';
import { NODE24 } from '../helpers/agent.js';
import { firstDifference, readPrefix, usedOutsideBoot } from '../helpers/card-check.js';
import { startBoards, startHostilePeer, type SwarmBoard } from '../helpers/fleet-swarm.js';
import { buildPiImage, type PiImage } from '../helpers/pi-image.js';
import { startServer, type TestServer } from '../helpers/start-server.js';
import { tempDir } from '../helpers/temp-dir.js';

/**
 * Fleet mode (issue 16) on loopback: five boards, each the bundled agent on Node 24 in its own
 * process, writing at a card's pace (--write-rate) so that they image side by side and feed each
 * other. Each fault must leave every remaining board with a card equal to the image byte for byte
 * on every used range (the boot partition is customised per board), and its cost in time is printed.
 */
const BOARDS = 5;
const CARD_BYTES = 128 * 1024 * 1024;
const ARGS = ['--venue', 'CORO', '--product', 'KXP2', '--write-rate', '6M', '--peer-wait', '1000'];

let dir: ReturnType<typeof tempDir>;
let server: TestServer;
let pi: PiImage;
let image: Buffer;
let manifest: Manifest;
let serial = 0xf1ee0000;
let baselineS = 0;

beforeAll(async () => {
  dir = tempDir();
  pi = buildPiImage(dir.path, { variant: 'cloud-init', seed: 'fleet-mode', payloadBytes: 8 * 1024 * 1024 });
  image = readFileSync(pi.path);
  server = await startServer();
  await server.app.fleet.venues.create({ code: 'CORO', name: 'Corona Karting' });
  await server.app.fleet.pools.import({ venue: 'CORO', text: '1-60' });
  const record = await server.app.images.import(
    { path: pi.path },
    { product: 'KXP2', version: '2026.12.1', activate: true },
  );
  manifest = await server.app.images.manifest(record.id);
}, 120_000);
afterAll(async () => {
  await server?.stop();
  dir?.remove();
});

async function runFleet(o: { headStartMs?: number; during?: (boards: SwarmBoard[]) => Promise<void> } = {}) {
  const t0 = performance.now();
  const first = startBoards({
    server: server.device,
    dir: dir.path,
    count: 1,
    cardBytes: CARD_BYTES,
    firstSerial: serial++,
    extraArgs: ARGS,
  });
  if (o.headStartMs) await sleep(o.headStartMs);
  const rest = startBoards({
    server: server.device,
    dir: dir.path,
    count: BOARDS - 1,
    cardBytes: CARD_BYTES,
    firstSerial: serial,
    extraArgs: ARGS,
  });
  serial += BOARDS - 1;
  const boards = [...first, ...rest];
  await o.during?.(boards);
  for (const b of boards) b.run = await b.proc.done;
  return { boards, seconds: (performance.now() - t0) / 1000 };
}

function expectVerifiedCards(boards: SwarmBoard[]): void {
  const ranges = usedOutsideBoot(manifest);
  for (const b of boards) {
    expect({
      serial: b.serial,
      status: b.run?.result?.status,
      error: b.run?.result?.message,
      stderr: b.run?.stderr,
    }).toMatchObject({
      status: 'success',
    });
    expect(firstDifference(readPrefix(b.card, image.length), image, ranges), b.card).toBeUndefined();
  }
}

const cost = (what: string, seconds: number) =>
  process.stderr.write(
    `fleet-mode: ${what}: ${seconds.toFixed(1)} s for ${BOARDS} boards (${(seconds - baselineS).toFixed(1)} s more than without the fault, ${(seconds / baselineS).toFixed(2)}×)\n`,
  );

describe.skipIf(!NODE24)(`fleet mode, ${BOARDS} boards`, () => {
  it('boards feed each other: most chunks come from peers, every card is right', async () => {
    const { boards, seconds } = await runFleet({ headStartMs: 300 });
    expectVerifiedCards(boards);
    const used = manifest.chunks.filter((c) => c.used).length;
    const fromPeers = boards.reduce((n, b) => n + (b.run!.result!.stats.fromPeers ?? 0), 0);
    // The first board fetches from the server; with a tree the others could take everything from peers.
    expect(fromPeers).toBeGreaterThan(((BOARDS - 1) * used) / 2);
    baselineS = seconds;
    process.stderr.write(
      `fleet-mode: no fault: ${seconds.toFixed(1)} s, ${fromPeers} of ${BOARDS * used} chunks from peers\n`,
    );
  }, 120_000);

  it('a peer that serves corrupt chunks slows boards down but corrupts no card', async () => {
    const hostile = await startHostilePeer({
      server: server.device,
      serial: (serial++).toString(16),
      venue: 'CORO',
      product: 'KXP2',
    });
    try {
      const { boards, seconds } = await runFleet();
      expectVerifiedCards(boards);
      expect(hostile.served()).toBeGreaterThan(0);
      expect(boards.reduce((n, b) => n + (b.run!.result!.stats.fromPeers ?? 0), 0)).toBeGreaterThan(0);
      cost('a peer serving corrupt chunks', seconds);
    } finally {
      await hostile.close();
    }
  }, 120_000);

  it('one board killed in the middle: every other board finishes with a right card', async () => {
    const { boards, seconds } = await runFleet({
      headStartMs: 300,
      // The first board is the tree's root: killing it orphans the boards it feeds.
      during: async (all) => {
        await sleep((baselineS * 1000) / 2);
        all[0]!.proc.kill('SIGKILL');
      },
    });
    expect(boards[0]!.run!.result).toBeUndefined();
    expectVerifiedCards(boards.slice(1));
    cost('the root board killed half-way', seconds);
  }, 120_000);
});
