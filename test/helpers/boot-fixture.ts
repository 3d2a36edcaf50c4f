import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MANIFEST_FILE, netbootDir, type BuildManifest } from '../../src/netboot/build/artifacts.js';

/**
 * Test inputs for network boot without downloading anything: a boot-files directory laid out like
 * a Pi 5 FAT partition, and a stage-1 build (initramfs + runtime bundle + build.json) in the
 * format `rpi-deploy netboot build` writes. The bytes are random; TFTP and HTTP only move them.
 */
export interface BootFixture {
  bootFilesDir: string;
  files: Record<string, Buffer>;
  stage1: Buffer;
  runtime: Buffer;
  manifest: BuildManifest;
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

export function writeBootFixture(root: string, dataDir: string, sizes: { kernelBytes?: number } = {}): BootFixture {
  const bootFilesDir = join(root, 'boot');
  mkdirSync(join(bootFilesDir, 'overlays'), { recursive: true });
  const files: Record<string, Buffer> = {
    'kernel_2712.img': randomBytes(sizes.kernelBytes ?? 3 * 1024 * 1024 + 333),
    'bcm2712-rpi-5-b.dtb': randomBytes(77_123),
    'bcm2712d0-rpi-5-b.dtb': randomBytes(77_200),
    'overlays/overlay_map.dtb': randomBytes(5_000),
    'overlays/bcm2712d0.dtbo': randomBytes(1_468 * 2),
  };
  for (const [name, bytes] of Object.entries(files)) writeFileSync(join(bootFilesDir, name), bytes);
  const stage1 = randomBytes(1_000_001);
  const runtime = randomBytes(2 * 1024 * 1024 + 5);
  const dir = netbootDir(dataDir);
  mkdirSync(dir, { recursive: true });
  const manifest: BuildManifest = {
    format: 1,
    builtAt: new Date().toISOString(),
    inputs: { fixture: 'random' },
    stage1: { file: 'stage1-fixture.img', sha256: sha256(stage1), sizeBytes: stage1.length },
    runtime: { file: 'runtime-fixture.tar', sha256: sha256(runtime), sizeBytes: runtime.length },
  };
  writeFileSync(join(dir, manifest.stage1.file), stage1);
  writeFileSync(join(dir, manifest.runtime.file), runtime);
  writeFileSync(join(dir, MANIFEST_FILE), JSON.stringify(manifest));
  return { bootFilesDir, files, stage1, runtime, manifest };
}
