import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCore } from '../../src/app.js';
import { loadConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/lib/logger.js';
import { runCli } from '../helpers/cli.js';
import { parseExposition } from '../helpers/prometheus.js';
import { DhcpLab, SERVER_ADDRESS, UDHCPC_SCRIPT, type Served } from '../helpers/dhcp-lab.js';

/**
 * Full mode against real clients (busybox udhcpc, ISC dhclient, the Pi 5 bootloader replayer),
 * with `rpi-deploy serve` from the build in its own namespace.
 */

const RANGE = { start: '198.18.0.100', end: '198.18.0.199' };
const NETBOOT = {
  dhcp: { mode: 'full', range: RANGE, leaseSeconds: 600, foreignServer: { probeMs: 500, recheckSeconds: 0 } },
};
let lab: DhcpLab;
let served: Served;

const DHCLIENT_SCRIPT = `#!/bin/sh
case "$reason" in
  BOUND|RENEW|REBIND|REBOOT)
    ip addr flush dev "$interface"; ip addr add "$new_ip_address/$new_subnet_mask" dev "$interface"
    echo "EVENT $reason $new_ip_address from $new_dhcp_server_identifier" ;;
  RELEASE|EXPIRE|STOP) ip addr flush dev "$interface"; echo "EVENT $reason" ;;
esac
`;

function script(name: string, text: string): string {
  const path = join(lab.dir.path, name);
  writeFileSync(path, text, { mode: 0o755 });
  return path;
}

interface LeaseRow {
  ip: string;
  mac: string;
  state: string;
  serial8: string | null;
}
function leases(all = true): LeaseRow[] {
  const r = runCli(['dhcp', 'leases', '--json', ...(all ? ['--all'] : []), '--data-dir', lab.dataDir]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as LeaseRow[];
}

async function until(read: () => string, re: RegExp, ms = 15_000): Promise<RegExpExecArray | null> {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 100))) {
    const m = re.exec(read());
    if (m) return m;
  }
  return null;
}

beforeAll(async () => {
  lab = new DhcpLab();
  served = await lab.serve(NETBOOT, [], 'debug', { management: { metrics: { fromLocalhost: true } } });
});
afterAll(async () => {
  await served?.stop();
  await lab?.destroy();
});

