import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImageDiff } from '../../src/protocol/image-diff.js';
import { runCli } from '../helpers/cli.js';
import { buildPiImage, type PiImage } from '../helpers/pi-image.js';
import { tempDir } from '../helpers/temp-dir.js';

/** `image add --sanitise` and `image diff` as an operator runs them (the built command). */
let dir: ReturnType<typeof tempDir>;
let data: ReturnType<typeof tempDir>;
let one: PiImage;
let two: PiImage;

beforeAll(() => {
  dir = tempDir('rpi-deploy-cli-diff-');
  data = tempDir('rpi-deploy-cli-diff-data-');
  one = buildPiImage(dir.path, { seed: 'cli-one' });
  two = buildPiImage(dir.path, {
    seed: 'cli-two',
    plant: {
      'etc/machine-id': Buffer.from('0123456789abcdef0123456789abcdef\n'),
      'var/log/syslog': Buffer.from('golden\n'),
    },
  });
});
afterAll(() => {
  dir.remove();
  data.remove();
});

const cli = (args: string[]) => runCli([...args, '--data-dir', data.path]);

describe('rpi-deploy image add --sanitise and image diff', () => {
  it('sanitises on request and prints one line per step', () => {
    expect(cli(['image', 'add', one.path, '--product', 'KXP2', '--version', '1.0.0']).code).toBe(0);
    const r = cli([
      'image',
      'add',
      two.path,
      '--product',
      'KXP2',
      '--version',
      '1.1.0',
      '--sanitise',
      '--keep',
      'logs',
    ]);
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Added image 2: KXP2 1\.1\.0/m);
    expect(r.stdout).toMatch(/^ {2}machine-id: emptied \/etc\/machine-id$/m);
    expect(r.stdout).toMatch(/^ {2}logs: kept \(--keep\)$/m);
    expect(r.stdout).toMatch(/^ {2}swap: nothing found$/m);
  });

  it('refuses --keep without --sanitise, and an unknown step', () => {
    const alone = cli(['image', 'add', one.path, '--product', 'KXP2', '--version', '9', '--keep', 'logs']);
    expect(alone.code).not.toBe(0);
    expect(alone.stderr).toMatch(/--keep only applies with --sanitise/);
    const unknown = cli(['image', 'add', one.path, '--product', 'KXP2', '--version', '9', '--sanitise', '--keep', 'x']);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toMatch(/expected one of machine-id, ssh-host-keys/);
  });

  it('diffs two versions by PRODUCT@VERSION, as text and as JSON', () => {
    const text = cli(['image', 'diff', 'KXP2@1.0.0', 'KXP2@1.1.0']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^KXP2 1\.1\.0 \(image 2\) against KXP2 1\.0\.0 \(image 1\):$/m);
    expect(text.stdout).toMatch(/^ {4}\/usr\/bin\/agent-standin$/m);
    const json = cli(['image', 'diff', '1', 'kxp2@1.1.0', '--json']);
    const diff = JSON.parse(json.stdout) as ImageDiff;
    expect(diff.differingChunks).toBeGreaterThan(0);
    expect(diff.partitions[0]!.files).toContain('/usr/lib/libstandin.so');
    const missing = cli(['image', 'diff', 'KXP2@1.0.0', 'KXP2@3']);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/KXP2 has no image 3/);
  });
});
