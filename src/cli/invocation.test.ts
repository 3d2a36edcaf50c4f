import { copyFileSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../../test/helpers/temp-dir.js';
import { CLI_ENTRY, cliCommand } from './invocation.js';

const dirs: { path: string; remove(): void }[] = [];
afterEach(() => dirs.splice(0).forEach((d) => d.remove()));

/** A checkout-shaped folder (`bin/rpi-deploy.js` inside) and an empty folder for PATH entries. */
function layout(): { root: string; entry: string; bin: string; elsewhere: string } {
  const d = tempDir();
  dirs.push(d);
  const root = join(d.path, 'opt', 'rpi-deploy');
  mkdirSync(join(root, 'bin'), { recursive: true });
  mkdirSync(join(root, 'src', 'cli'), { recursive: true });
  const entry = join(root, 'bin', 'rpi-deploy.js');
  copyFileSync(CLI_ENTRY, entry);
  const bin = join(d.path, 'usr-local-bin');
  mkdirSync(bin);
  const elsewhere = join(d.path, 'home');
  mkdirSync(elsewhere);
  return { root, entry, bin, elsewhere };
}

describe('cliCommand: the command the CLI tells people to run', () => {
  it('is the bare name when the PATH leads to this installation (npm link)', () => {
    const { entry, bin, elsewhere } = layout();
    symlinkSync(entry, join(bin, 'rpi-deploy'));
    expect(cliCommand({ PATH: `/nonexistent:${bin}` }, elsewhere, entry)).toBe('rpi-deploy');
  });

  it('is npx inside a checkout that is not on the PATH, even in a subfolder', () => {
    const { root, entry, bin } = layout();
    expect(cliCommand({ PATH: bin }, root, entry)).toBe('npx rpi-deploy');
    expect(cliCommand({ PATH: bin }, join(root, 'src', 'cli'), entry)).toBe('npx rpi-deploy');
  });

  it('does not take another program of the same name for this installation', () => {
    const { entry, bin, elsewhere } = layout();
    writeFileSync(join(bin, 'rpi-deploy'), '#!/bin/sh\n', { mode: 0o755 });
    expect(cliCommand({ PATH: bin }, elsewhere, entry)).toBe(`node ${entry}`);
  });

  it('names the entry point by its path outside the checkout (a service started in /)', () => {
    const { entry, elsewhere } = layout();
    expect(cliCommand({}, elsewhere, entry)).toBe(`node ${entry}`);
    expect(cliCommand({ PATH: '/usr/bin:/bin' }, '/', entry)).toBe(`node ${entry}`);
  });
});