describe('DHCP full mode, real clients', () => {
  it('prints what it serves', () => {
    expect(served.stdout()).toMatch(
      /network boot\s+lan0 \(198\.18\.0\.1\)\n\s+DHCP\s+full mode, 198\.18\.0\.100-198\.18\.0\.199/,
    );
  });

  it('gives the Pi 5 bootloader an address and every boot option it needs, and sees it power on', async () => {
    const r = await lab.replay(lab.client('pi5'), {
      mac: '2c:cf:67:10:20:30',
      serial8: '9ffefdef',
      tftpServer: SERVER_ADDRESS,
    });
    expect(r.problems).toEqual([]);
    expect(r.address).toBe('198.18.0.100');
    expect(r.bootServer).toBe(SERVER_ADDRESS);
    expect(r.offers).toHaveLength(1);
    expect(r.offers[0]).toMatchObject({
      from: SERVER_ADDRESS,
      ipDst: '198.18.0.255',
      ethDst: 'ff:ff:ff:ff:ff:ff',
      yiaddr: '198.18.0.100',
    });
    expect(leases()).toContainEqual(
      expect.objectContaining({ ip: '198.18.0.100', mac: '2c:cf:67:10:20:30', state: 'bound', serial8: '9ffefdef' }),
    );
    const seen = await served.waitForLog((l) => l['event'] === 'dhcp.seen');
    expect(seen).toMatchObject({
      mac: '2c:cf:67:10:20:30',
      serial8: '9ffefdef',
      model: 'pi5',
      ip: '198.18.0.100',
      netboot: true,
    });
    expect(seen?.['seq']).toEqual(expect.any(Number));
  });

  it('counts one board’s OFFER and ACK in /metrics', async () => {
    const url = `${/management API\s+(\S+)/.exec(served.stdout())![1]}/metrics`;
    const scrape = async () => parseExposition((await lab.run(lab.server, ['curl', '-sS', url])).stdout);
    const before = await scrape();
    const r = await lab.replay(lab.client('pi5m'), {
      mac: '2c:cf:67:10:20:3f',
      serial8: '9ffefd3f',
      tftpServer: SERVER_ADDRESS,
    });
    expect(r.problems).toEqual([]);
    const after = await scrape();
    const moved = (key: string) => (after.get(key) ?? NaN) - (before.get(key) ?? 0);
    expect([
      moved('rpi_deploy_dhcp_replies_total{type="offer"}'),
      moved('rpi_deploy_dhcp_replies_total{type="ack"}'),
    ]).toEqual([1, 1]);
  });

  it('serves a byte-swapped option 97 and a REQUEST without option 60 alike', async () => {
    const r = await lab.replay(lab.client('pi5b'), {
      mac: 'd8:3a:dd:10:20:31',
      serial8: '0badcafe',
      guidOrder: 'be',
      requestWithout60: true,
      tftpServer: SERVER_ADDRESS,
    });
    expect(r.problems).toEqual([]);
    expect(r.address).toMatch(/^198\.18\.0\.1\d\d$/);
  });

  it('leases an address to busybox udhcpc, renews and releases it', async () => {
    const child = lab.lab.spawn(lab.client('udh'), [
      'busybox',
      'udhcpc',
      '-f',
      '-i',
      'eth0',
      '-s',
      script('udhcpc.sh', UDHCPC_SCRIPT),
      '-t',
      '5',
      '-T',
      '1',
    ]);
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const bound = await until(() => out, /EVENT bound ip=(\S+) serverid=(\S+) lease=(\d+)/);
    expect(bound?.slice(2)).toEqual([SERVER_ADDRESS, '600']);
    const ip = bound![1]!;
    expect(ip).toMatch(/^198\.18\.0\.1\d\d$/);

    child.kill('SIGUSR1'); // renew: unicast REQUEST with ciaddr, answered to ciaddr
    expect((await until(() => out, /EVENT renew ip=(\S+)/))?.[1]).toBe(ip);
    child.kill('SIGUSR2'); // release
    await until(() => out, /EVENT deconfig/);
    await until(() => JSON.stringify(leases().find((l) => l.ip === ip)), /"released"/, 3000);
    expect(leases().find((l) => l.ip === ip)?.state).toBe('released');
    child.kill('SIGTERM');
  });

  it('leases an address to ISC dhclient, gives it back on its next boot (INIT-REBOOT) and takes its release', async () => {
    const ns = lab.client('dhc');
    const files = [
      '-sf',
      script('dhclient.sh', DHCLIENT_SCRIPT),
      '-lf',
      join(lab.dir.path, 'dhclient.leases'),
      '-pf',
      join(lab.dir.path, 'dhclient.pid'),
    ];
    const first = await lab.run(ns, ['dhclient', '-1', '-v', ...files, 'eth0']);
    const ip = /EVENT BOUND (\S+) from 198\.18\.0\.1/.exec(first.stdout)?.[1];
    expect(ip, first.stderr).toMatch(/^198\.18\.0\.1\d\d$/);
    expect(first.stderr).toMatch(/DHCPOFFER of \S+ from 198\.18\.0\.1/);

    await lab.run(ns, ['dhclient', '-x', ...files, 'eth0']); // stop without releasing, as at a reboot
    const again = await lab.run(ns, ['dhclient', '-1', '-v', ...files, 'eth0']);
    expect(again.stderr).not.toContain('DHCPDISCOVER');
    expect(again.stdout).toContain(`EVENT REBOOT ${ip} from ${SERVER_ADDRESS}`);

    const release = await lab.run(ns, ['dhclient', '-r', '-v', ...files, 'eth0']);
    expect(release.stderr).toMatch(/DHCPRELEASE of \S+ on eth0 to 198\.18\.0\.1/);
    await until(() => JSON.stringify(leases().find((l) => l.ip === ip)), /"released"/, 3000);
    expect(leases().find((l) => l.ip === ip)?.state).toBe('released');
  });

  it('keeps leases across a restart: nobody gets a bound address, its holder gets it back', async () => {
    const before = leases(false);
    expect(before.map((l) => l.mac)).toEqual(expect.arrayContaining(['2c:cf:67:10:20:30', 'd8:3a:dd:10:20:31']));
    expect(await served.stop()).toBe(0);
    served = await lab.serve(NETBOOT);
    expect(leases(false)).toEqual(before);

    const newcomer = await lab.replay(lab.client('new'), {
      mac: '2c:cf:67:10:20:40',
      serial8: '00c0ffee',
      tftpServer: SERVER_ADDRESS,
    });
    expect(newcomer.problems).toEqual([]);
    expect(before.map((l) => l.ip)).not.toContain(newcomer.address);
    const pi = before.find((l) => l.mac === '2c:cf:67:10:20:30')!;
    const back = await lab.replay(lab.client('pi5c'), { mac: pi.mac, serial8: '9ffefdef', tftpServer: SERVER_ADDRESS });
    expect(back.address).toBe(pi.ip);
  });

  it('offers no boot options to a board imaged successfully, until an operator asks for a re-image', async () => {
    const core = await openCore(
      loadConfig({ flags: { dataDir: lab.dataDir, 'log.level': 'silent' } }),
      createLogger('silent'),
    );
    try {
      await core.fleet.venues.create({ code: 'CORO', name: 'Corona Karting' });
      const { deployment } = await core.fleet.enrollment.enroll({
        serial: '10000000f00dface',
        venue: 'CORO',
        product: 'RXP2',
        macs: ['2c:cf:67:10:20:50'],
      });
      await core.fleet.enrollment.advance(deployment.id, 'success');
    } finally {
      await core.close();
    }
    const ns = lab.client('done');
    const done = await lab.replay(ns, { mac: '2c:cf:67:10:20:50', serial8: 'f00dface', tftpServer: null });
    expect(done.problems).toEqual([]);
    expect(done.address).toMatch(/^198\.18\.0\.1\d\d$/);
    expect(await served.waitForLog((l) => l['event'] === 'dhcp.seen' && l['serial8'] === 'f00dface')).toMatchObject({
      netboot: false,
      reason: expect.stringContaining('imaged successfully'),
    });

    expect(runCli(['device', 'reimage', '10000000f00dface', '--data-dir', lab.dataDir]).code).toBe(0);
    const again = await lab.replay(ns, { mac: '2c:cf:67:10:20:50', serial8: 'f00dface', tftpServer: SERVER_ADDRESS });
    expect(again.problems).toEqual([]);
    expect(again.address).toBe(done.address);
  });
});
