import { createHash } from 'node:crypto';
import { closeSync, openSync, readdirSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compress } from 'zstd-napi';
import type { Capture } from '../../src/protocol/capture.js';
import { agentArgs, cardFile, NODE24, runAgentProcess } from '../helpers/agent.js';
import { filesOfCard } from '../helpers/card-check.js';
import { startCuttingProxy } from '../helpers/cutting-proxy.js';
import { buildPiImage, type PiImage } from '../helpers/pi-image.js';
import { startServer, type TestServer } from '../helpers/start-server.js';
import { tempDir } from '../helpers/temp-dir.js';

/**
 * Capture over the network (issue 14), with the real agent bundle on the boards' Node 24: a
 * golden card is read by its own board, uploaded, assembled and imported as a new image version,
 * which another board then writes; both cards hold the same files.
 */
const CARD_BYTES = 128 * 1024 * 1024;
const SHA = /^[0-9a-f]{64}$/;

let dir: ReturnType<typeof tempDir>;
let server: TestServer;
let pi: PiImage;
let serial = 0xca000000;
const nextSerial = () => (serial++).toString(16);

/** A card holding the Pi image, as a board in service carries it. */
function goldenCard(name: string, from = pi): string {
  const card = cardFile(join(dir.path, name), CARD_BYTES);
  const fd = openSync(card, 'r+');
  writeSync(fd, readFileSync(from.path), 0, from.sizeBytes, 0);
  closeSync(fd);
  return card;
}

async function finished(id: number): Promise<Capture> {
  await server.app.captures.settled(id);
  return server.app.captures.get(id);
}

beforeAll(async () => {
  dir = tempDir();
  // 6 MiB of random data: chunks zstd cannot shrink, which the cutting proxy below always cuts.
  // The golden board's identity, which the capture must reset (sanitiseImage runs by default).
  pi = buildPiImage(dir.path, {
    variant: 'cloud-init',
    seed: 'golden',
    payloadBytes: 6 * 1024 * 1024,
    plant: {
      'etc/machine-id': Buffer.from('0123456789abcdef0123456789abcdef\n'),
      'etc/ssh/ssh_host_ed25519_key': Buffer.from('golden board private key\n'),
      'root/.bash_history': Buffer.from('sudo reboot\n'),
    },
  });
  server = await startServer();
  await server.app.fleet.venues.create({ code: 'CORO', name: 'Corona Karting' });
  await server.app.fleet.pools.import({ venue: 'CORO', text: '1-100' });
  await server.app.images.import({ path: pi.path }, { product: 'KXP2', version: '1.0.0', activate: true });
}, 60_000);
afterAll(async () => {
  await server?.stop();
  dir?.remove();
});

