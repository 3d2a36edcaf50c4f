import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { installService, renderServiceUnit } from '../../src/operations/index.js';
import { CLI, cleanEnv, runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp-dir.js';

/**
 * `rpi-deploy service install|uninstall` and the unit it writes: checked by systemd's own
 * `systemd-analyze verify`, installed for real (as root, into a temporary tree), and the
 * readiness notification `serve` sends to a real AF_UNIX datagram socket.
 */

let dir: ReturnType<typeof tempDir>;
beforeEach(() => {
  dir = tempDir('rpi-deploy-service-');
});
afterEach(() => dir.remove());

const daemon = spawnSync('getent', ['passwd', 'daemon'], { encoding: 'utf8' }).stdout.split(':');
const SERVICE_USER = { uid: Number(daemon[2]), gid: Number(daemon[3]) };

function verify(unitFile: string): { code: number | null; stderr: string } {
  const r = spawnSync('systemd-analyze', ['verify', unitFile], { encoding: 'utf8' });
  return { code: r.status, stderr: r.stderr.trim() };
}

function paths() {
  return {
    config: join(dir.path, 'etc/rpi-deploy/config.yaml'),
    data: join(dir.path, 'var/lib/rpi-deploy'),
    unit: join(dir.path, 'etc/systemd/system/rpi-deploy.service'),
  };
}

const serviceArgs = (p: ReturnType<typeof paths>, ...more: string[]) => [
  '--config',
  p.config,
  '--data-dir',
  p.data,
  '--unit-file',
  p.unit,
  '--user',
  'daemon',
  ...more,
];

describe('the systemd unit', () => {
  it('passes systemd-analyze verify with no warning', () => {
    const unit = join(dir.path, 'rpi-deploy.service');
    writeFileSync(
      unit,
      renderServiceUnit({
        execStart: [process.execPath, CLI, 'serve', '--config', '/etc/rpi-deploy/config.yaml'],
        user: 'rpi-deploy',
        dataDir: '/var/lib/rpi-deploy',
      }),
    );
    expect(verify(unit)).toEqual({ code: 0, stderr: '' });
  });

  it("scores 'OK' at most 2.0 in systemd-analyze security (it was 1.8 when written)", () => {
    const unit = join(dir.path, 'rpi-deploy.service');
    writeFileSync(
      unit,
      renderServiceUnit({
        execStart: [process.execPath, CLI, 'serve'],
        user: 'rpi-deploy',
        dataDir: '/var/lib/rpi-deploy',
      }),
    );
    const r = spawnSync('systemd-analyze', ['security', '--offline=yes', unit], { encoding: 'utf8' });
    const level = Number(/Overall exposure level for rpi-deploy\.service: ([0-9.]+)/.exec(r.stdout)?.[1]);
    expect(level).toBeLessThanOrEqual(2.0);
  });

  it('is refused by systemd-analyze verify when it names a program that is not there (the check can fail)', () => {
    const unit = join(dir.path, 'rpi-deploy.service');
    writeFileSync(
      unit,
      renderServiceUnit({
        execStart: ['/nonexistent/node', CLI, 'serve'],
        user: 'rpi-deploy',
        dataDir: '/var/lib/rpi-deploy',
      }),
    );
    const r = verify(unit);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('/nonexistent/node');
  });

  it('quotes an argument with a space so systemd reads it as one', () => {
    const text = renderServiceUnit({
      execStart: [process.execPath, CLI, 'serve', '--config', '/etc/rpi deploy/c.yaml'],
      user: 'u',
      dataDir: '/var/lib/x',
    });
    expect(text).toContain(`ExecStart=${process.execPath} ${CLI} serve --config "/etc/rpi deploy/c.yaml"\n`);
  });
});

describe('rpi-deploy service install / uninstall', () => {
  it('--dry-run prints every step and the unit, and writes nothing', () => {
    const p = paths();
    const r = runCli(['service', 'install', '--dry-run', ...serviceArgs(p)]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('Dry run: nothing is written.');
    expect(r.stdout).toContain('user daemon exists, kept');
    expect(r.stdout).toContain(`would data directory ${p.data}: owned by daemon, mode 0700`);
    expect(r.stdout).toContain(`would write config ${p.config}`);
    expect(r.stdout).toContain('    AmbientCapabilities=CAP_NET_BIND_SERVICE');
    expect(r.stdout).toContain(`    ExecStart=${process.execPath} ${CLI} serve --config ${p.config}`);
    expect([p.config, p.data, p.unit].filter((f) => existsSync(f))).toEqual([]);
  });

  it('installs user, data dir (0700), config (only once) and a unit that verifies; uninstall keeps the data and config', () => {
    const p = paths();
    const first = runCli(['service', 'install', ...serviceArgs(p)]);
    expect(first.code, first.stderr).toBe(0);
    const data = statSync(p.data);
    expect([data.mode & 0o777, data.uid, data.gid]).toEqual([0o700, SERVICE_USER.uid, SERVICE_USER.gid]);
    const config = statSync(p.config);
    expect([config.mode & 0o777, config.uid, config.gid]).toEqual([0o640, 0, SERVICE_USER.gid]);
    expect(readFileSync(p.config, 'utf8')).toContain(`dataDir: ${p.data}\n`);
    expect(verify(p.unit)).toEqual({ code: 0, stderr: '' });
    expect(readFileSync(p.unit, 'utf8')).toContain(`ReadWritePaths=${p.data}\n`);
    // The config it wrote is one the server accepts.
    const check = runCli(['venue', 'list', '--config', p.config]);
    expect(check.code, check.stderr).toBe(0);

    writeFileSync(p.config, `dataDir: ${p.data}\n# edited by the operator\n`);
    const again = runCli(['service', 'install', ...serviceArgs(p)]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain(`config ${p.config} exists, kept`);
    expect(readFileSync(p.config, 'utf8')).toContain('# edited by the operator');

    const gone = runCli(['service', 'uninstall', ...serviceArgs(p)]);
    expect(gone.code, gone.stderr).toBe(0);
    expect(gone.stdout).toContain(`done: remove unit ${p.unit}`);
    expect(existsSync(p.unit)).toBe(false);
    expect(existsSync(p.config) && existsSync(p.data)).toBe(true);
  });

  it('refuses a program under /root, which ProtectHome hides from the service', () => {
    const p = {
      user: 'daemon',
      configFile: '/x/c.yaml',
      dataDir: '/x/d',
      unitFile: '/x/u',
      node: process.execPath,
      cli: '/root/rpi-deploy/bin/rpi-deploy.js',
    };
    expect(() => installService(p, { dryRun: true, out: () => {} })).toThrow(
      '/root/rpi-deploy/bin/rpi-deploy.js is under /home, /root or /run/user, which the service cannot see (ProtectHome)',
    );
  });
});

describe('serve under systemd (Type=notify)', () => {
  it('sends READY=1 to NOTIFY_SOCKET once its listeners are bound, and nothing before', async () => {
    const socketPath = join(dir.path, 'notify.sock');
    // A stand-in for systemd's notify socket: prints each datagram, closes any descriptor passed (systemd-notify's barrier).
    const receiver = spawn('python3', [
      '-u',
      '-c',
      `import socket, os, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("LISTENING", flush=True)
while True:
    msg, fds, _, _ = socket.recv_fds(s, 4096, 16)
    for fd in fds: os.close(fd)
    print(repr(msg.decode()), flush=True)`,
      socketPath,
    ]);
    let heard = '';
    receiver.stdout.on('data', (d: Buffer) => (heard += d.toString()));
    try {
      for (const end = Date.now() + 5000; !heard.includes('LISTENING') && Date.now() < end;)
        await new Promise((r) => setTimeout(r, 50));
      const serve = spawn(
        process.execPath,
        [
          CLI,
          'serve',
          '--data-dir',
          join(dir.path, 'data'),
          '--device-listen',
          '127.0.0.1:0',
          '--management-listen',
          '127.0.0.1:0',
        ],
        {
          env: { ...cleanEnv(), NOTIFY_SOCKET: socketPath },
        },
      );
      let banner = '';
      let readyWhenBanner: boolean | undefined;
      serve.stdout.on('data', (d: Buffer) => {
        banner += d.toString();
        if (banner.includes('Press Ctrl-C') && readyWhenBanner === undefined)
          readyWhenBanner = heard.includes('READY=1');
      });
      try {
        for (const end = Date.now() + 20_000; !heard.includes('READY=1') && Date.now() < end;)
          await new Promise((r) => setTimeout(r, 50));
        expect(heard).toMatch(/'READY=1\n?(MAINPID=\d+)?/);
        expect(readyWhenBanner).toBe(false);
        expect(heard).toContain(`MAINPID=${serve.pid}`);
      } finally {
        serve.kill('SIGTERM');
        await new Promise((r) => serve.once('exit', r));
      }
    } finally {
      receiver.kill('SIGKILL');
    }
  }, 30_000);
});
