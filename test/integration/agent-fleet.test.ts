import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { Manifest } from '../../src/protocol/manifest.js';
import { cardFile, NODE24, runAgentProcess, type AgentRun } from '../helpers/agent.js';
import { firstDifference, mtype, openBootVolume, readPrefix, usedOutsideBoot } from '../helpers/card-check.js';
import { buildPiImage, type PiImage } from '../helpers/pi-image.js';
import { startServer, type TestServer } from '../helpers/start-server.js';
import { tempDir } from '../helpers/temp-dir.js';

/**
 * The whole device path on loopback: the real server, 20 boards at once, each the bundled agent
 * in its own process writing its own card file. Half run on Node 24 (zstd chunks, as boards do),
 * half on this Node (the server decompresses for them).
 */
const BOARDS = 20;
const CARD_BYTES = 256 * 1024 * 1024;
const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl ops@venue';
const PHASES = ['enrolled', 'downloading', 'writing', 'verifying', 'customizing', 'success'];

let dir: ReturnType<typeof tempDir>;
let server: TestServer;
let pi: PiImage;
let image: Buffer;
let manifest: Manifest;

beforeAll(async () => {
  dir = tempDir();
  pi = buildPiImage(dir.path, { variant: 'cloud-init', seed: 'fleet' });
  image = readFileSync(pi.path);
  server = await startServer();
  const { fleet, images } = server.app;
  await fleet.venues.create({ code: 'CORO', name: 'Corona Karting' });
  await fleet.pools.import({ venue: 'CORO', text: '1-40' });
  const batch = await fleet.batches.create({ venue: 'CORO', product: 'KXP2', expectedCount: BOARDS });
  await fleet.batches.apply(batch.id, 'activate');
  await fleet.firstBoot.set('product', 'KXP2', {
    user: {
      name: 'kart',
      passwordHash: '$6$rounds=5000$saltsalt$Q0ykQ1vXpS6LJe9xsmxUzMhwmaG2nJbUOEdLWvb5w8L9i0AE7o1bA0ABCDEFGH',
      sudo: true,
    },
    sshAuthorizedKeys: [KEY],
  });
  await fleet.firstBoot.set('venue', 'CORO', {
    wifi: { ssid: 'Pit Lane', passphrase: 'go-karts-go', country: 'US' },
    timezone: 'America/Los_Angeles',
  });
  const record = await images.import({ path: pi.path }, { product: 'KXP2', version: '2026.11.1', activate: true });
  manifest = await images.manifest(record.id);
}, 120_000);
afterAll(async () => {
  await server?.stop();
  dir?.remove();
});

