import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/lib/logger.js';
import { createBootTokens, type BootTokens } from '../../src/netboot/boot-tree/boot-tokens.js';
import { findBoardOfAddress } from '../../src/netboot/boot-tree/boards.repo.js';
import { createBytesCache } from '../../src/netboot/boot-tree/file-cache.js';
import { activeBootImage } from '../../src/netboot/boot-tree/boot-image.js';
import { directoryFirmware, imageFirmware } from '../../src/netboot/boot-tree/firmware.js';
import { STAGE1_FILE } from '../../src/netboot/boot-tree/paths.js';
import { createBootTree, type Stage1 } from '../../src/netboot/boot-tree/tree.js';
import { saveLease } from '../../src/netboot/dhcp/leases.repo.js';
import type { TftpFile, TftpFileSource, TftpRefusal } from '../../src/netboot/tftp/server.js';
import { parseKernelCmdline } from '../../src/agent/identify.js';
import { buildPiImage } from '../helpers/pi-image.js';
import { openTestCore } from '../helpers/start-server.js';
import { tempDir } from '../helpers/temp-dir.js';

type TestCore = Awaited<ReturnType<typeof openTestCore>>;
let core: TestCore;
let boot: ReturnType<typeof tempDir>;
let tokens: BootTokens;
let tree: TftpFileSource;
let stage1: Stage1 | undefined;
let clock: number;

const PI_A = { address: '198.18.0.101', port: 40001 };
const PI_B = { address: '198.18.0.102', port: 40002 };
const RUNTIME_SHA = 'cd'.repeat(32);

function file(got: TftpFile | TftpRefusal): TftpFile {
  if ('refused' in got) throw new Error(`expected a file, got ${got.refused}: ${got.message}`);
  return got;
}
const text = async (path: string, client = PI_A) => file(await tree.open(path, client)).bytes.toString();
/** The rpi_deploy.* parameters of a generated cmdline.txt. */
const parseBootParams = (cmdline: string) => {
  const m = parseKernelCmdline(cmdline);
  return {
    server: m.get('rpi_deploy.server'),
    target: m.get('rpi_deploy.target'),
    token: m.get('rpi_deploy.token'),
    runtime: m.get('rpi_deploy.runtime'),
  };
};
const refusal = async (path: string, client = PI_A) => {
  const got = await tree.open(path, client);
  return 'refused' in got ? got.refused : 'served';
};

beforeEach(async () => {
  core = await openTestCore();
  boot = tempDir('rpi-deploy-boot-');
  mkdirSync(join(boot.path, 'overlays'));
  writeFileSync(join(boot.path, 'kernel_2712.img'), 'KERNEL-2712');
  writeFileSync(join(boot.path, 'bcm2712-rpi-5-b.dtb'), 'DTB');
  writeFileSync(join(boot.path, 'overlays', 'bcm2712d0.dtbo'), 'OVERLAY');
  writeFileSync(join(boot.path, 'overlays', 'overlay_map.dtb'), 'MAP');
  clock = Date.parse('2026-11-22T08:00:00Z');
  tokens = createBootTokens({ store: core.store, ttlMs: 3_600_000, clock: () => new Date(clock) });
  stage1 = { initramfs: Buffer.from('STAGE1-CPIO'), runtimeSha256: RUNTIME_SHA };
  tree = createBootTree({
    firmware: directoryFirmware(boot.path, createBytesCache(1 << 20)),
    stage1: async () => stage1,
    tokens,
    netbootAllowed: (serial8) => core.fleet.records.netbootAllowed(serial8),
    serialForAddress: (ip) => findBoardOfAddress(core.store.db, ip, new Date(clock).toISOString()),
    settings: {
      console: 'ttyAMA10,115200',
      cmdlineExtra: '',
      target: '/dev/mmcblk0',
      deviceApiUrl: () => 'http://198.18.0.1:5001',
    },
    log: createLogger('silent'),
    now: () => clock,
  });
});

afterEach(async () => {
  await core.dispose();
  boot.remove();
});

