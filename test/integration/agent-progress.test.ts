import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAgent } from '../../src/agent/index.js';
import type { FleetEvent } from '../../src/protocol/events.js';
import { cardFile } from '../helpers/agent.js';
import { buildPiImage } from '../helpers/pi-image.js';
import { startServer, type TestServer } from '../helpers/start-server.js';
import { tempDir } from '../helpers/temp-dir.js';

/**
 * The live progress a real agent reports. The test image's used bytes fit in one read-back batch
 * (32 MiB), so verified bytes jump from 0 to all at the end: only written bytes can show the
 * write moving.
 */
let dir: ReturnType<typeof tempDir>;
let server: TestServer;
let usedBytes: number;

beforeAll(async () => {
  dir = tempDir();
  const pi = buildPiImage(dir.path, { seed: 'progress' });
  server = await startServer();
  await server.app.fleet.venues.create({ code: 'CORO', name: 'Corona Karting' });
  await server.app.fleet.pools.import({ venue: 'CORO', text: '1-10' });
  const record = await server.app.images.import(
    { path: pi.path },
    { product: 'KXP2', version: '2026.11.1', activate: true },
  );
  usedBytes = (await server.app.images.manifest(record.id)).chunks
    .filter((c) => c.used)
    .reduce((n, c) => n + c.sizeBytes, 0);
}, 60_000);
afterAll(async () => {
  await server?.stop();
  dir?.remove();
});

describe('agent progress', () => {
  it('reports written bytes moving through the write, apart from verified bytes, and the live event carries both', async () => {
    expect(usedBytes).toBeLessThan(32 * 1024 * 1024);
    const live: FleetEvent<'deployment.progress'>['data'][] = [];
    const off = server.app.events.subscribe((e) => {
      if (e.type === 'deployment.progress') live.push((e as FleetEvent<'deployment.progress'>).data);
    });
    try {
      const card = cardFile(join(dir.path, 'card.img'), 128 * 1024 * 1024);
      // About four seconds of writing: several one-second reports fall inside it.
      const rate = Math.ceil(usedBytes / 4);
      const result = await runAgent({
        server: server.device,
        target: card,
        serial: 'b0a7d00d',
        venue: 'CORO',
        product: 'KXP2',
        writeRateBytesPerSec: rate,
      });
      expect(result.status).toBe('success');
    } finally {
      off();
    }
    for (const p of live) {
      expect(p.bytesTotal).toBe(usedBytes);
      expect(p.bytesDone).toBeLessThanOrEqual(p.bytesWritten);
      expect(p.bytesWritten).toBeLessThanOrEqual(p.bytesTotal);
    }
    const midWrite = live.filter((p) => p.bytesWritten > 0 && p.bytesWritten < p.bytesTotal);
    expect(new Set(midWrite.map((p) => p.bytesWritten)).size, JSON.stringify(live)).toBeGreaterThanOrEqual(2);
    expect(midWrite.every((p) => p.bytesDone === 0)).toBe(true);
    expect(midWrite.some((p) => p.rateBytesPerSec > 0)).toBe(true);
    // A lone board has no peer to feed it: the dashboard shows it served by the server.
    expect(midWrite.every((p) => p.chunksFromPeers === 0)).toBe(true);
    const written = live.map((p) => p.bytesWritten);
    expect(written).toEqual([...written].sort((a, b) => a - b));
  });
});
