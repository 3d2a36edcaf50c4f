import { chownSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderServiceUnit, SERVICE_CAPABILITIES } from '../../src/operations/index.js';
import { writeBootFixture } from '../helpers/boot-fixture.js';
import { CLI, cleanEnv } from '../helpers/cli.js';
import { DhcpLab, SERVER_ADDRESS } from '../helpers/dhcp-lab.js';
import type { TftpReplayResult } from '../helpers/pi5-tftp-replayer.js';

/**
 * The service's capability set, found by test (issue 13): the unit's own ExecStart, run in the
 * server namespace as an unprivileged user with exactly the unit's AmbientCapabilities (setpriv
 * sets the same inheritable, ambient and bounding sets systemd does), serves DHCP and TFTP to
 * the Pi 5 bootloader replayer. With any one capability fewer it stops with a message naming it.
 */

const TFTP_REPLAYER = fileURLToPath(new URL('../helpers/pi5-tftp-replayer.ts', import.meta.url));
/** An unprivileged account every Debian has; systemd would run the service as rpi-deploy. */
const USER = 'daemon';
const [, , uidText, gidText] = readFileSync('/etc/passwd', 'utf8')
  .split('\n')
  .find((l) => l.startsWith(`${USER}:`))!
  .split(':');
/** Whether every directory above the checkout lets other users through (o+x). */
function checkoutOpenToOthers(): boolean {
  for (let dir = dirname(CLI); ; dir = dirname(dir)) {
    if ((statSync(dir).mode & 0o001) === 0) return false;
    if (dirname(dir) === dir) return true;
  }
}
// CI may clone into a private (0700) directory that daemon cannot enter. Then the server runs as
// root with the same capability sets: root holds no capability beyond them either (bounding,
// inheritable and ambient sets are what an execve keeps), so the proof is the same, minus the uid.
const OPEN = checkoutOpenToOthers();
const UID = OPEN ? Number(uidText) : 0;
const GID = OPEN ? Number(gidText) : 0;

let lab: DhcpLab;
let configFile: string;

/** The values of `key=` in the unit, in order. */
function unitValues(unit: string, key: string): string[] {
  return [...unit.matchAll(new RegExp(`^${key}=(.*)$`, 'gm'))].map((m) => m[1]!);
}

function unitFor(config: string): { execStart: string[]; capabilities: string[] } {
  const unit = renderServiceUnit({
    execStart: [process.execPath, CLI, 'serve', '--config', config],
    user: USER,
    dataDir: lab.dataDir,
  });
  return {
    execStart: unitValues(unit, 'ExecStart')[0]!.split(' '),
    capabilities: unitValues(unit, 'AmbientCapabilities')[0]!.split(' ').filter(Boolean),
  };
}

/** setpriv's view of a capability list: `-all,+net_bind_service`. */
const capList = (caps: string[]) => ['-all', ...caps.map((c) => `+${c.replace(/^CAP_/, '').toLowerCase()}`)].join(',');

function chownTree(path: string): void {
  chownSync(path, UID, GID);
  if (statSync(path).isDirectory()) for (const name of readdirSync(path)) chownTree(join(path, name));
}

interface Running {
  exit: Promise<number | null>;
  pid: number;
  out(): string;
  stop(): Promise<void>;
}

/** Starts the unit's ExecStart as USER with `caps` in the server namespace; resolves once it serves or exits. */
async function runAsService(config: string, caps: string[]): Promise<Running & { ready: boolean }> {
  const { execStart } = unitFor(config);
  const setpriv = [
    'setpriv',
    `--reuid=${UID}`,
    `--regid=${GID}`,
    '--clear-groups',
    `--inh-caps=${capList(caps)}`,
    `--ambient-caps=${capList(caps)}`,
    `--bounding-set=${capList(caps)}`,
    '--no-new-privs',
    '--',
  ];
  const child = lab.lab.spawn(lab.server, [...setpriv, ...execStart], { env: cleanEnv() });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ready = await Promise.race([
    exit.then(() => false),
    (async () => {
      for (const end = Date.now() + 30_000; Date.now() < end; await new Promise((r) => setTimeout(r, 50)))
        if (out.includes('Press Ctrl-C')) return true;
      return false;
    })(),
  ]);
  return {
    ready,
    exit,
    pid: child.pid!,
    out: () => out,
    stop: async () => {
      child.kill('SIGTERM');
      await exit;
    },
  };
}

