import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { openCore } from '../../src/app.js';
import { loadConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/lib/logger.js';
import { STAGE1_FILE } from '../../src/netboot/boot-tree/paths.js';
import type { Manifest } from '../../src/protocol/manifest.js';
import { AGENT_BUNDLE, cardFile } from '../helpers/agent.js';
import { prepareGuestKernel, type GuestKernel } from '../helpers/arm64-guest.js';
import { testCacheDir } from '../helpers/test-cache.js';
import { firstDifference, openBootVolume, readPrefix, usedOutsideBoot } from '../helpers/card-check.js';
import { CLI, cleanEnv } from '../helpers/cli.js';
import { DhcpLab, SERVER_ADDRESS, type Served } from '../helpers/dhcp-lab.js';
import { buildPiImage, type PiImage } from '../helpers/pi-image.js';
import type { TftpReplayResult } from '../helpers/pi5-tftp-replayer.js';

/**
 * The whole chain a blank Pi 5 goes through, on emulated arm64 (docs/testing.md): the bootloader's
 * DHCP and TFTP (the replayers) against `rpi-deploy serve` in a namespace; then Debian's arm64
 * kernel (the stand-in for the Pi kernel, its virtio modules appended as a second cpio) boots
 * the stage-1 initramfs and the command line that TFTP served, under qemu-system-aarch64 on a tap
 * in the same LAN. Stage 1 leases an address from our DHCP, downloads the runtime bundle that
 * `rpi-deploy netboot build` assembled from the Debian archive and npm, and runs the agent, which
 * enrolls with its boot token and images the virtio disk standing in for the SD card.
 */

const SERIAL = '9d00ce41d137e638'; // a Pi 5 serial (docs/pi5-netboot.md §7); its bootloader shows the last 8 digits
const SERIAL8 = SERIAL.slice(-8);
const MAC = '2c:cf:67:13:7e:38';
const CARD_BYTES = 128 * 1024 * 1024;
const REPLAYER = new URL('../helpers/pi5-tftp-replayer.ts', import.meta.url).pathname;

let lab: DhcpLab;
let served: Served;
let guest: GuestKernel;
let pi: PiImage;
let manifest: Manifest;
let work: string;

beforeAll(async () => {
  const cache = testCacheDir();
  guest = await prepareGuestKernel(cache);
  lab = new DhcpLab();
  work = join(lab.dir.path, 'work');
  mkdirSync(work, { recursive: true });

  // What an operator runs once: stage 1 and the runtime bundle, from the registries.
  const build = spawnSync(
    process.execPath,
    [CLI, 'netboot', 'build', '--data-dir', lab.dataDir, '--cache-dir', cache, '--agent', AGENT_BUNDLE],
    {
      env: cleanEnv(),
      encoding: 'utf8',
      timeout: 900_000,
    },
  );
  expect(build.status, build.stderr).toBe(0);

  // A venue, its pool, an active batch and the product's image (Raspberry Pi OS-shaped, cloud-init).
  pi = buildPiImage(work, { variant: 'cloud-init', seed: 'qemu' });
  const core = await openCore(
    loadConfig({ flags: { dataDir: lab.dataDir, 'log.level': 'silent' } }),
    createLogger('silent'),
  );
  try {
    await core.fleet.venues.create({ code: 'CORO', name: 'Corona Karting' });
    await core.fleet.pools.import({ venue: 'CORO', text: '1-10' });
    const batch = await core.fleet.batches.create({ venue: 'CORO', product: 'KXP2', expectedCount: 1 });
    await core.fleet.batches.apply(batch.id, 'activate');
    await core.fleet.firstBoot.set('venue', 'CORO', { timezone: 'Europe/Berlin' });
    const image = await core.images.import(
      { path: pi.path },
      { product: 'KXP2', version: '2026.11.22', activate: true },
    );
    manifest = await core.images.manifest(image.id);
  } finally {
    await core.close();
  }

  // Debian's kernel plays the Pi's kernel_2712.img; QEMU's console is ttyAMA0, its card /dev/vda,
  // and it has no device tree serial, so the command line names the board.
  const bootFiles = join(work, 'boot');
  mkdirSync(bootFiles);
  copyFileSync(guest.kernel, join(bootFiles, 'kernel8.img'));
  served = await lab.serve(
    {
      dhcp: {
        mode: 'full',
        range: { start: '198.18.0.100', end: '198.18.0.150' },
        foreignServer: { probeMs: 300, recheckSeconds: 0 },
      },
      tftp: { bootFilesDir: bootFiles },
      boot: { console: 'ttyAMA0', target: '/dev/vda', cmdlineExtra: `panic=-1 rpi_deploy.serial=${SERIAL}` },
    },
    ['--device-listen', `${SERVER_ADDRESS}:5001`],
  );
}, 900_000);

afterAll(async () => {
  await served?.stop();
  await lab?.destroy();
});

describe('network boot under QEMU, from DHCP to an imaged card', () => {
  let console_ = '';
  let qemuExit: number | null = null;
  let replay: TftpReplayResult;
  const files = () => join(work, 'tftp');

  it('the bootloader gets an address and our boot options, then reads its files from our TFTP', async () => {
    const board = lab.client('pi');
    lab.lab.exec(board, ['ip', 'link', 'set', 'eth0', 'address', MAC]);
    const dhcp = await lab.replay(board, { mac: MAC, serial8: SERIAL8, tftpServer: SERVER_ADDRESS });
    expect(dhcp.problems).toEqual([]);
    expect(dhcp.bootServer).toBe(SERVER_ADDRESS);
    lab.lab.exec(board, ['ip', 'addr', 'add', `${dhcp.address}/24`, 'dev', 'eth0']);
    const r = await lab.run(
      board,
      [
        process.execPath,
        '--import',
        'tsx',
        REPLAYER,
        JSON.stringify({ server: dhcp.bootServer, serial8: SERIAL8, saveDir: files() }),
      ],
      120_000,
    );
    expect(r.code, r.stderr).toBe(0);
    replay = JSON.parse(r.stdout) as TftpReplayResult;
    expect(replay.problems).toEqual([]);
    expect(replay.prefix).toBe(`${SERIAL8}/`);
    const ok = replay.files.filter((f) => f.status === 'ok').map((f) => f.path);
    expect(ok).toEqual(
      expect.arrayContaining([
        `${SERIAL8}/config.txt`,
        `${SERIAL8}/kernel8.img`,
        `${SERIAL8}/${STAGE1_FILE}`,
        `${SERIAL8}/cmdline.txt`,
      ]),
    );
    expect(replay.files.find((f) => f.path.endsWith(STAGE1_FILE))!.size).toBeLessThan(4 * 1024 * 1024); // a few MB, well inside the Pi's 30 s per file
    // The board hands its address and MAC over to the emulated one that boots next.
    lab.lab.exec(board, ['ip', 'link', 'set', 'eth0', 'down']);
  }, 180_000);

  it('boots the kernel and stage 1 it was given; stage 1 leases, downloads the runtime and runs the agent', async () => {
    const dir = join(files(), SERIAL8);
    const initrd = join(work, 'initrd.img');
    // The kernel takes a cpio appended to a compressed one only at a 4-byte offset; zeros pad to it.
    const initramfs = readFileSync(join(dir, STAGE1_FILE));
    writeFileSync(initrd, Buffer.concat([initramfs, Buffer.alloc(-initramfs.length & 3), readFileSync(guest.modules)]));
    const card = cardFile(join(work, 'card.img'), CARD_BYTES);
    lab.lab.exec(lab.switch, ['ip', 'tuntap', 'add', 'dev', 'qtap0', 'mode', 'tap']);
    lab.lab.exec(lab.switch, ['ip', 'link', 'set', 'qtap0', 'master', 'br0']);
    lab.lab.exec(lab.switch, ['ip', 'link', 'set', 'qtap0', 'up']);
    const qemu = lab.lab.spawn(lab.switch, [
      'timeout',
      '400',
      'qemu-system-aarch64',
      '-M',
      'virt',
      '-cpu',
      'cortex-a76',
      '-smp',
      '1',
      '-m',
      '1024',
      '-nographic',
      '-no-reboot',
      '-kernel',
      join(dir, 'kernel8.img'),
      '-initrd',
      initrd,
      '-append',
      readFileSync(join(dir, 'cmdline.txt'), 'utf8').trim(),
      '-drive',
      `file=${card},if=virtio,format=raw`,
      '-netdev',
      'tap,id=n0,ifname=qtap0,script=no,downscript=no',
      '-device',
      `virtio-net-pci,netdev=n0,mac=${MAC}`,
      '-device',
      'virtio-rng-pci',
    ]);
    qemu.stdout!.on('data', (d: Buffer) => (console_ += d.toString()));
    qemu.stderr!.on('data', (d: Buffer) => (console_ += d.toString()));
    qemuExit = await new Promise((resolve) => qemu.on('exit', (code) => resolve(code)));
    writeFileSync(join(work, 'console.log'), console_);
    const stage1 = console_.split('\n').filter((l) => l.includes('rpi-deploy stage1:'));
    expect(stage1.join('\n'), console_.slice(-4000)).toMatch(/eth0 is 198\.18\.0\.1\d\d/);
    expect(stage1.join('\n')).toContain('runtime ready: node v24.');
    expect(stage1.at(-1), console_.slice(-3000)).toContain('done; rebooting');
    expect(qemuExit).toBe(0);
  }, 420_000);

  it('left the image on the card, customised for the name the fleet gave, and a successful deployment in the history', async () => {
    const core = await openCore(
      loadConfig({ flags: { dataDir: lab.dataDir, 'log.level': 'silent' } }),
      createLogger('silent'),
    );
    try {
      const { device, deployments } = await core.fleet.records.device(SERIAL);
      expect(device.hostname).toBe('KXP2-CORO-001');
      expect(deployments).toHaveLength(1);
      const { deployment, history } = await core.fleet.records.deployment(deployments[0]!.id);
      expect(deployment.status).toBe('success');
      expect(history.filter((h) => h.type === 'deployment.phase').map((h) => h.data['phase'])).toEqual([
        'enrolled',
        'downloading',
        'writing',
        'verifying',
        'customizing',
        'success',
      ]);
      const tftp = (await core.fleet.records.history({ limit: 1000 }))
        .filter((h) => h.type === 'tftp.served')
        .map((h) => h.data['path']);
      expect(tftp).toEqual(
        expect.arrayContaining([`${SERIAL8}/config.txt`, `${SERIAL8}/${STAGE1_FILE}`, `${SERIAL8}/cmdline.txt`]),
      );
    } finally {
      await core.close();
    }
    const card = join(work, 'card.img');
    const image = readFileSync(pi.path);
    expect(firstDifference(readPrefix(card, image.length), image, usedOutsideBoot(manifest))).toBeUndefined();
    const { volume, close } = await openBootVolume(card, manifest);
    try {
      const userData = parse(Buffer.from(await volume.readFile('user-data')).toString('utf8')) as Record<
        string,
        unknown
      >;
      expect(userData).toMatchObject({ hostname: 'KXP2-CORO-001', timezone: 'Europe/Berlin' });
    } finally {
      await close();
    }
  });
});
