import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp-dir.js';

let dir: ReturnType<typeof tempDir>;
beforeEach(() => {
  dir = tempDir();
});
afterEach(() => dir.remove());

describe('rpi-deploy agent', () => {
  it('prints its own usage', () => {
    const r = runCli(['agent', '--help']);
    expect([r.code, r.stdout]).toEqual([
      0,
      expect.stringContaining('Usage: rpi-deploy agent --server URL --target PATH'),
    ]);
  });

  it('exits 2 on a usage error', () => {
    const r = runCli(['agent', '--target', '/tmp/x']);
    expect([r.code, r.stderr]).toEqual([2, expect.stringContaining('No server: pass --server URL')]);
  });

  it('exits 1, with the reason, when the server cannot be reached', () => {
    const card = join(dir.path, 'card.img');
    writeFileSync(card, Buffer.alloc(4096));
    const r = runCli([
      'agent',
      '--server',
      'http://127.0.0.1:9',
      '--target',
      card,
      '--serial',
      'abcdef01',
      '--retry-for',
      '1',
      '--json',
    ]);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ status: 'failed', code: 'AGENT_SERVER_UNREACHABLE' });
  });
});

describe('rpi-deploy firstboot', () => {
  const cli = (args: string[], input?: string) =>
    runCli([...args, '--data-dir', dir.path], input === undefined ? {} : { input });

  it('stores settings from YAML, with the Wi-Fi passphrase turned into its PSK', () => {
    expect(cli(['venue', 'add', 'CORO', '--name', 'Corona']).code).toBe(0);
    const set = cli(
      ['firstboot', 'set', '--venue', 'coro', '--file', '-'],
      'wifi: { ssid: Track, passphrase: go-karts-go, country: US }\ntimezone: America/Los_Angeles\n',
    );
    expect(set.code).toBe(0);
    const shown = JSON.parse(cli(['firstboot', 'show', '--venue', 'CORO']).stdout) as { wifi: { psk: string } };
    expect(shown).toEqual({
      wifi: { ssid: 'Track', country: 'US', psk: expect.stringMatching(/^[0-9a-f]{64}$/) },
      timezone: 'America/Los_Angeles',
    });
    expect(JSON.stringify(shown)).not.toContain('go-karts-go');
  });

  it.each([
    [['firstboot', 'show'], 2, 'exactly one of --product CODE or --venue CODE'],
    [['firstboot', 'show', '--venue', 'NOPE'], 1, 'Venue NOPE does not exist'],
    [['firstboot', 'set', '--product', 'KXP2', '--file', '-'], 1, 'user.passwordHash'],
  ])('%j exits %i with a clear message', (args, code, message) => {
    const r = cli(args, "user: { name: pi, passwordHash: 'plaintext' }\n");
    expect([r.code, r.stderr]).toEqual([code, expect.stringContaining(message)]);
  });
});
