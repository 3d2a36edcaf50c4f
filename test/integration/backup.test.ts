import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openCore } from '../../src/app.js';
import { loadConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/lib/logger.js';
import { tarIndex } from '../../src/operations/tar-index.js';
import type { DoctorReport } from '../../src/protocol/doctor.js';
import { CLI, cleanEnv, runCli, spawnServe } from '../helpers/cli.js';
import { buildPiImage, rawDisk } from '../helpers/pi-image.js';
import { tempDir } from '../helpers/temp-dir.js';

/**
 * `rpi-deploy backup` while the server assigns names, and `rpi-deploy restore` of what it wrote:
 * every assignment acknowledged before the backup began is in the restored database, which
 * passes SQLite's integrity check; image chunks round-trip byte for byte; a damaged backup and a
 * non-empty target are refused without leaving anything behind.
 */

let dir: ReturnType<typeof tempDir>;
beforeEach(() => {
  dir = tempDir('rpi-deploy-backup-');
});
afterEach(() => dir.remove());

const open = (dataDir: string) => openCore(loadConfig({ flags: { dataDir } }), createLogger('silent'));

function runCliAsync(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: cleanEnv() });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('backup and restore', () => {
  it('backs up under assignment load: every assignment acknowledged before it began is restored, integrity_check ok', async () => {
    const data = join(dir.path, 'data');
    const setup = await open(data);
    await setup.fleet.venues.create({ code: 'CORO', name: 'x' });
    await setup.fleet.pools.import({ venue: 'CORO', text: '1-400' });
    // The seed's config answer names an image: both products need an active one.
    for (const product of ['KXP2', 'RXP2']) {
      const file = join(dir.path, `${product}.img`);
      writeFileSync(file, rawDisk(product, 4096));
      await setup.images.import({ path: file }, { product, version: '1', activate: true });
    }
    await setup.close();
    const config = join(dir.path, 'config.yaml');
    writeFileSync(config, `dataDir: ${data}\n`);

    const { device, child } = await spawnServe([
      '--config',
      config,
      '--device-listen',
      '127.0.0.1:0',
      '--management-listen',
      '127.0.0.1:0',
      '--log-level',
      'silent',
    ]);
    try {
      const acknowledged: { serial: string; hostname: string; at: number }[] = [];
      let next = 0;
      let stop = false;
      // Eight boards enrolling at a time, without pause, for as long as the backup runs.
      const worker = async () => {
        while (!stop && next < 600) {
          const i = next++;
          const serial = (0x50000000 + i).toString(16);
          const res = await fetch(`${device}/api/config`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ product_type: i % 3 ? 'KXP2' : 'RXP2', venue_code: 'CORO', serial_number: serial }),
          });
          const body = (await res.json()) as { hostname?: string };
          expect(res.status, JSON.stringify(body)).toBe(200);
          acknowledged.push({ serial, hostname: body.hostname!, at: performance.now() });
        }
      };
      const load = Promise.all(Array.from({ length: 8 }, worker));
      while (acknowledged.length < 50) await new Promise((r) => setTimeout(r, 10));
      const backupFile = join(dir.path, 'site.backup');
      const startedAt = performance.now();
      const backup = await runCliAsync(['backup', backupFile, '--with-images', '--config', config]);
      const during = acknowledged.filter((a) => a.at > startedAt).length;
      stop = true;
      await load;
      expect(backup.code, backup.stderr).toBe(0);
      expect(backup.stdout).toMatch(/database: \d+ pages copied online, integrity_check ok/);
      // The backup really ran under load.
      expect(during).toBeGreaterThan(0);

      const restored = join(dir.path, 'restored');
      const r = runCli(['restore', backupFile, '--data-dir', restored]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain('database: SHA-256 and integrity_check ok');
      expect(readFileSync(join(restored, 'config.yaml'), 'utf8')).toBe(`dataDir: ${data}\n`);

      const core = await open(restored);
      try {
        expect((await sql<{ integrity_check: string }>`pragma integrity_check`.execute(core.store.db)).rows).toEqual([
          { integrity_check: 'ok' },
        ]);
        const before = acknowledged.filter((a) => a.at < startedAt);
        expect(before.length).toBeGreaterThanOrEqual(50);
        for (const a of before) expect((await core.fleet.records.device(a.serial)).device.hostname).toBe(a.hostname);
        // And nothing the server never acknowledged: every restored assignment is one a board was given.
        const given = new Map(acknowledged.map((a) => [a.serial, a.hostname]));
        const rows = await core.store.db
          .selectFrom('assignments')
          .select(['serial', 'hostname'])
          .where('released_at', 'is', null)
          .execute();
        for (const row of rows) expect(given.get(row.serial)).toBe(row.hostname);
      } finally {
        await core.close();
      }
    } finally {
      child.kill('SIGTERM');
    }
  }, 120_000);

  it('carries the image store with --with-images: the restored store reads the same chunks', async () => {
    const data = join(dir.path, 'data');
    const image = buildPiImage(dir.path);
    const add = runCli([
      'image',
      'add',
      image.path,
      '--product',
      'KXP2',
      '--version',
      '1.0',
      '--activate',
      '--data-dir',
      data,
    ]);
    expect(add.code, add.stderr).toBe(0);
    const backupFile = join(dir.path, 'with-images.backup');
    const b = runCli(['backup', backupFile, '--with-images', '--data-dir', data]);
    expect(b.code, b.stderr).toBe(0);
    expect(b.stdout).toMatch(/image store: \d+ files, [0-9.]+ [kMG]?B, included/);
    const inTar = (await tarIndex(backupFile)).map((e) => e.path);
    expect(inTar.filter((p) => p.startsWith('images/chunks/')).length).toBeGreaterThan(0);

    const restored = join(dir.path, 'restored');
    const r = runCli(['restore', backupFile, '--data-dir', restored]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/image store: \d+ files, each matching its SHA-256/);
    const original = await open(data);
    const copy = await open(restored);
    try {
      const [img] = await copy.images.list();
      expect(img).toMatchObject({ product: 'KXP2', version: '1.0', active: true, sha256: image.sha256 });
      const manifest = await copy.images.manifest(img!.id);
      for (const chunk of manifest.chunks.slice(0, 5)) {
        expect(
          (await copy.images.readChunk(chunk.sha256)).bytes.equals(
            (await original.images.readChunk(chunk.sha256)).bytes,
          ),
        ).toBe(true);
      }
    } finally {
      await Promise.all([original.close(), copy.close()]);
    }
  }, 120_000);

  it('restores a backup without --with-images: records stay, each image without files is named, doctor fails it, importing it again brings it back', async () => {
    const data = join(dir.path, 'data');
    const image = buildPiImage(dir.path);
    const add = ['image', 'add', image.path, '--product', 'KXP2', '--version', '1.0', '--activate'];
    expect(runCli([...add, '--data-dir', data]).code).toBe(0);
    const setup = await open(data);
    await setup.fleet.venues.create({ code: 'CORO', name: 'x' });
    await setup.fleet.pools.import({ venue: 'CORO', text: '1-5' });
    const { enrollment } = await setup.deployments.seedConfig({
      product: 'KXP2',
      venue: 'CORO',
      serial: '1000000012345678',
      ip: '198.18.0.20',
    });
    await setup.close();
    const backupFile = join(dir.path, 'no-images.backup');
    expect(runCli(['backup', backupFile, '--data-dir', data]).code).toBe(0);

    const restored = join(dir.path, 'restored');
    const r = runCli(['restore', backupFile, '--data-dir', restored]);
    expect(r.code, r.stderr).toBe(0);
    // The command is spelled as this installation is reached (rpi-deploy, npx rpi-deploy or node …/rpi-deploy.js).
    expect(r.stdout).toMatch(
      /image 1 \(KXP2 1\.0, active\): no stored files; boards cannot be given it until it is imported again: (\S+ )*\S*rpi-deploy(\.js)? image add FILE --product KXP2 --version 1\.0\n/,
    );
    // Every command opens the image store first: with a manifest missing, each used to fail with ENOENT.
    const show = runCli(['device', 'show', '1000000012345678', '--data-dir', restored]);
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout).toContain(enrollment.hostname);
    const doctor = runCli(['doctor', '--json', '--no-probe', '--data-dir', restored]);
    const check = (JSON.parse(doctor.stdout) as DoctorReport).checks.find((c) => c.id === 'image-files');
    expect(check).toMatchObject({ status: 'fail', summary: expect.stringContaining('KXP2 1.0 (image 1, active)') });
    const copy = await open(restored);
    try {
      await expect(copy.images.manifest(1)).rejects.toMatchObject({
        code: 'IMAGE_FILES_MISSING',
        message: expect.stringContaining('rpi-deploy image add FILE --product KXP2 --version 1.0'),
      });
    } finally {
      await copy.close();
    }

    const again = runCli([...add, '--data-dir', restored]);
    expect(again.code, again.stderr).toBe(0);
    const back = await open(restored);
    try {
      expect(await back.images.withoutFiles()).toEqual([]);
      expect(await back.images.list()).toMatchObject([{ id: 1, product: 'KXP2', version: '1.0', active: true }]);
      expect((await back.images.manifest(1)).chunks.length).toBeGreaterThan(0);
    } finally {
      await back.close();
    }
    const after = runCli(['doctor', '--json', '--no-probe', '--data-dir', restored]);
    expect((JSON.parse(after.stdout) as DoctorReport).checks.find((c) => c.id === 'image-files')?.status).toBe('pass');
  }, 120_000);

  it('refuses a damaged backup and leaves the target empty; refuses a target that is not empty', async () => {
    const data = join(dir.path, 'data');
    expect(runCli(['venue', 'add', 'CORO', '--name', 'x', '--data-dir', data]).code).toBe(0);
    const backupFile = join(dir.path, 'b.backup');
    expect(runCli(['backup', backupFile, '--data-dir', data]).code).toBe(0);
    const bytes = readFileSync(backupFile);
    const db = (await tarIndex(backupFile)).find((e) => e.path === 'rpi-deploy.db')!;
    bytes[db.offset + 200] = bytes[db.offset + 200]! ^ 0xff;
    const damaged = join(dir.path, 'damaged.backup');
    writeFileSync(damaged, bytes);

    const target = join(dir.path, 'restored');
    const r = runCli(['restore', damaged, '--data-dir', target]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `error: ${damaged} is not a usable rpi-deploy backup: rpi-deploy.db does not match its SHA-256 in backup.json (damaged copy)\n`,
    );
    const again = runCli(['restore', backupFile, '--data-dir', target]);
    expect(again.code, again.stderr).toBe(0);
    const full = runCli(['restore', backupFile, '--data-dir', target]);
    expect(full.code).toBe(1);
    expect(full.stderr).toBe(
      `error: ${target} is not empty; restore into a new or empty directory (nothing there was changed)\n`,
    );
  }, 60_000);
});
