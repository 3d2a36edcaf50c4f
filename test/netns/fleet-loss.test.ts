import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCore } from '../../src/app.js';
import type { AgentResult } from '../../src/agent/index.js';
import { loadConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/lib/logger.js';
import type { Manifest } from '../../src/protocol/manifest.js';
import { AGENT_BUNDLE, NODE24 } from '../helpers/agent.js';
import { firstDifference, readPrefix, usedOutsideBoot } from '../helpers/card-check.js';
import { spawnServe } from '../helpers/cli.js';
import { FleetLab, SERVER_ADDRESS } from '../helpers/fleet-lab.js';
import { buildPiImage } from '../helpers/pi-image.js';
import { tempDir } from '../helpers/temp-dir.js';

/**
 * Fleet mode with 1 % packet loss on every board's link (issue 16): five boards in their own
 * namespaces on one bridge, `rpi-deploy serve` in another, each board the bundled agent on Node 24
 * writing at a card's pace. This kernel has no netem, so the loss is an nftables rule (numgen
 * random) in each board's namespace, on what it receives and what it sends. Every card must come
 * out equal to the image byte for byte; the loss's cost in time is printed.
 */
const BOARDS = 5;
const CARD_BYTES = 128 * 1024 * 1024;
const PORT = 5001;
const hasNft = spawnSync('sh', ['-c', 'command -v nft']).status === 0;

let dir: ReturnType<typeof tempDir>;
let lab: FleetLab;
let image: Buffer;
let manifest: Manifest;
let serial = 0xf1055000;

beforeAll(async () => {
  dir = tempDir();
  const pi = buildPiImage(dir.path, { variant: 'cloud-init', seed: 'fleet-loss', payloadBytes: 8 * 1024 * 1024 });
  image = readFileSync(pi.path);
  const data = `${dir.path}/data`;
  const core = await openCore(loadConfig({ flags: { dataDir: data } }), createLogger('silent'));
  await core.fleet.venues.create({ code: 'CORO', name: 'Corona Karting' });
  await core.fleet.pools.import({ venue: 'CORO', text: '1-40' });
  const record = await core.images.import({ path: pi.path }, { product: 'KXP2', version: 'loss', activate: true });
  manifest = await core.images.manifest(record.id);
  await core.close();
  // 200 Mbit/s everywhere: the server's link is not the limit here, the cards' pace is.
  const bps = 25e6;
  lab = await FleetLab.create({
    boards: BOARDS,
    cardBytes: CARD_BYTES,
    dir: dir.path,
    cards: 'files',
    speeds: { serverLinkBps: bps, boardNicBps: bps, cardWriteBps: bps, cardReadBps: bps },
  });
  const serve = await spawnServe(
    ['--data-dir', data, '--device-listen', `${SERVER_ADDRESS}:${PORT}`, '--management-listen', '127.0.0.1:0'],
    { wrap: ['ip', 'netns', 'exec', lab.server] },
  );
  lab.adopt(serve.child);
}, 120_000);
afterAll(async () => {
  await lab?.destroy();
  dir?.remove();
});

async function imageAll(): Promise<number> {
  const t0 = performance.now();
  const exits = await Promise.all(
    lab.boards.map((b) =>
      lab.runBoard(
        b,
        `exec ${NODE24} ${AGENT_BUNDLE} --server http://${SERVER_ADDRESS}:${PORT} --target ${b.card} --serial ${(serial++).toString(16)} --venue CORO --product KXP2 --write-rate 6M --peer-wait 1000 --no-delta --json --quiet`,
        180_000,
      ),
    ),
  );
  const seconds = (performance.now() - t0) / 1000;
  const ranges = usedOutsideBoot(manifest);
  let fromPeers = 0;
  for (const [i, e] of exits.entries()) {
    const last = e.stdout.trim().split('\n').pop() ?? '';
    const result = last.startsWith('{') ? (JSON.parse(last) as AgentResult) : undefined;
    expect({ board: i, status: result?.status, message: result?.message, stderr: e.stderr }).toMatchObject({
      status: 'success',
    });
    fromPeers += result!.stats.fromPeers ?? 0;
    expect(firstDifference(readPrefix(lab.boards[i]!.card, image.length), image, ranges), `board ${i}`).toBeUndefined();
  }
  expect(fromPeers).toBeGreaterThan(0);
  return seconds;
}

describe.skipIf(!NODE24 || !hasNft)(`fleet mode, ${BOARDS} boards in namespaces`, () => {
  it('1 % packet loss on every board link: every card right, the cost printed', async () => {
    const clean = await imageAll();
    for (const b of lab.boards) lab.dropPackets(b, 1);
    const lossy = await imageAll();
    const dropped = lab.boards.reduce((n, b) => n + lab.droppedPackets(b), 0);
    expect(dropped).toBeGreaterThan(0);
    process.stderr.write(
      `fleet-loss: no loss ${clean.toFixed(1)} s, 1 % loss ${lossy.toFixed(1)} s (${(lossy - clean).toFixed(1)} s, ${(lossy / clean).toFixed(2)}×), ${dropped} packets dropped\n`,
    );
  }, 600_000);
});
