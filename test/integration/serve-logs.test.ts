import { spawn } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CLI, cleanEnv, loopbackListen } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp-dir.js';

/**
 * The log of a spawned `rpi-deploy serve`: JSON lines by default when stderr is not a terminal
 * (the journal), one readable line an event with --log-format pretty.
 */

let dir: ReturnType<typeof tempDir>;
beforeEach(() => {
  dir = tempDir('rpi-deploy-logs-');
});
afterEach(() => dir.remove());

/** Runs serve until it logged that it serves, then stops it; resolves with its stderr. */
function serveLog(args: string[]): Promise<string> {
  const child = spawn(process.execPath, [CLI, 'serve', ...loopbackListen(dir.path), ...args], {
    env: cleanEnv(),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`serve did not log that it serves:\n${err}`));
    }, 30_000);
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      if (err.includes('rpi-deploy serving')) child.kill('SIGTERM');
    });
    child.on('exit', () => {
      clearTimeout(timer);
      resolve(err);
    });
  });
}

describe('serve logs', () => {
  it('writes JSON lines when stderr is not a terminal', async () => {
    const lines = (await serveLog([])).split('\n').filter((l) => l !== '');
    const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(parsed.find((p) => p['msg'] === 'rpi-deploy serving')).toMatchObject({
      level: 30,
      time: expect.any(Number),
      dataDir: dir.path,
    });
  }, 60_000);

  it('writes one readable line an event with --log-format pretty', async () => {
    const text = await serveLog(['--log-format', 'pretty']);
    expect(text).not.toMatch(/^\{/m);
    expect(text).toMatch(
      /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} INFO {2}rpi-deploy serving device="?http:\/\/127\.0\.0\.1:\d+"? .*dataDir=\S+/m,
    );
    // A child logger's component is shown in brackets before the message.
    expect(text).toMatch(/^\S+ \S+ INFO {2}\[netboot\] network boot is off: set netboot\.interface/m);
  }, 60_000);
});