function writeConfig(name: string, netboot: Record<string, unknown>): string {
  const file = join(lab.dir.path, name);
  writeFileSync(
    file,
    stringify({
      dataDir: lab.dataDir,
      log: { level: 'info' },
      device: { listen: `${SERVER_ADDRESS}:0` },
      management: { listen: '127.0.0.1:0' },
      netboot: { interface: 'lan0', ...netboot },
    }),
    { mode: 0o644 },
  );
  return file;
}

beforeAll(() => {
  lab = new DhcpLab();
  const fixture = writeBootFixture(lab.dir.path, lab.dataDir);
  chownTree(lab.dataDir);
  chownTree(fixture.bootFilesDir);
  // The temporary directory is root's 0700; the service user must reach its data and config.
  chownSync(lab.dir.path, UID, GID);
  configFile = writeConfig('config.yaml', {
    dhcp: {
      mode: 'full',
      range: { start: '198.18.0.100', end: '198.18.0.199' },
      foreignServer: { probeMs: 300, recheckSeconds: 0 },
    },
    tftp: { bootFilesDir: fixture.bootFilesDir },
  });
});
afterAll(async () => {
  await lab?.destroy();
});

describe('the service capability set', () => {
  it('is what the unit grants, and nothing else', () => {
    expect(unitFor(configFile).capabilities).toEqual(['CAP_NET_BIND_SERVICE']);
  });

  it('is enough: the unit ExecStart, unprivileged with exactly those capabilities, serves DHCP and TFTP to the Pi 5 replayer', async () => {
    const { capabilities } = unitFor(configFile);
    const served = await runAsService(configFile, capabilities);
    try {
      expect(served.ready, served.out()).toBe(true);
      // The kernel's view of the running server: our user, and only the granted capability effective.
      const status = readFileSync(`/proc/${served.pid}/status`, 'utf8');
      expect(/^Uid:\s+(\d+)/m.exec(status)?.[1]).toBe(String(UID));
      expect(/^CapEff:\s+([0-9a-f]+)/m.exec(status)?.[1]).toBe((1n << 10n).toString(16).padStart(16, '0')); // CAP_NET_BIND_SERVICE is bit 10

      const client = lab.client('pi');
      const dhcp = await lab.replay(client, {
        mac: '2c:cf:67:aa:bb:01',
        serial8: '5e7f1ce1',
        tftpServer: SERVER_ADDRESS,
      });
      expect(dhcp.problems).toEqual([]);
      expect(dhcp.address).toBe('198.18.0.100');
      await lab.run(client, ['ip', 'addr', 'add', `${dhcp.address}/24`, 'dev', 'eth0']);
      const r = await lab.run(client, [
        process.execPath,
        '--import',
        'tsx',
        TFTP_REPLAYER,
        JSON.stringify({ server: SERVER_ADDRESS, serial8: '5e7f1ce1' }),
      ]);
      expect(r.code, r.stderr).toBe(0);
      const tftp = JSON.parse(r.stdout) as TftpReplayResult;
      expect(tftp.problems).toEqual([]);
      expect(tftp.files.find((f) => f.path.endsWith('kernel_2712.img'))?.status).toBe('ok');
    } finally {
      await served.stop();
    }
  }, 90_000);

  it.each([...SERVICE_CAPABILITIES])(
    'without %s, DHCP stops the server with a message naming it',
    async (missing) => {
      const caps = unitFor(configFile).capabilities.filter((c) => c !== missing);
      const served = await runAsService(configFile, caps);
      expect(served.ready).toBe(false);
      expect(await served.exit).not.toBe(0);
      expect(served.out()).toMatch(
        new RegExp(`error: Cannot open UDP port 6[78] on lan0: the capability ${missing} is missing`),
      );
    },
    60_000,
  );

  it.each([...SERVICE_CAPABILITIES])(
    'without %s, TFTP alone (DHCP off) stops the server with a message naming it',
    async (missing) => {
      const config = writeConfig('tftp-only.yaml', {
        dhcp: { enabled: false },
        tftp: { bootFilesDir: join(lab.dir.path, 'boot') },
      });
      const caps = unitFor(config).capabilities.filter((c) => c !== missing);
      const served = await runAsService(config, caps);
      expect(served.ready).toBe(false);
      expect(await served.exit).not.toBe(0);
      expect(served.out()).toMatch(
        new RegExp(
          `error: Cannot serve TFTP on ${SERVER_ADDRESS.replace(/\./g, '\\.')}:69: the capability ${missing} is missing`,
        ),
      );
    },
    60_000,
  );
});
