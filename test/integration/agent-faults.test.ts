import {
  closeSync,
  copyFileSync,
  openSync,
  readFileSync,
  statSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCard, runAgent, type Card } from '../../src/agent/index.js';
import type { Manifest, ManifestChunk } from '../../src/protocol/manifest.js';
import { agentArgs, cardFile, NODE24, runAgentProcess } from '../helpers/agent.js';
import { firstDifference, readPrefix, usedOutsideBoot } from '../helpers/card-check.js';
import { startCuttingProxy } from '../helpers/cutting-proxy.js';
import { buildPiImage, type PiImage } from '../helpers/pi-image.js';
import { startServer, type TestServer } from '../helpers/start-server.js';
import { tempDir } from '../helpers/temp-dir.js';

/**
 * Faults on the way from the store to the card. Each must end in a success that resumed, or in a
 * clear failure reported to the server; never in a success that is not one.
 */
const CARD_BYTES = 128 * 1024 * 1024;
const RUNTIMES: [string, string][] = [
  ['this Node (raw chunks)', process.execPath],
  ...(NODE24 ? [['Node 24 (zstd chunks)', NODE24] as [string, string]] : []),
];

let dir: ReturnType<typeof tempDir>;
let server: TestServer;
let pi: PiImage;
let image: Buffer;
let manifest: Manifest;
let serial = 0xfa000000;

beforeAll(async () => {
  dir = tempDir();
  pi = buildPiImage(dir.path, { variant: 'cloud-init', seed: 'faults', zeroFileBytes: 6 * 1024 * 1024 });
  image = readFileSync(pi.path);
  server = await startServer();
  await server.app.fleet.venues.create({ code: 'CORO', name: 'Corona Karting' });
  await server.app.fleet.pools.import({ venue: 'CORO', text: '1-100' });
  const record = await server.app.images.import(
    { path: pi.path },
    { product: 'KXP2', version: '2026.11.1', activate: true },
  );
  manifest = await server.app.images.manifest(record.id);
}, 60_000);
afterAll(async () => {
  await server?.stop();
  dir?.remove();
});

const nextSerial = () => (serial++).toString(16);
const phasesOf = async (deploymentId: number) =>
  (await server.app.fleet.records.deployment(deploymentId)).history
    .filter((h) => h.type === 'deployment.phase')
    .map((h) => h.data['phase']);
const storedChunkFile = (c: ManifestChunk) =>
  join(server.dataDir, 'images', 'chunks', c.sha256.slice(0, 2), `${c.sha256}.zst`);
/** A used chunk in the root filesystem (not chunk 0, not the boot partition). */
const rootChunk = () => manifest.chunks.find((c) => c.used && c.offsetBytes >= pi.root.offsetBytes)!;

function expectCardIsImage(card: string): void {
  expect(firstDifference(readPrefix(card, image.length), image, usedOutsideBoot(manifest))).toBeUndefined();
}

/** Runs `fn` with a stored chunk file damaged by `spoil`, then puts the good file back. */
async function withDamagedChunk(
  c: ManifestChunk,
  spoil: (file: string) => void,
  fn: () => Promise<void>,
): Promise<void> {
  const file = storedChunkFile(c);
  copyFileSync(file, `${file}.good`);
  spoil(file);
  try {
    await fn();
  } finally {
    copyFileSync(`${file}.good`, file);
  }
}

describe.each(RUNTIMES)('on %s', (_name, node) => {
  it('resumes chunks whose connection was cut mid-way, and writes the right bytes', async () => {
    const proxy = await startCuttingProxy(server.device, { cutAfterBytes: 700_000, cutsMax: 5 });
    try {
      const card = cardFile(join(dir.path, `cut-${nextSerial()}.img`), CARD_BYTES);
      const run = await runAgentProcess(agentArgs(proxy.url, nextSerial(), card), { node }).done;
      expect(proxy.cuts()).toBe(5);
      expect(run.result).toMatchObject({ status: 'success' });
      expect(run.result!.stats.resumedRequests).toBeGreaterThan(0);
      expectCardIsImage(card);
      expect(await phasesOf(run.result!.deploymentId!)).toEqual([
        'enrolled',
        'downloading',
        'writing',
        'verifying',
        'customizing',
        'success',
      ]);
    } finally {
      await proxy.close();
    }
  });

  it.each([
    ['a corrupted chunk in the store', (file: string) => flipByte(file, Math.floor(statSync(file).size / 2))],
    ['a truncated zstd chunk in the store', (file: string) => truncateSync(file, Math.floor(statSync(file).size / 2))],
  ])('fails clearly on %s', async (_case, spoil) => {
    await withDamagedChunk(rootChunk(), spoil, async () => {
      const card = cardFile(join(dir.path, `bad-${nextSerial()}.img`), CARD_BYTES);
      const run = await runAgentProcess(agentArgs(server.device, nextSerial(), card), { node }).done;
      expect(run.code).toBe(1);
      expect(run.result).toMatchObject({
        status: 'failed',
        code: 'AGENT_CHUNK_CORRUPT',
        message: expect.stringContaining(`Chunk ${rootChunk().index}`),
      });
      // The server checks what it stored before sending it, so the board is told the store is at fault.
      expect(run.result!.message).toContain('Delete and import the image again');
      const { deployment } = await server.app.fleet.records.deployment(run.result!.deploymentId!);
      expect(deployment).toMatchObject({ status: 'failed', error: expect.stringMatching(/^AGENT_CHUNK_CORRUPT: /) });
      expect(await phasesOf(deployment.id)).not.toContain('success');
      // The partition table was never written: the half-written card cannot boot.
      expect(readPrefix(card, 512).equals(Buffer.alloc(512))).toBe(true);
    });
  });
});

