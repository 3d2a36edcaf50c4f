import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCapture } from '../helpers/capture.js';
import { DhcpLab, SERVER_ADDRESS } from '../helpers/dhcp-lab.js';

/**
 * The wrong-interface test (DESIGN §3): the server has two interfaces; DHCP is configured on
 * `lan0` only. A client on the other interface (`wrong0`) broadcasts DISCOVERs and REQUESTs and
 * never gets an answer, in either mode, while a client on `lan0` is served at the same time.
 */

let lab: DhcpLab;
beforeAll(() => {
  lab = new DhcpLab();
});
afterAll(() => lab?.destroy());

describe.each(['full', 'proxy'] as const)('DHCP in %s mode on lan0', (mode) => {
  it('never answers on the other interface', async () => {
    const served = await lab.serve({
      dhcp: {
        mode,
        range: { start: '198.18.0.100', end: '198.18.0.199' },
        foreignServer: { probeMs: 300, recheckSeconds: 0 },
      },
    });
    const wrongSide = await startCapture({ netns: lab.other, iface: 'eth0', filter: 'udp port 67 or udp port 68' });
    try {
      const right = lab.client(`ok${mode}`);
      const [wrong, ok, udhcpc] = await Promise.all([
        lab.replay(lab.other, {
          mac: '2c:cf:67:66:66:66',
          serial8: '66666666',
          tftpServer: null,
          attempts: 3,
          retryMs: 1500,
        }),
        lab.replay(right, { mac: '2c:cf:67:77:77:77', serial8: '77777777', tftpServer: SERVER_ADDRESS }),
        lab.run(lab.other, [
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
        ]),
      ]);
      expect(ok.problems).toEqual([]);
      expect(wrong.offers).toEqual([]);
      expect(wrong.ack).toBeNull();
      expect(udhcpc.code).not.toBe(0);
      expect(udhcpc.stderr).not.toMatch(/lease of .* obtained/);
      // Everything the wrong side saw came from its own clients: nothing from the server.
      const fromServer = wrongSide.packets.filter((p) => p.srcPort === 67 || p.ipSrc.startsWith('198.19.0.1'));
      expect(wrongSide.packets.length).toBeGreaterThanOrEqual(6);
      expect(fromServer).toEqual([]);
      expect(served.logs().some((l) => l['mac'] === '2c:cf:67:66:66:66')).toBe(false);
    } finally {
      await wrongSide.stop();
      expect(await served.stop()).toBe(0);
    }
  });
});
