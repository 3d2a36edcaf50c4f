import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../test/helpers/temp-dir.js';
import { resolveInside, SafePathError } from './safe-path.js';

let dir: ReturnType<typeof tempDir>;
let root: string;
beforeAll(() => {
  dir = tempDir();
  root = join(dir.path, 'root');
  mkdirSync(join(root, 'overlays'), { recursive: true });
  writeFileSync(join(root, 'config.txt'), 'x');
  writeFileSync(join(root, 'overlays', 'a.dtbo'), 'x');
  writeFileSync(join(dir.path, 'secret'), 'x');
  symlinkSync(join(dir.path, 'secret'), join(root, 'escape'));
  symlinkSync('config.txt', join(root, 'alias'));
  symlinkSync(dir.path, join(root, 'up'));
});
afterAll(() => dir.remove());

async function codeOf(p: string): Promise<string> {
  try {
    await resolveInside(root, p);
    return 'OK';
  } catch (e) {
    return e instanceof SafePathError ? e.code : ((e as NodeJS.ErrnoException).code ?? 'UNKNOWN');
  }
}

describe('resolveInside', () => {
  it.each([['config.txt'], ['/config.txt'], ['overlays/a.dtbo'], ['overlays//a.dtbo'], ['alias']])(
    'serves %s',
    async (p) => expect(await codeOf(p)).toBe('OK'),
  );

  it.each([
    ['../secret', 'PATH_OUTSIDE_ROOT'],
    ['overlays/../../secret', 'PATH_OUTSIDE_ROOT'],
    ['escape', 'PATH_OUTSIDE_ROOT'],
    ['up/secret', 'PATH_OUTSIDE_ROOT'],
    ['config.txt\0.png', 'PATH_INVALID'],
    ['overlays\\..\\..\\secret', 'PATH_INVALID'],
    ['', 'PATH_INVALID'],
    ['/', 'PATH_INVALID'],
    ['nothing-here', 'ENOENT'],
  ])('refuses %j with %s', async (p, code) => expect(await codeOf(p)).toBe(code));
});
