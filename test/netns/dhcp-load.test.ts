import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import type { BurstOptions, BurstResult } from '../helpers/dhcp-burst.js';
import { DhcpLab, SERVER_ADDRESS, type Served } from '../helpers/dhcp-lab.js';

/**
 * A venue switching on (200 boards within a second), restarts, and hostile traffic against the
 * running server. Correctness only: the burst's speed is measured in bench/dhcp-burst.ts.
 */

const BURST = fileURLToPath(new URL('../helpers/dhcp-burst.ts', import.meta.url));
const FUZZ = fileURLToPath(new URL('../helpers/dhcp-fuzz.ts', import.meta.url));
/** 241 addresses: the first burst takes 200, the one after the restart the other 41. */
const NETBOOT = {
  dhcp: {
    mode: 'full',
    range: { start: '198.18.0.10', end: '198.18.0.250' },
    foreignServer: { probeMs: 300, recheckSeconds: 0 },
  },
};

let lab: DhcpLab;
let served: Served;
let venue: string;

async function runBurst(o: Partial<BurstOptions>): Promise<BurstResult> {
  const full: BurstOptions = {
    clients: 200,
    spreadMs: 1000,
    macPrefix: '02:42:00:00:',
    timeoutMs: 15_000,
    retryMs: 1000,
    ...o,
  };
  const r = await lab.run(venue, [process.execPath, '--import', 'tsx', BURST, JSON.stringify(full)], 60_000);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as BurstResult;
}

beforeAll(async () => {
  lab = new DhcpLab();
  venue = lab.lab.namespace('venue');
  lab.plug(venue, 'eth0', '198.18.0.2/24');
  served = await lab.serve(NETBOOT);
});
afterAll(async () => {
  await served?.stop();
  await lab?.destroy();
});

describe('DHCP under load', () => {
  it('gives 200 boards that switch on within a second 200 different addresses', async () => {
    const r = await runBurst({ macPrefix: '02:42:00:00:' });
    expect(r.acked).toBe(200);
    expect(r.naks).toBe(0);
    const addresses = Object.values(r.leases);
    expect(new Set(addresses).size).toBe(200);
    const bound = JSON.parse(runCli(['dhcp', 'leases', '--json', '--data-dir', lab.dataDir]).stdout) as {
      ip: string;
      mac: string;
      state: string;
    }[];
    expect(
      bound
        .filter((l) => l.state === 'bound')
        .map((l) => `${l.mac} ${l.ip}`)
        .sort(),
    ).toEqual(
      Object.entries(r.leases)
        .map(([m, ip]) => `${m} ${ip}`)
        .sort(),
    );
  });

  it('after a restart gives the next boards only the addresses left, and says when the range is full', async () => {
    const before = JSON.parse(runCli(['dhcp', 'leases', '--json', '--data-dir', lab.dataDir]).stdout) as {
      ip: string;
    }[];
    await served.stop();
    served = await lab.serve(NETBOOT);
    const r = await runBurst({ clients: 45, spreadMs: 200, macPrefix: '02:43:00:00:', timeoutMs: 4000 });
    expect(r.acked).toBe(41);
    const taken = new Set(before.map((l) => l.ip));
    const fresh = Object.values(r.leases);
    expect(new Set(fresh).size).toBe(41);
    expect(fresh.filter((ip) => taken.has(ip))).toEqual([]);
    expect(
      await served.waitForLog((l) => l['event'] === 'dhcp.warning' && l['code'] === 'DHCP_POOL_EXHAUSTED'),
    ).toBeDefined();
  });

  it('survives random, truncated and mutated packets, and still serves', async () => {
    const started = Date.now();
    const fuzz = await lab.run(
      venue,
      [process.execPath, '--import', 'tsx', FUZZ, JSON.stringify({ seed: 7, count: 4000, unicast: SERVER_ADDRESS })],
      60_000,
    );
    expect(fuzz.code, fuzz.stderr).toBe(0);
    expect(JSON.parse(fuzz.stdout)).toEqual({ sent: 4000 });
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(served.child.exitCode).toBeNull();

    // The range is full by now: a board of the first burst powers on again and gets its address back.
    const ok = await lab.replay(lab.client('after'), {
      mac: '02:42:00:00:00:00',
      serial8: 'abcdef01',
      tftpServer: SERVER_ADDRESS,
      collectMs: 300,
    });
    expect(ok.problems).toEqual([]);
    expect(ok.offers.length).toBe(1);
    expect(ok.bootServer).toBe(SERVER_ADDRESS);
    expect(await served.stop()).toBe(0);
    const stats = served.logs().find((l) => l['msg'] === 'DHCP stopped')?.['stats'] as Record<string, number>;
    // A flood may overrun the socket buffer (the kernel drops the rest): enough arrived to matter.
    expect(stats['received']).toBeGreaterThan(1500);
    expect(stats['malformed']).toBeGreaterThan(500);
    expect(stats['failed']).toBe(0);
  });
});
