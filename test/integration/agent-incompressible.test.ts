import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Manifest } from '../../src/protocol/manifest.js';
import { cardFile, NODE24, runAgentProcess } from '../helpers/agent.js';
import { firstDifference, readPrefix, usedOutsideBoot } from '../helpers/card-check.js';
import { buildPiImage, type PiImage } from '../helpers/pi-image.js';
import { startServer, type TestServer } from '../helpers/start-server.js';
import { tempDir } from '../helpers/temp-dir.js';

/**
 * Real OS images hold chunks zstd cannot shrink (compressed packages, firmware, media): stored a
 * little larger than raw. On the boards' Node 24 the agent takes them compressed, next to chunks
 * that shrink several times, so reused receive buffers of both sizes circulate. Every run must
 * write the card byte for byte without a single refetch.
 */
const RUNS = 20;
const CARD_BYTES = 128 * 1024 * 1024;
const MiB = 1024 * 1024;

let dir: ReturnType<typeof tempDir>;
let server: TestServer;
let pi: PiImage;
let manifest: Manifest;

beforeAll(async () => {
  dir = tempDir();
  pi = buildPiImage(dir.path, { seed: 'incompressible', payloadBytes: 14 * MiB });
  server = await startServer();
  const { fleet, images } = server.app;
  await fleet.venues.create({ code: 'CORO', name: 'Corona Karting' });
  await fleet.pools.import({ venue: 'CORO', text: `1-${RUNS}` });
  const batch = await fleet.batches.create({ venue: 'CORO', product: 'KXP2', expectedCount: RUNS });
  await fleet.batches.apply(batch.id, 'activate');
  const record = await images.import({ path: pi.path }, { product: 'KXP2', version: '2026.12.1', activate: true });
  manifest = await images.manifest(record.id);
}, 120_000);
afterAll(async () => {
  await server?.stop();
  dir?.remove();
});

describe.skipIf(!NODE24)('an image with chunks zstd cannot shrink, on the boards’ Node 24', () => {
  it('has both kinds of used chunk: stored larger than raw, and shrunk to less than half', () => {
    const used = manifest.chunks.filter((c) => c.used && c.sizeBytes === 4 * MiB);
    expect(used.filter((c) => c.storedBytes > c.sizeBytes).length).toBeGreaterThanOrEqual(3);
    expect(used.filter((c) => c.storedBytes < c.sizeBytes / 2).length).toBeGreaterThanOrEqual(3);
  });

  it(`writes it byte for byte ${RUNS} times in a row, with no chunk fetched twice`, async () => {
    const image = readFileSync(pi.path);
    const ranges = usedOutsideBoot(manifest);
    for (let i = 0; i < RUNS; i++) {
      const card = cardFile(join(dir.path, `card-${i}.img`), CARD_BYTES);
      const serial = (0x1c0d0000 + i).toString(16);
      const args = [
        '--server',
        server.device,
        '--target',
        card,
        '--serial',
        serial,
        '--mac',
        `2c:cf:67:1c:00:${i.toString(16).padStart(2, '0')}`,
        '--quiet',
      ];
      const run = await runAgentProcess(args, { node: NODE24 }).done;
      expect({
        run: i,
        code: run.code,
        status: run.result?.status,
        message: run.result?.message,
        stderr: run.stderr,
      }).toMatchObject({ code: 0, status: 'success' });
      expect(run.result!.stats).toMatchObject({ corruptChunks: 0, resumedRequests: 0, rewrites: 0 });
      expect(firstDifference(readPrefix(card, image.length), image, ranges), `run ${i}`).toBeUndefined();
      rmSync(card);
    }
  }, 300_000);
});
