import { spawnSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { VERSION } from '../../src/version.js';
import { cleanEnv, runCli, spawnServe } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp-dir.js';

/**
 * What the CLI tells people to type must run as typed. A checkout puts no `rpi-deploy` on the
 * PATH, so a bare `rpi-deploy …` hint (the serve banner's, once) sent a new user to "command not
 * found". Each printed command is taken from the output and run with `--version`, from the same
 * folder and with the same PATH as the command that printed it.
 */
const dirs: { path: string; remove(): void }[] = [];
afterEach(() => dirs.splice(0).forEach((d) => d.remove()));

function dataDir(): string {
  const d = tempDir();
  dirs.push(d);
  return d.path;
}

function runsAsTyped(command: string): void {
  const r = spawnSync('sh', ['-c', `${command} --version`], { encoding: 'utf8', env: cleanEnv(), timeout: 60_000 });
  expect(r.stderr, `"${command} --version" as printed`).toBe('');
  expect(r.stdout.trim(), `"${command} --version" as printed`).toBe(VERSION);
}

describe('commands the CLI prints', () => {
  it('the serve banner names a way to add the first admin that works', async () => {
    const { child, banner } = await spawnServe([
      '--data-dir',
      dataDir(),
      '--device-listen',
      '127.0.0.1:0',
      '--management-listen',
      '127.0.0.1:0',
    ]);
    try {
      let out = banner;
      await new Promise<void>((resolve) => {
        if (out.includes('user add')) return resolve();
        child.stdout!.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.includes('user add')) resolve();
        });
      });
      const command = /run: (.+) user add NAME --admin/.exec(out)?.[1];
      expect(command, out).toBeDefined();
      runsAsTyped(command!);
    } finally {
      child.kill('SIGTERM');
    }
  });

  it("doctor's fixes name a command that works", () => {
    // A fresh data dir has no netboot build: the netboot-files check fails and says what to run.
    const r = runCli(['doctor', '--no-probe', '--data-dir', dataDir()]);
    const command = /run: (.+) netboot build/.exec(r.stdout)?.[1];
    expect(command, r.stdout + r.stderr).toBeDefined();
    runsAsTyped(command!);
  });

  it('an empty venue list names a command that works', () => {
    const r = runCli(['venue', 'list', '--data-dir', dataDir()]);
    const command = /No venues yet: (.+) venue add/.exec(r.stdout)?.[1];
    expect(command, r.stdout + r.stderr).toBeDefined();
    runsAsTyped(command!);
  });
});
