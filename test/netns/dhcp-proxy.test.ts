import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCapture } from '../helpers/capture.js';
import { DhcpLab, SERVER_ADDRESS } from '../helpers/dhcp-lab.js';

/**
 * Next to the site's DHCP server (dnsmasq in its own namespace): proxy mode adds the boot options
 * and leaves addresses to it; full mode refuses to start unless overridden; a server that appears
 * while rpi-deploy runs is reported.
 */

const PROBE = { probeMs: 800, recheckSeconds: 0 };
let lab: DhcpLab;
beforeAll(async () => {
  lab = new DhcpLab();
  await lab.siteDhcp();
});
afterAll(() => lab?.destroy());

describe('DHCP next to a site DHCP server', () => {
  it('proxy mode: the Pi 5 gets its address from the site server and its boot options from rpi-deploy', async () => {
    const served = await lab.serve({ dhcp: { mode: 'proxy', foreignServer: PROBE } });
    try {
      expect(served.stdout()).toMatch(/DHCP\s+proxy mode/);
      expect(await served.waitForLog((l) => l['event'] === 'dhcp.foreign-server')).toMatchObject({
        serverId: '198.18.0.254',
        mode: 'proxy',
        action: 'warned',
        seq: expect.any(Number),
      });
      expect(
        served.logs().find((l) => l['level'] === 40 && String(l['msg']).includes('proxy mode relies on it')),
      ).toBeDefined();

      const r = await lab.replay(lab.client('pi5'), {
        mac: '2c:cf:67:01:02:03',
        serial8: '9ffefdef',
        tftpServer: SERVER_ADDRESS,
      });
      expect(r.problems).toEqual([]);
      expect(r.address).toMatch(/^198\.18\.0\.(5\d|[6-8]\d|90)$/);
      expect(r.ack?.from).toBe('198.18.0.254');
      expect(r.bootServer).toBe(SERVER_ADDRESS);
      const ours = r.offers.find((o) => o.from === SERVER_ADDRESS);
      expect(ours).toMatchObject({ yiaddr: '0.0.0.0', siaddr: SERVER_ADDRESS });
      expect(
        Object.keys(ours!.options)
          .map(Number)
          .sort((a, b) => a - b),
      ).toEqual([43, 53, 54, 60, 66, 97]);
    } finally {
      await served.stop();
    }
  });

  it('proxy mode: a client that is not a Pi gets nothing from rpi-deploy', async () => {
    const served = await lab.serve({ dhcp: { mode: 'proxy', foreignServer: PROBE } });
    const ns = lab.client('pc');
    const capture = await startCapture({ netns: ns, iface: 'eth0', filter: 'udp port 68' });
    try {
      const r = await lab.run(ns, [
        'busybox',
        'udhcpc',
        '-n',
        '-q',
        '-f',
        '-i',
        'eth0',
        '-s',
        '/bin/true',
        '-t',
        '3',
        '-T',
        '1',
        '-V',
        'PXEClient:Arch:00000:UNDI:002001',
      ]);
      expect(r.stderr).toMatch(/lease of 198\.18\.0\.\d+ obtained from 198\.18\.0\.254/);
      await new Promise((res) => setTimeout(res, 300));
      expect(capture.packets.filter((p) => p.ipSrc === SERVER_ADDRESS)).toEqual([]);
    } finally {
      await capture.stop();
      await served.stop();
    }
  });

  it('full mode refuses to start next to it, and starts with --allow-foreign-dhcp', async () => {
    const refused = await lab
      .serve({ dhcp: { mode: 'full', range: { start: '198.18.0.100', end: '198.18.0.199' }, foreignServer: PROBE } })
      .then(
        () => undefined,
        (e: Error & { code: number }) => e,
      );
    expect(refused?.code).toBe(1);
    expect(refused?.message).toMatch(
      /Another DHCP server \(198\.18\.0\.254\) answers on lan0; refusing to serve full-mode DHCP.*--allow-foreign-dhcp/,
    );

    const served = await lab.serve(
      { dhcp: { mode: 'full', range: { start: '198.18.0.100', end: '198.18.0.199' }, foreignServer: PROBE } },
      ['--allow-foreign-dhcp'],
    );
    try {
      expect(await served.waitForLog((l) => l['event'] === 'dhcp.foreign-server')).toMatchObject({
        serverId: '198.18.0.254',
        mode: 'full',
        action: 'warned',
      });
    } finally {
      await served.stop();
    }
  });
});

describe('a DHCP server that appears while rpi-deploy serves in full mode', () => {
  it('is reported by the periodic probe', async () => {
    const quiet = new DhcpLab();
    try {
      const served = await quiet.serve({
        dhcp: {
          mode: 'full',
          range: { start: '198.18.0.100', end: '198.18.0.199' },
          foreignServer: { probeMs: 500, recheckSeconds: 1 },
        },
      });
      expect(served.logs().some((l) => l['event'] === 'dhcp.foreign-server')).toBe(false);
      await quiet.siteDhcp('late');
      expect(await served.waitForLog((l) => l['event'] === 'dhcp.foreign-server', 8000)).toMatchObject({
        serverId: '198.18.0.254',
        action: 'warned',
      });
      expect(
        served
          .logs()
          .find((l) => l['level'] === 50 && String(l['msg']).includes('while rpi-deploy serves in full mode')),
      ).toBeDefined();
      await served.stop();
    } finally {
      await quiet.destroy();
    }
  });
});