describe(`${BOARDS} boards at once`, () => {
  const runs: { serial: string; card: string; run: AgentRun; node: string }[] = [];

  beforeAll(async () => {
    const started = Array.from({ length: BOARDS }, (_, i) => {
      const serial = (0xd1370000 + i).toString(16);
      const card = cardFile(join(dir.path, `card-${i}.img`), CARD_BYTES);
      const node = i % 2 === 0 && NODE24 ? NODE24 : process.execPath;
      const args = [
        '--server',
        server.device,
        '--target',
        card,
        '--serial',
        serial,
        '--mac',
        `2c:cf:67:00:00:${i.toString(16).padStart(2, '0')}`,
        '--model',
        'Raspberry Pi 5 Model B Rev 1.0',
        '--quiet',
      ];
      return { serial, card, node, proc: runAgentProcess(args, { node }) };
    });
    for (const s of started) runs.push({ serial: s.serial, card: s.card, node: s.node, run: await s.proc.done });
  }, 180_000);

  it('all succeed, on both runtimes', () => {
    for (const r of runs)
      expect({
        serial: r.serial,
        code: r.run.code,
        status: r.run.result?.status,
        error: r.run.result?.message,
        stderr: r.run.stderr,
      }).toMatchObject({ code: 0, status: 'success' });
    if (NODE24) expect(new Set(runs.map((r) => r.node)).size).toBe(2);
    for (const r of runs) expect(r.run.result!.verifyMethod).toBe('direct-io');
  });

  it('gives 20 distinct names from the pool, each the one the fleet recorded', async () => {
    const names = runs.map((r) => r.run.result!.hostname!);
    expect(new Set(names).size).toBe(BOARDS);
    expect([...names].sort()).toEqual(
      Array.from({ length: BOARDS }, (_, i) => `KXP2-CORO-${String(i + 1).padStart(3, '0')}`),
    );
    for (const r of runs)
      expect((await server.app.fleet.records.device(r.serial)).device.hostname).toBe(r.run.result!.hostname);
  });

  it('leaves every card equal to the image on every used range outside the boot partition', () => {
    const ranges = usedOutsideBoot(manifest);
    expect(ranges.reduce((n, r) => n + r.lengthBytes, 0)).toBeGreaterThan(10 * 1024 * 1024);
    for (const r of runs)
      expect(firstDifference(readPrefix(r.card, image.length), image, ranges), r.card).toBeUndefined();
  });

  it('customises each card for its own name, readable by the FAT reader and by mtools', async () => {
    for (const r of runs) {
      const hostname = r.run.result!.hostname!;
      const { volume, close } = await openBootVolume(r.card, manifest);
      try {
        const file = async (p: string) => Buffer.from(await volume.readFile(p)).toString('utf8');
        const userData = parse(await file('user-data')) as Record<string, unknown>;
        expect(userData).toMatchObject({
          hostname,
          timezone: 'America/Los_Angeles',
          user: { name: 'kart', sudo: 'ALL=(ALL) NOPASSWD:ALL', ssh_authorized_keys: [KEY] },
        });
        const metaData = parse(await file('meta-data')) as Record<string, string>;
        expect(metaData['local-hostname']).toBe(hostname);
        expect(await file('cmdline.txt')).toBe(
          `${pi.boot.files['cmdline.txt']!.toString().trim()} cfg80211.ieee80211_regdom=US ds=nocloud;i=${metaData['instance-id']}\n`,
        );
        expect(parse(await file('network-config'))).toMatchObject({
          network: {
            wifis: {
              wlan0: { 'access-points': { 'Pit Lane': { password: expect.stringMatching(/^[0-9a-f]{64}$/) } } },
            },
          },
        });
        // Every other file of the boot partition is untouched.
        for (const [path, bytes] of Object.entries(pi.boot.files)) {
          if (['cmdline.txt', 'user-data', 'meta-data', 'network-config'].includes(path)) continue;
          expect(Buffer.from(await volume.readFile(path)).equals(bytes), path).toBe(true);
        }
      } finally {
        await close();
      }
      expect(mtype(r.card, manifest, 'user-data')).toContain(`hostname: "${hostname}"`);
      expect(mtype(r.card, manifest, 'cmdline.txt')).toContain('ds=nocloud;i=rpi-deploy-');
    }
  });

  it('records every phase of every deployment in the history, in order', async () => {
    for (const r of runs) {
      const { deployment, history } = await server.app.fleet.records.deployment(r.run.result!.deploymentId!);
      expect(deployment.status).toBe('success');
      expect(history.filter((h) => h.type === 'deployment.phase').map((h) => h.data['phase'])).toEqual(PHASES);
    }
  });

  it('forgets the verified chunks of a board once it succeeded (its card boots and changes)', async () => {
    for (const r of runs) expect(await server.app.deployments.verifiedChunks(r.serial, manifest.imageId)).toEqual([]);
  });
});

describe('a Bookworm image (firstrun.sh)', () => {
  it('gets firstrun.sh naming the host and the systemd.run command line, read back by mtools', async () => {
    const bookworm = buildPiImage(dir.path, { variant: 'bookworm', seed: 'fleet-bw' });
    const record = await server.app.images.import(
      { path: bookworm.path },
      { product: 'RXP2', version: '2026.11.1', activate: true },
    );
    const bwManifest = await server.app.images.manifest(record.id);
    const card = cardFile(join(dir.path, 'card-bookworm.img'), CARD_BYTES);
    const run = await runAgentProcess([
      '--server',
      server.device,
      '--target',
      card,
      '--serial',
      '10000000c0ffee99',
      '--venue',
      'CORO',
      '--product',
      'RXP2',
      '--quiet',
    ]).done;
    expect(run.result).toMatchObject({ status: 'success', hostname: 'RXP2-CORO-C0FFEE99' });
    const script = mtype(card, bwManifest, 'firstrun.sh');
    expect(script).toContain("NEW_HOSTNAME='RXP2-CORO-C0FFEE99'");
    expect(script).toContain("set_wlan 'Pit Lane'");
    expect(mtype(card, bwManifest, 'cmdline.txt')).toBe(
      `${bookworm.boot.files['cmdline.txt']!.toString().trim()} cfg80211.ieee80211_regdom=US systemd.run=/boot/firstrun.sh systemd.run_success_action=reboot systemd.unit=kernel-command-line.target\n`,
    );
    const { volume, close } = await openBootVolume(card, bwManifest);
    try {
      expect(await volume.stat('user-data')).toBeNull();
    } finally {
      await close();
    }
    const image = readFileSync(bookworm.path);
    expect(firstDifference(readPrefix(card, image.length), image, usedOutsideBoot(bwManifest))).toBeUndefined();
  });
});
