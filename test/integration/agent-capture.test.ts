import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compress } from 'zstd-napi';
import type { AgentResult } from '../../src/agent/index.js';
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

  it('reboots the board into its card after a capture, as after imaging, and not after a failed one', async () => {
    // The agent in a process of its own whose PATH holds only a stand-in `reboot`, and whose /proc is
    // a scratch folder: this machine's reboot (or its SysRq fallback) is out of reach.
    const bin = join(dir.path, 'reboot-bin');
    const proc = join(dir.path, 'reboot-proc');
    const calls = join(dir.path, 'reboot-calls');
    mkdirSync(bin, { recursive: true });
    mkdirSync(proc, { recursive: true });
    writeFileSync(join(bin, 'reboot'), `#!/bin/sh\necho "$*" >> '${calls}'\n`);
    chmodSync(join(bin, 'reboot'), 0o755);
    const runWithReboot = async (board: string, card: string): Promise<AgentResult> => {
      const options = { server: server.device, target: card, serial: board, macs: [], model: null, reboot: true };
      const script = `
        import { runAgent } from './src/agent/run.ts';
        const roots = { proc: ${JSON.stringify(proc)}, sys: ${JSON.stringify(proc)} };
        console.log(JSON.stringify(await runAgent({ ...${JSON.stringify(options)}, roots })));`;
      const { stdout } = await promisify(execFile)(NODE24!, ['--import', 'tsx', '--input-type=module', '-e', script], {
        cwd: fileURLToPath(new URL('../..', import.meta.url)),
        env: { PATH: bin },
        timeout: 60_000,
      });
      return JSON.parse(stdout.trim().split('\n').pop()!) as AgentResult;
    };

    const blank = nextSerial();
    await server.app.captures.request({ serial: blank, product: 'KXP2', version: '1.5.0' });
    const failed = await runWithReboot(blank, cardFile(join(dir.path, 'blank.img'), CARD_BYTES));
    expect(failed).toMatchObject({ status: 'failed', code: 'AGENT_CAPTURE_FAILED' });
    expect(existsSync(calls) || existsSync(join(proc, 'sysrq-trigger'))).toBe(false);

    const other = buildPiImage(dir.path, { variant: 'cloud-init', seed: 'reboot' });
    const board = nextSerial();
    const capture = await server.app.captures.request({ serial: board, product: 'KXP2', version: '1.6.0' });
    const card = goldenCard('reboot.img', other);
    const before = readFileSync(card);
    const captured = await runWithReboot(board, card);
    expect(captured).toMatchObject({ status: 'success', capture: { status: 'success' } });
    expect(readFileSync(calls, 'utf8')).toBe('-f\n');
    expect(readFileSync(card).equals(before)).toBe(true);
    expect(await finished(capture.id)).toMatchObject({ status: 'succeeded' });
  }, 120_000);
});

/** Enrolls `board` (marked for capture) over the device API, as its agent would: its capture's id and token. */
async function enrollForCapture(
  board: string,
  device = server.device,
): Promise<{ id: number; auth: { authorization: string } }> {
  const enroll = await fetch(`${device}/v1/enroll`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ serial: board, macs: [], storageBytes: CARD_BYTES }),
  });
  const order = (await enroll.json()) as { capture: { id: number; token: string } };
  return { id: order.capture.id, auth: { authorization: `Bearer ${order.capture.token}` } };
}

describe('capture assembly', () => {
  it('places chunks as they arrive, with or without their index, and stores the uploaded bytes of every chunk sanitising left alone', async () => {
    const golden = buildPiImage(dir.path, {
      seed: 'reuse',
      payloadBytes: 6 * 1024 * 1024,
      plant: { 'etc/machine-id': Buffer.from('0123456789abcdef0123456789abcdef\n') },
    });
    // A chunk the store already holds (zeros, say) keeps its stored bytes: boards may be fetching them.
    const storedBefore = new Set<string>();
    for (const i of await server.app.images.list())
      for (const c of (await server.app.images.manifest(i.id)).chunks) storedBefore.add(c.sha256);
    const board = nextSerial();
    const capture = await server.app.captures.request({ serial: board, product: 'KXP2', version: '1.4.0' });
    const { id, auth } = await enrollForCapture(board);
    expect(id).toBe(capture.id);
    const image = readFileSync(golden.path);
    const size = 4 * 1024 * 1024;
    // Level 19, not the importer's 3: a stored chunk with these bytes can only be the upload itself.
    const uploads = new Map<string, { index: number; storedSha256: string }>();
    const chunks: { index: number; sha256: string }[] = [];
    for (let index = 0; index * size < image.length; index++) {
      const raw = image.subarray(index * size, (index + 1) * size);
      const sha256 = createHash('sha256').update(raw).digest('hex');
      chunks.push({ index, sha256 });
      if (uploads.has(sha256)) continue;
      const body = compress(raw, { compressionLevel: 19, checksumFlag: true });
      const storedSha256 = createHash('sha256').update(body).digest('hex');
      uploads.set(sha256, { index, storedSha256 });
      // Every other chunk without its index, as boards before it was sent upload: placed at the end.
      const query = index % 2 === 0 ? `?index=${index}` : '';
      const put = await fetch(`${server.device}/v1/captures/${id}/chunks/${sha256}${query}`, {
        method: 'PUT',
        headers: { ...auth, 'content-type': 'application/zstd', 'x-stored-sha256': storedSha256 },
        body,
      });
      expect(put.status).toBe(200);
    }
    const result = await fetch(`${server.device}/v1/captures/${id}/result`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ status: 'success', sizeBytes: image.length, chunks }),
    });
    expect(result.status).toBe(200);
    const done = await finished(id);
    expect(done, done.error ?? '').toMatchObject({ status: 'succeeded' });

    const manifest = await server.app.images.manifest(done.imageId!);
    expect(manifest.chunks.map((c) => c.index)).toEqual(chunks.map((c) => c.index));
    const changed = manifest.chunks.filter((c) => c.sha256 !== chunks[c.index]!.sha256);
    // Sanitising touches the root's metadata and /etc: a few chunks, every other one is where the board read it.
    expect(changed.length).toBeGreaterThan(0);
    expect(changed.length).toBeLessThanOrEqual(3);
    const kept = manifest.chunks.filter((c) => c.sha256 === chunks[c.index]!.sha256 && !storedBefore.has(c.sha256));
    // At least the random and the text payload (6 MiB each) are chunks no image had before.
    expect(kept.length).toBeGreaterThanOrEqual(3);
    expect(kept.map((c) => c.storedSha256)).toEqual(kept.map((c) => uploads.get(c.sha256)!.storedSha256));
  }, 60_000);
});