describe('the boot tree', () => {
  it('generates config.txt and cmdline.txt per board, the same bytes for the probe and the read', async () => {
    const configTxt = await text('9ffefdef/config.txt');
    expect(configTxt).toContain('kernel=kernel_2712.img');
    expect(configTxt).toContain(`initramfs ${STAGE1_FILE} followkernel`);
    expect(configTxt).toContain('board 9ffefdef');
    const cmdline = await text('9ffefdef/cmdline.txt');
    expect(await text('9ffefdef/cmdline.txt')).toBe(cmdline);
    expect(cmdline.startsWith('console=ttyAMA10,115200 ')).toBe(true);
    const params = parseBootParams(cmdline);
    expect(params).toEqual({
      server: 'http://198.18.0.1:5001',
      target: '/dev/mmcblk0',
      token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      runtime: RUNTIME_SHA,
    });
    expect(await tokens.verify(params.token!)).toBe('9ffefdef');

    const other = parseBootParams(await text('da591740/cmdline.txt', PI_B));
    expect(other.token).not.toBe(params.token);
    expect(await tokens.verify(other.token!)).toBe('da591740');
  });

  it('gives a new token to a later boot; tokens expire', async () => {
    const first = parseBootParams(await text('9ffefdef/cmdline.txt')).token!;
    clock += 10 * 60_000;
    const second = parseBootParams(await text('9ffefdef/cmdline.txt')).token!;
    expect(second).not.toBe(first);
    expect(await tokens.verify(first)).toBe('9ffefdef');
    clock += 3_600_000;
    expect(await tokens.verify(first)).toBeUndefined();
    expect(await tokens.verify(second)).toBeUndefined();
    expect(await tokens.verify('not-a-token')).toBeUndefined();
    expect(await tokens.verify(first.replace(/.$/, first.endsWith('A') ? 'B' : 'A'))).toBeUndefined();
  });

  it('serves root paths to the address a board used with its prefix, or holds a DHCP lease on', async () => {
    expect(await refusal('config.txt')).toBe('not-found'); // nobody knows which board this is
    await text('9ffefdef/config.txt');
    expect(await tokens.verify(parseBootParams(await text('cmdline.txt')).token!)).toBe('9ffefdef');

    await saveLease(core.store.db, {
      ip: PI_B.address,
      clientKey: '2c:cf:67:00:00:02',
      mac: '2c:cf:67:00:00:02',
      state: 'bound',
      expiresAt: new Date(clock + 3_600_000).toISOString(),
      serial8: 'da591740',
      hostname: null,
      updatedAt: new Date(clock).toISOString(),
    });
    expect(await tokens.verify(parseBootParams(await text('cmdline.txt', PI_B)).token!)).toBe('da591740');
  });

  it('serves kernel, device trees, overlays and stage 1 with or without the prefix', async () => {
    for (const prefix of ['', '9ffefdef/']) {
      expect(await text(`${prefix}kernel_2712.img`)).toBe('KERNEL-2712');
      expect(await text(`${prefix}bcm2712-rpi-5-b.dtb`)).toBe('DTB');
      expect(await text(`${prefix}overlays/bcm2712d0.dtbo`)).toBe('OVERLAY');
      expect(await text(`${prefix}overlays/overlay_map.dtb`)).toBe('MAP');
      expect(await text(`${prefix}${STAGE1_FILE}`)).toBe('STAGE1-CPIO');
      expect(await refusal(`${prefix}kernel8.img`)).toBe('not-found');
      expect(await refusal(`${prefix}start4.elf`)).toBe('not-found');
      expect(await refusal(`${prefix}pieeprom.sig`)).toBe('not-found');
    }
    expect(file(await tree.open('kernel_2712.img', PI_B)).serial8).toBeNull();
    expect(file(await tree.open('9ffefdef/kernel_2712.img', PI_A)).serial8).toBe('9ffefdef');
  });

  it('falls back to kernel8.img, and serves no config.txt without a kernel or a stage 1', async () => {
    boot.remove();
    mkdirSync(boot.path);
    expect(await refusal('9ffefdef/config.txt')).toBe('not-found');
    writeFileSync(join(boot.path, 'kernel8.img'), 'K8');
    expect(await text('9ffefdef/config.txt')).toContain('kernel=kernel8.img');
    stage1 = undefined;
    clock += 10 * 60_000;
    expect(await refusal('da591740/config.txt', PI_B)).toBe('not-found');
    expect(await refusal(`da591740/${STAGE1_FILE}`, PI_B)).toBe('not-found');
  });

  it('lets no path out of the tree', async () => {
    const outside = tempDir('rpi-deploy-outside-');
    writeFileSync(join(outside.path, 'secret.dtbo'), 'SECRET');
    symlinkSync(join(outside.path, 'secret.dtbo'), join(boot.path, 'overlays', 'escape.dtbo'));
    symlinkSync('/etc/passwd', join(boot.path, 'overlays', 'passwd.dtbo'));
    symlinkSync('bcm2712d0.dtbo', join(boot.path, 'overlays', 'alias.dtbo'));
    symlinkSync('/etc', join(boot.path, 'overlays-link'));
    expect(await text('overlays/alias.dtbo')).toBe('OVERLAY'); // a link that stays inside is fine
    for (const path of [
      'overlays/escape.dtbo',
      'overlays/passwd.dtbo',
      '../etc/passwd',
      '9ffefdef/../../../etc/passwd',
      'overlays/../../etc/passwd',
      'overlays/x\0.dtbo',
      'overlays\\..\\..\\etc\\passwd',
    ]) {
      expect([path, await refusal(path)]).toEqual([path, 'access-violation']);
    }
    for (const path of ['/etc/passwd', '//etc/passwd', 'overlays-link/passwd', 'kernel_2712.img/x', 'overlays']) {
      expect([path, await refusal(path)]).toEqual([path, 'not-found']);
    }
    outside.remove();
  });

  it('shows nothing to a board imaged successfully until a re-image is requested', async () => {
    await core.fleet.venues.create({ code: 'CORO', name: 'Corona Karting' });
    await core.fleet.pools.import({ venue: 'CORO', text: '1-5' });
    const { deployment } = await core.fleet.enrollment.enroll({
      serial: '10000000aaaa0001',
      venue: 'CORO',
      product: 'KXP2',
    });
    expect(await text('aaaa0001/config.txt')).toContain('kernel=');
    await core.fleet.enrollment.advance(deployment.id, 'success');
    for (const path of [
      'aaaa0001/config.txt',
      'aaaa0001/cmdline.txt',
      'aaaa0001/kernel_2712.img',
      `aaaa0001/${STAGE1_FILE}`,
      'config.txt',
      'kernel_2712.img',
    ]) {
      expect([path, await refusal(path)]).toEqual([path, 'not-found']);
    }
    expect(await text('kernel_2712.img', PI_B)).toBe('KERNEL-2712'); // another board is not affected
    await core.fleet.enrollment.requestReimage('10000000aaaa0001');
    expect(await text('aaaa0001/config.txt')).toContain('kernel=');
  });

  it("takes kernel, device trees and overlays from the active image's FAT boot partition when no directory is set", async () => {
    const firmware = imageFirmware(
      activeBootImage({ fleet: core.fleet, images: core.images }),
      createBytesCache(16 << 20),
    );
    expect(await firmware.read('kernel_2712.img')).toBeUndefined(); // no image yet: boards hear "not found"
    const kxp2 = buildPiImage(boot.path, { seed: 'kxp2' });
    const rxp2 = buildPiImage(boot.path, { seed: 'rxp2' });
    await core.fleet.venues.create({ code: 'CORO', name: 'Corona Karting' });
    await core.images.import({ path: kxp2.path }, { product: 'KXP2', version: '1', activate: true });
    await core.images.import({ path: rxp2.path }, { product: 'RXP2', version: '1', activate: true });
    expect((await firmware.read('kernel_2712.img'))!.equals(rxp2.boot.files['kernel_2712.img']!)).toBe(true); // the newest active image
    const batch = await core.fleet.batches.create({ venue: 'CORO', product: 'KXP2', expectedCount: 5 });
    await core.fleet.batches.apply(batch.id, 'activate');
    for (const name of [
      'kernel_2712.img',
      'kernel8.img',
      'bcm2712-rpi-5-b.dtb',
      'overlays/bcm2712d0.dtbo',
      'overlays/overlay_map.dtb',
    ]) {
      expect([name, (await firmware.read(name))?.equals(kxp2.boot.files[name]!)]).toEqual([name, true]); // the active batch's product
    }
    expect(await firmware.read('overlays/missing.dtbo')).toBeUndefined();
    await expect(firmware.read('../kernel_2712.img')).rejects.toMatchObject({ code: 'IMAGE_PATH_INVALID' });
  });
});
