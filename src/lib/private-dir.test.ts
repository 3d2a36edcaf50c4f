import { chmodSync, mkdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../../test/helpers/temp-dir.js';
import { makePrivateTree } from './private-dir.js';

const dirs: { remove(): void }[] = [];
afterEach(() => dirs.splice(0).forEach((d) => d.remove()));

function scratch(): string {
  const d = tempDir();
  dirs.push(d);
  return d.path;
}

const mode = (path: string) => (statSync(path).mode & 0o7777).toString(8);

function file(path: string, m: number): string {
  writeFileSync(path, 'x');
  chmodSync(path, m);
  return path;
}

describe('makePrivateTree', () => {
  it('takes group and other bits off every directory and file, keeps the owner’s, and counts what it changed', () => {
    const root = join(scratch(), 'data');
    mkdirSync(join(root, 'images', 'chunks'), { recursive: true });
    for (const d of [root, join(root, 'images'), join(root, 'images', 'chunks')]) chmodSync(d, 0o755);
    const paths = {
      db: file(join(root, 'rpi-deploy.db'), 0o644),
      chunk: file(join(root, 'images', 'chunks', 'a.zst'), 0o664),
      program: file(join(root, 'node'), 0o755),
      already: file(join(root, 'already'), 0o600),
    };
    expect(makePrivateTree(root)).toBe(6);
    expect([root, join(root, 'images'), join(root, 'images', 'chunks')].map(mode)).toEqual(['700', '700', '700']);
    expect(Object.values(paths).map(mode)).toEqual(['600', '600', '700', '600']);
    expect(makePrivateTree(root)).toBe(0);
  });

  it('creates a missing directory 0700', () => {
    const root = join(scratch(), 'new', 'data');
    expect(makePrivateTree(root)).toBe(0);
    expect(mode(root)).toBe('700');
  });

  it('does not follow a symbolic link out of the tree, but follows a root that is one', () => {
    const outside = scratch();
    const shared = file(join(outside, 'shared.txt'), 0o644);
    const real = join(outside, 'real-data');
    mkdirSync(real, { mode: 0o755 });
    chmodSync(real, 0o755);
    symlinkSync(shared, join(real, 'link'));
    const root = join(scratch(), 'data');
    symlinkSync(real, root);
    makePrivateTree(root);
    expect([mode(real), mode(shared)]).toEqual(['700', '644']);
  });
});