describe('a server restarted mid-capture', () => {
  it('starts the image file afresh, so nothing left in it survives, and completes it from the chunks it holds', async () => {
    const golden = buildPiImage(dir.path, { seed: 'restart' });
    const image = readFileSync(golden.path);
    const size = 4 * 1024 * 1024;
    const chunks: { index: number; sha256: string; raw: Buffer }[] = [];
    for (let index = 0; index * size < image.length; index++) {
      const raw = image.subarray(index * size, (index + 1) * size);
      chunks.push({ index, sha256: createHash('sha256').update(raw).digest('hex'), raw });
    }
    // A chunk of zeros the board does not read (free space): not in the layout, so never written.
    const unread = chunks.find((c) => c.index > 0 && c.raw.every((b) => b === 0))!;
    const read = chunks.filter((c) => c !== unread);
    const data = tempDir();
    const upload = async (device: string, id: number, auth: object, part: typeof read) => {
      for (const c of part) {
        const body = compress(c.raw);
        const put = await fetch(`${device}/v1/captures/${id}/chunks/${c.sha256}?index=${c.index}`, {
          method: 'PUT',
          headers: {
            ...auth,
            'content-type': 'application/zstd',
            'x-stored-sha256': createHash('sha256').update(body).digest('hex'),
          },
          body,
        });
        expect(put.status).toBe(200);
      }
    };
    let second: TestServer | undefined;
    try {
      const first = await startServer({ flags: { dataDir: data.path } });
      const board = nextSerial();
      const capture = await first.app.captures.request({ serial: board, product: 'KXP2', version: '2.0.0' });
      const one = await enrollForCapture(board, first.device);
      await upload(first.device, one.id, one.auth, read.slice(0, 3));
      await first.stop();
      // What a server stopped mid-way may leave in the file: bytes where the image has none.
      const file = join(data.path, 'captures', String(capture.id), `${board}-capture-${capture.id}.img`);
      const fd = openSync(file, 'r+');
      writeSync(fd, Buffer.alloc(size, 0xa5), 0, size, unread.index * size);
      closeSync(fd);

      second = await startServer({ flags: { dataDir: data.path } });
      const two = await enrollForCapture(board, second.device);
      await upload(second.device, two.id, two.auth, read.slice(3));
      const result = await fetch(`${second.device}/v1/captures/${two.id}/result`, {
        method: 'POST',
        headers: { ...two.auth, 'content-type': 'application/json' },
        body: JSON.stringify({
          status: 'success',
          sizeBytes: image.length,
          chunks: read.map(({ index, sha256 }) => ({ index, sha256 })),
        }),
      });
      expect(result.status).toBe(200);
      await second.app.captures.settled(capture.id);
      const done = await second.app.captures.get(capture.id);
      expect(done, done.error ?? '').toMatchObject({ status: 'succeeded' });
      const manifest = await second.app.images.manifest(done.imageId!);
      const parts: Buffer[] = [];
      for await (const part of (await second.app.images.openRaw(done.imageId!)).stream) parts.push(part as Buffer);
      expect(Buffer.concat(parts).includes(Buffer.alloc(4096, 0xa5))).toBe(false);
      expect(manifest.chunks.filter((c) => c.sha256 !== chunks[c.index]!.sha256).length).toBeLessThanOrEqual(3);
    } finally {
      await second?.stop();
      data.remove();
    }
  }, 60_000);
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