describe.skipIf(!NODE24)('capture on Node 24', () => {
  it('captures a golden card into a new image version that writes a second card with the same files', async () => {
    const golden = goldenCard('golden.img');
    const board = nextSerial();
    const requested = await server.app.captures.request({
      serial: board,
      product: 'KXP2',
      version: '1.1.0',
      notes: 'golden',
    });
    expect(requested.status).toBe('pending');

    const run = await runAgentProcess(agentArgs(server.device, board, golden), { node: NODE24 }).done;
    expect(run.result, run.stderr).toMatchObject({ status: 'success', deploymentId: null });
    const stats = run.result!.capture!.stats;
    expect(stats.chunks).toBeGreaterThan(3);
    // The image ends with the last partition: the card's unpartitioned rest is no part of it.
    const end = pi.root.offsetBytes + pi.root.lengthBytes;
    expect(stats).toMatchObject({ uploaded: stats.chunks, skipped: 0, sizeBytes: end });

    const done = await finished(requested.id);
    expect(done).toMatchObject({ status: 'succeeded', error: null, bytesTotal: done.bytesReceived });
    const image = await server.app.images.get(done.imageId!);
    expect(image).toMatchObject({ product: 'KXP2', version: '1.1.0', notes: 'golden', sizeBytes: end });
    const manifest = await server.app.images.manifest(image.id);
    expect(manifest.partitions.map((p) => p.filesystem)).toEqual(['vfat', 'ext4']);
    expect(manifest.boot?.osGeneration).toBe('cloud-init');
    expect(readdirSync(join(server.dataDir, 'captures'))).toEqual([]);

    await server.app.images.activate(image.id);
    const second = cardFile(join(dir.path, 'second.img'), CARD_BYTES);
    const written = await runAgentProcess(agentArgs(server.device, nextSerial(), second), { node: NODE24 }).done;
    expect(written.result, written.stderr).toMatchObject({ status: 'success' });

    const a = await filesOfCard(golden, manifest, join(dir.path, 'scratch-a'));
    const b = await filesOfCard(second, manifest, join(dir.path, 'scratch-b'));
    expect(a.size).toBeGreaterThan(10);
    // The second board's first-boot customisation rewrites these on its boot partition; nothing else differs.
    const customised = new Set(['boot:cmdline.txt', 'boot:user-data', 'boot:meta-data', 'boot:network-config']);
    // Sanitised: the machine-id emptied, the host key and the history gone, and host keys made again
    // at first boot by a unit under /etc/systemd/system; nothing else differs.
    const sanitised = new Set([
      'root:/etc/machine-id',
      'root:/etc/ssh/ssh_host_ed25519_key',
      'root:/root/.bash_history',
    ]);
    for (const k of sanitised) expect(a.get(k), k).toMatch(SHA);
    expect(b.get('root:/etc/machine-id')).toBe(createHash('sha256').update('').digest('hex'));
    expect(b.has('root:/etc/ssh/ssh_host_ed25519_key')).toBe(false);
    expect(b.has('root:/root/.bash_history')).toBe(false);
    const differing = [...new Set([...a.keys(), ...b.keys()])].filter((k) => a.get(k) !== b.get(k));
    expect(
      differing.filter((k) => !customised.has(k) && !sanitised.has(k) && !k.startsWith('root:/etc/systemd/system/')),
    ).toEqual([]);
    expect(a.get('root:/usr/lib/firmware/blob.bin')).toMatch(SHA);
  }, 120_000);

  it('resumes a capture cut mid-upload without sending the chunks the server already holds', async () => {
    // Other bytes than the first golden card: the same bytes twice are one image (a duplicate).
    const other = buildPiImage(dir.path, { variant: 'cloud-init', seed: 'resume', payloadBytes: 6 * 1024 * 1024 });
    const golden = goldenCard('resume.img', other);
    const board = nextSerial();
    const capture = await server.app.captures.request({ serial: board, product: 'KXP2', version: '1.2.0' });
    // Each connection is cut after 1.5 MB sent: compressible chunks get through, the random ones never do.
    const proxy = await startCuttingProxy(server.device, {
      cutAfterBytes: 1_500_000,
      cutsMax: 10_000,
      direction: 'up',
    });
    let first;
    try {
      first = await runAgentProcess(agentArgs(proxy.url, board, golden, ['--retry-for', '2']), { node: NODE24 }).done;
    } finally {
      await proxy.close();
    }
    expect(first.result, first.stderr).toMatchObject({ status: 'failed', code: 'AGENT_SERVER_UNREACHABLE' });
    const cut = await server.app.captures.get(capture.id);
    expect(cut.status).toBe('pending');
    expect(cut.error).toMatch(/AGENT_SERVER_UNREACHABLE/);
    const held = first.result!.capture!.stats.uploaded;
    expect(held).toBeGreaterThan(0);
    expect(cut.bytesReceived).toBeGreaterThan(0);

    const second = await runAgentProcess(agentArgs(server.device, board, golden), { node: NODE24 }).done;
    expect(second.result, second.stderr).toMatchObject({ status: 'success' });
    const stats = second.result!.capture!.stats;
    expect(stats.skipped).toBe(held);
    expect(stats.uploaded + stats.skipped).toBe(stats.chunks);
    expect(await finished(capture.id)).toMatchObject({ status: 'succeeded' });
  }, 120_000);
});

describe('capture chunk uploads', () => {
  it('refuses a chunk whose bytes do not match its hashes, and keeps nothing of it', async () => {
    const board = nextSerial();
    const capture = await server.app.captures.request({ serial: board, product: 'KXP2', version: '1.3.0' });
    const enroll = await fetch(`${server.device}/v1/enroll`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ serial: board, macs: [], storageBytes: CARD_BYTES }),
    });
    const order = (await enroll.json()) as { capture: { id: number; token: string } };
    expect(order.capture.id).toBe(capture.id);
    const auth = { authorization: `Bearer ${order.capture.token}` };
    const raw = Buffer.alloc(4096, 7);
    const rawSha = createHash('sha256').update(raw).digest('hex');
    const put = (sha: string, body: Buffer, stored = createHash('sha256').update(body).digest('hex')) =>
      fetch(`${server.device}/v1/captures/${capture.id}/chunks/${sha}`, {
        method: 'PUT',
        headers: { ...auth, 'content-type': 'application/zstd', 'x-stored-sha256': stored },
        body,
      });

    const wrongRaw = await put(rawSha, compress(Buffer.alloc(4096, 8)));
    expect(wrongRaw.status).toBe(400);
    expect(await wrongRaw.json()).toMatchObject({ code: 'IMAGE_CAPTURE_CHUNK_INVALID' });
    const body = compress(raw);
    const flipped = Buffer.from(body);
    flipped[flipped.length - 1]! ^= 0xff;
    const damaged = await put(rawSha, flipped, createHash('sha256').update(body).digest('hex'));
    expect(damaged.status).toBe(400);
    const notZstd = await put(rawSha, raw);
    expect(notZstd.status).toBe(400);
    const list = await fetch(`${server.device}/v1/captures/${capture.id}/chunks`, { headers: auth });
    expect(await list.json()).toEqual({ chunks: [] });

    expect((await put(rawSha, body)).status).toBe(200);
    expect(await (await fetch(`${server.device}/v1/captures/${capture.id}/chunks`, { headers: auth })).json()).toEqual({
      chunks: [rawSha],
    });
    const other = await fetch(`${server.device}/v1/captures/${capture.id}/chunks`, {
      headers: { authorization: `Bearer ${'A'.repeat(43)}` },
    });
    expect(other.status).toBe(401);
    await server.app.captures.cancel(capture.id);
    expect((await put(rawSha, body)).status).toBe(401);
  });
});
