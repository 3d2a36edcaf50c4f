import { spawnSync } from 'node:child_process';
import { createWriteStream, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SanitiseReport } from '../../src/images/index.js';
import { buildPiImage, compressImage, sha256File, type PiImage } from '../helpers/pi-image.js';
import { openTestCore } from '../helpers/start-server.js';
import { tempDir } from '../helpers/temp-dir.js';

/**
 * `image add --sanitise` through the image service: a compressed golden image is decoded to
 * staging, sanitised there, then stored; the operator's file is never changed, and the stored
 * image, rebuilt from its chunks, reads back sanitised with debugfs.
 */
let dir: ReturnType<typeof tempDir>;
let core: Awaited<ReturnType<typeof openTestCore>>;
let golden: PiImage;

beforeAll(async () => {
  dir = tempDir('rpi-deploy-import-sanitise-');
  golden = buildPiImage(dir.path, {
    seed: 'golden',
    plant: {
      'etc/machine-id': Buffer.from('0123456789abcdef0123456789abcdef\n'),
      'etc/ssh/ssh_host_ed25519_key': Buffer.from('golden key\n'),
      'var/log/syslog': Buffer.from('golden log\n'.repeat(100)),
    },
  });
  core = await openTestCore();
});
afterAll(async () => {
  await core.dispose();
  dir.remove();
});

/** The stored image rebuilt from its chunks, asked of debugfs: the size of `path`, or null when absent. */
async function storedSize(imageId: number, path: string): Promise<number | null> {
  const out = join(dir.path, `stored-${imageId}.img`);
  const raw = await core.images.openRaw(imageId);
  await pipeline(raw.stream, createWriteStream(out));
  const r = spawnSync('debugfs', ['-R', `stat "${path}"`, `${out}?offset=${golden.root.offsetBytes}`], {
    encoding: 'utf8',
  });
  if (/File not found/.test(r.stderr)) return null;
  return Number(/Size: (\d+)/.exec(r.stdout)![1]);
}

describe('importing with sanitise', () => {
  it('stores the sanitised image, reports each step, and leaves the source file as it was', async () => {
    const zst = compressImage(golden.path, 'zst');
    const before = sha256File(zst);
    let report: SanitiseReport | undefined;
    const phases: string[] = [];
    const image = await core.images.import(
      { path: zst },
      { product: 'KXP2', version: '1.0.0' },
      {
        sanitise: { keep: ['logs'] },
        onSanitised: (r) => (report = r),
        onProgress: (p) => phases.push(p.phase),
      },
    );
    expect(image).toMatchObject({ sourceName: 'pi-cloud-init-golden.img.zst', sourceFormat: 'zst' });
    expect(image.sha256).not.toBe(golden.sha256);
    expect(sha256File(zst)).toBe(before);
    expect(phases).toContain('sanitising');
    expect(report!.steps.find((s) => s.step === 'machine-id')!.emptied).toEqual(['/etc/machine-id']);
    expect(report!.steps.find((s) => s.step === 'logs')!.kept).toBe(true);

    expect(await storedSize(image.id, '/etc/machine-id')).toBe(0);
    expect(await storedSize(image.id, '/etc/ssh/ssh_host_ed25519_key')).toBeNull();
    expect(await storedSize(image.id, '/var/log/syslog')).toBe(1100);
    // The decoded copy was staging only.
    expect(readdirSync(join(core.dataDir, 'images', 'staging'))).toEqual([]);
  });

  it('stores the image unchanged without it', async () => {
    const image = await core.images.import({ path: golden.path }, { product: 'KXP2', version: '1.0.1' });
    expect(image.sha256).toBe(golden.sha256);
    expect(await storedSize(image.id, '/etc/machine-id')).toBe(33);
  });
});
