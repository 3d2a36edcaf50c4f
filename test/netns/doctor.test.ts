import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MANIFEST_FILE, netbootDir, type BuildManifest } from '../../src/netboot/build/artifacts.js';
import { writeTar } from '../../src/netboot/build/tar.js';
import type { DoctorReport } from '../../src/protocol/doctor.js';
import { writeBootFixture } from '../helpers/boot-fixture.js';
import { CLI, runCli } from '../helpers/cli.js';
import { DhcpLab } from '../helpers/dhcp-lab.js';
import { buildPiImage } from '../helpers/pi-image.js';

/**
 * `rpi-deploy doctor` in the server namespace of a deployment LAN (lan0, 198.18.0.1/24): a
 * healthy site passes every check; a foreign DHCP server (dnsmasq), a missing interface, a range
 * outside the interface's subnet, a full pool and a runtime bundle for the wrong CPU each give
 * their own fail line and exit code 1.
 */

const RANGE = { start: '198.18.0.100', end: '198.18.0.199' };
let lab: DhcpLab;

/** A runtime bundle whose usr/bin/node is an ELF for `machine` (183 arm64, 62 x86-64), recorded in build.json. */
async function writeRuntime(machine: number): Promise<void> {
  const node = Buffer.alloc(4096, 0x55);
  node.writeUInt32BE(0x7f454c46, 0);
  node.writeUInt16LE(machine, 18);
  const dir = netbootDir(lab.dataDir);
  const manifest = JSON.parse(readFileSync(join(dir, MANIFEST_FILE), 'utf8')) as BuildManifest;
  rmSync(join(dir, manifest.runtime.file), { force: true });
  const file = `runtime-${machine}.tar`;
  const written = await writeTar(join(dir, file), [{ path: 'usr/bin/node', type: 'file', data: node }]);
  manifest.runtime = { file, sha256: written.sha256, sizeBytes: written.sizeBytes };
  writeFileSync(join(dir, MANIFEST_FILE), JSON.stringify(manifest));
}

function config(name: string, netboot: Record<string, unknown> = {}): string {
  const file = join(lab.dir.path, `${name}.yaml`);
  const { dhcp, ...rest } = netboot as { dhcp?: Record<string, unknown> };
  writeFileSync(
    file,
    stringify({
      dataDir: lab.dataDir,
      netboot: {
        interface: 'lan0',
        dhcp: { mode: 'full', range: RANGE, foreignServer: { probeMs: 800 }, ...dhcp },
        ...rest,
      },
    }),
  );
  return file;
}

async function doctor(configFile: string): Promise<{ code: number | null; report: DoctorReport; text: string }> {
  const json = await lab.run(lab.server, [process.execPath, CLI, 'doctor', '--json', '--config', configFile]);
  const text = await lab.run(lab.server, [process.execPath, CLI, 'doctor', '--no-probe', '--config', configFile]);
  expect(json.stderr).toBe('');
  return { code: json.code, report: JSON.parse(json.stdout) as DoctorReport, text: text.stdout };
}

const statusOf = (r: DoctorReport) => Object.fromEntries(r.checks.map((c) => [c.id, c.status]));
const check = (r: DoctorReport, id: string) => r.checks.find((c) => c.id === id);

function cli(args: string[]): string {
  const r = runCli([...args, '--data-dir', lab.dataDir]);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout;
}

beforeAll(async () => {
  lab = new DhcpLab();
  writeBootFixture(lab.dir.path, lab.dataDir);
  await writeRuntime(183);
  const image = buildPiImage(lab.dir.path);
  cli(['venue', 'add', 'CORO', '--name', 'Corona']);
  cli(['pool', 'import', 'CORO', '--product', 'KXP2', '--range', '1-3']);
  cli(['batch', 'create', '--venue', 'CORO', '--product', 'KXP2', '--count', '3', '--activate']);
  cli(['image', 'add', image.path, '--product', 'KXP2', '--version', '1.0', '--activate']);
}, 120_000);
afterAll(async () => {
  await lab?.destroy();
});