function flipByte(file: string, at: number): void {
  const bytes = readFileSync(file);
  bytes[at] = bytes[at]! ^ 0x5a;
  writeFileSync(file, bytes);
}

describe('a card that reads back wrong', () => {
  /** The real card, except that the medium changes one byte of `index` after each of its first `times` writes. */
  const flaky = (index: number, times: number) => async (target: Parameters<typeof openCard>[0]) => {
    const card = await openCard(target);
    let left = times;
    const c = manifest.chunks[index]!;
    return {
      ...card,
      path: card.path,
      verifyMethod: card.verifyMethod,
      async writeAt(offset: number, data: Buffer, signal?: AbortSignal) {
        await card.writeAt(offset, data, signal);
        if (offset === c.offsetBytes && left-- > 0) {
          await card.flush();
          const fd = openSync(target.path, 'r+');
          writeSync(fd, Buffer.from([data[4096]! ^ 0xff]), 0, 1, offset + 4096);
          closeSync(fd);
        }
      },
    } satisfies Card;
  };

  it('is written again and succeeds when the rewrite holds', async () => {
    const card = cardFile(join(dir.path, `flaky-${nextSerial()}.img`), CARD_BYTES);
    const c = rootChunk();
    const result = await runAgent({
      server: server.device,
      target: card,
      serial: nextSerial(),
      venue: 'CORO',
      product: 'KXP2',
      openCard: flaky(c.index, 1),
    });
    expect(result).toMatchObject({ status: 'success', stats: { rewrites: 1 } });
    expectCardIsImage(card);
  });

  it('fails with AGENT_VERIFY_MISMATCH when every rewrite reads back wrong, and the server knows', async () => {
    const card = cardFile(join(dir.path, `bad-card-${nextSerial()}.img`), CARD_BYTES);
    const c = rootChunk();
    const result = await runAgent({
      server: server.device,
      target: card,
      serial: nextSerial(),
      venue: 'CORO',
      product: 'KXP2',
      openCard: flaky(c.index, 99),
    });
    expect(result).toMatchObject({
      status: 'failed',
      code: 'AGENT_VERIFY_MISMATCH',
      message: expect.stringContaining(`Chunk ${c.index}`),
    });
    const { deployment } = await server.app.fleet.records.deployment(result.deploymentId!);
    expect(deployment).toMatchObject({ status: 'failed', error: expect.stringMatching(/^AGENT_VERIFY_MISMATCH: /) });
  });
});

describe('a target the agent must refuse', () => {
  it.each([
    ['too small', (p: string) => cardFile(p, 1024 * 1024), 'AGENT_TARGET_TOO_SMALL'],
    ['missing', (p: string) => p, 'AGENT_TARGET_MISSING'],
  ])('is reported as failed when it is %s, and nothing is written', async (_case, make, code) => {
    const card = make(join(dir.path, `refused-${nextSerial()}.img`));
    const run = await runAgentProcess(agentArgs(server.device, nextSerial(), card)).done;
    expect([run.code, run.result?.status, run.result?.code]).toEqual([1, 'failed', code]);
    expect((await server.app.fleet.records.deployment(run.result!.deploymentId!)).deployment).toMatchObject({
      status: 'failed',
      error: expect.stringContaining(code),
    });
  });
});

describe.each(RUNTIMES)('a board that restarts mid-write, on %s', (_name, node) => {
  it('resumes from what the server says it verified, and writes only the rest', async () => {
    const s = nextSerial();
    const card = cardFile(join(dir.path, `reboot-${s}.img`), CARD_BYTES);
    const slow = runAgentProcess(
      agentArgs(server.device, s, card, ['--write-rate', '4M', '--parallel', '1', '--verify-batch', '4M']),
      { node },
    );
    const deadline = Date.now() + 30_000;
    let verified: number[] = [];
    while (verified.length < 3 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      // Until the agent has enrolled there is nothing to list: poll again.
      verified = await server.app.deployments.verifiedChunks(s, manifest.imageId).catch(() => []);
    }
    slow.kill('SIGKILL');
    expect((await slow.done).code).toBe(null);
    expect(verified.length).toBeGreaterThanOrEqual(3);

    const run = await runAgentProcess(agentArgs(server.device, s, card), { node }).done;
    expect(run.result).toMatchObject({ status: 'success' });
    expect(run.result!.stats.resumedChunks).toBeGreaterThanOrEqual(verified.length - 1);
    const usedBytes = manifest.chunks.filter((c) => c.used).reduce((n, c) => n + c.sizeBytes, 0);
    expect(run.result!.stats.bytesWritten).toBeLessThan(usedBytes);
    expectCardIsImage(card);
    const { deployments } = await server.app.fleet.records.device(s);
    expect(deployments.map((d) => [d.status, d.error?.startsWith('superseded') ?? false])).toEqual([
      ['success', false],
      ['failed', true],
    ]);
  });
});