describe('rpi-deploy doctor', () => {
  it('passes every check on a healthy site, and exits 0', async () => {
    const { code, report, text } = await doctor(config('healthy'));
    expect(statusOf(report)).toEqual({
      config: 'pass',
      'data-dir': 'pass',
      interface: 'pass',
      ports: 'pass',
      'foreign-dhcp': 'pass',
      'batch-images': 'pass',
      'image-files': 'pass',
      pools: 'pass',
      'netboot-files': 'pass',
      'runtime-arm64': 'pass',
      clock: 'pass',
    });
    expect(code).toBe(0);
    expect(check(report, 'interface')?.summary).toBe(
      'lan0 is up with 198.18.0.1/24, range 198.18.0.100-198.18.0.199 inside',
    );
    expect(text).toMatch(/^PASS {2}pools {11}CORO KXP2: 3 free$/m);
    expect(text).toMatch(/^WARN {2}foreign-dhcp {4}not probed for other DHCP servers \(--no-probe\)$/m);
    expect(text).toContain('10 passed, 1 warning, 0 failed: ready, but read the warnings');
  }, 60_000);

  it('fails when a foreign DHCP server (dnsmasq) answers on the deployment LAN', async () => {
    const dnsmasq = await lab.siteDhcp('site', { log: false });
    try {
      const { code, report } = await doctor(config('foreign'));
      expect(code).toBe(1);
      expect(check(report, 'foreign-dhcp')).toMatchObject({
        status: 'fail',
        summary: expect.stringMatching(
          /^another DHCP server answers on lan0: 198\.18\.0\.254 \(offered 198\.18\.0\.\d+\)$/,
        ),
      });
      expect(check(report, 'foreign-dhcp')?.fix).toContain('netboot.dhcp.mode: proxy');
      // Proxy mode needs exactly that server.
      const proxy = await doctor(config('proxy', { dhcp: { mode: 'proxy' } }));
      expect(check(proxy.report, 'foreign-dhcp')).toMatchObject({
        status: 'pass',
        summary: expect.stringMatching(/^proxy mode next to 198\.18\.0\.254/),
      });
    } finally {
      dnsmasq.kill('SIGTERM');
    }
  }, 60_000);

  it('fails when another program holds the TFTP port; passes when the running rpi-deploy holds the ports', async () => {
    const holder = lab.lab.spawn(lab.server, [
      process.execPath,
      '-e',
      "require('dgram').createSocket('udp4').bind(69, () => console.log('bound'))",
    ]);
    await new Promise((resolve) => holder.stdout!.once('data', resolve));
    try {
      const { code, report } = await doctor(config('tftp-held'));
      expect(code).toBe(1);
      expect(check(report, 'ports')).toMatchObject({
        status: 'fail',
        summary: 'UDP port 69 (TFTP) is held by another program',
      });
    } finally {
      holder.kill('SIGKILL');
    }

    const file = config('serving', { tftp: { bootFilesDir: join(lab.dir.path, 'boot') } });
    const serving = lab.lab.spawn(lab.server, [process.execPath, CLI, 'serve', '--config', file]);
    let banner = '';
    await new Promise<void>((resolve, reject) => {
      serving.stdout!.on(
        'data',
        (d: Buffer) => (banner += d.toString()) && banner.includes('Press Ctrl-C') && resolve(),
      );
      serving.once('exit', (c) => reject(new Error(`serve exited ${c}`)));
    });
    try {
      const { code, report } = await doctor(file);
      expect(check(report, 'ports')).toEqual({
        id: 'ports',
        status: 'pass',
        summary: 'ports 67/69 and both listeners are held by the rpi-deploy running with this config',
      });
      expect(check(report, 'foreign-dhcp')?.status).toBe('pass');
      expect(code).toBe(0);
    } finally {
      serving.kill('SIGTERM');
      await new Promise((resolve) => serving.once('exit', resolve));
    }
  }, 90_000);

  it('fails when the deployment interface does not exist', async () => {
    const { code, report, text } = await doctor(config('missing', { interface: 'nope0' }));
    expect(code).toBe(1);
    expect(check(report, 'interface')).toEqual({
      id: 'interface',
      status: 'fail',
      summary: 'network interface nope0 does not exist',
      fix: 'set netboot.interface to one that "ip -brief link" lists',
    });
    expect(text).toMatch(
      /^FAIL {2}interface {7}network interface nope0 does not exist\n {21} → set netboot\.interface/m,
    );
  }, 60_000);

  it('fails when the DHCP range, or the configured address, is outside the interface subnet', async () => {
    const range = await doctor(config('outside', { dhcp: { range: { start: '198.19.5.100', end: '198.19.5.199' } } }));
    expect(range.code).toBe(1);
    expect(check(range.report, 'interface')).toMatchObject({
      status: 'fail',
      summary:
        "lan0 is up with 198.18.0.1/24, but DHCP addresses 198.19.5.100, 198.19.5.199 are not free host addresses of lan0's subnet 198.18.0.0/24 (the server is 198.18.0.1)",
    });
    const address = await doctor(config('address', { address: '198.18.0.77' }));
    expect(check(address.report, 'interface')).toMatchObject({
      status: 'fail',
      summary: expect.stringContaining('netboot.address 198.18.0.77 is not an address of lan0'),
    });
  }, 60_000);

  it('fails when the runtime bundle is not for arm64', async () => {
    await writeRuntime(62);
    try {
      const { code, report } = await doctor(config('x86'));
      expect(code).toBe(1);
      expect(check(report, 'runtime-arm64')).toMatchObject({
        status: 'fail',
        summary: "the runtime bundle's node is x86-64, not arm64: boards cannot run it",
      });
    } finally {
      await writeRuntime(183);
    }
  }, 60_000);

  it('fails when an active batch has no free names left in its pool', async () => {
    for (const n of ['001', '002', '003']) cli(['pool', 'retire', `KXP2-CORO-${n}`]);
    const { code, report } = await doctor(config('full'));
    expect(code).toBe(1);
    expect(check(report, 'pools')).toMatchObject({
      status: 'fail',
      summary: 'batch 1 (CORO KXP2): the CORO KXP2 pool has no free names',
    });
    expect(report.checks.filter((c) => c.status === 'fail').map((c) => c.id)).toEqual(['pools']);
  }, 60_000);
});
