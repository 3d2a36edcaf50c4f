/**
 * Enroll/assign throughput and latency of POST /api/config against the real server (its own
 * process, as in production) on loopback, every request a new board unless said otherwise.
 * - capacity: 200 clients sending back to back (autocannon): assignments per second;
 * - latency: 200 clients offering 1000 assignments/s together (open loop): p50/p99.
 * Target (issue 2): ≥ 1000 assignments/s with p99 < 50 ms. Usage: npm run bench -- assign
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { openCore } from '../src/app.js';
import { loadConfig } from '../src/config/index.js';
import { createLogger } from '../src/lib/logger.js';
import { loopbackServe, spawnServe } from '../test/helpers/cli.js';
import { rawDisk } from '../test/helpers/pi-image.js';
import { tempDir } from '../test/helpers/temp-dir.js';
import { openLoop } from './open-loop.js';

const CLIENTS = 200;
const DURATION_S = 10;
const OFFERED_PER_S = 1000;

type Body = (i: number) => unknown;
const serial = (n: number, base: number) => (base + n).toString(16).padStart(8, '0');

async function capacity(url: string, body: Body): Promise<string> {
  let i = 0;
  const r = await autocannon({
    url: `${url}/api/config`,
    connections: CLIENTS,
    duration: DURATION_S,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    requests: [{ setupRequest: (req) => ({ ...req, body: JSON.stringify(body(i++)) }) }],
  });
  return `capacity ${(r['2xx'] / r.duration).toFixed(0)}/s (${r.non2xx} non-2xx, ${r.errors} errors)`;
}

async function latency(url: string, body: Body): Promise<string> {
  // The first seconds warm up the JIT and the page cache; they are not measured.
  await openLoop({
    url: `${url}/api/config`,
    ratePerS: OFFERED_PER_S,
    durationS: 2,
    connections: CLIENTS,
    body: (i) => body(i + 1_000_000),
  });
  const r = await openLoop({
    url: `${url}/api/config`,
    ratePerS: OFFERED_PER_S,
    durationS: DURATION_S,
    connections: CLIENTS,
    body,
  });
  return `at ${OFFERED_PER_S}/s offered: ${(r.ok / r.durationS).toFixed(0)}/s done, ${r.failed} failed, p50 ${r.p50Ms.toFixed(1)} ms, p99 ${r.p99Ms.toFixed(1)} ms, max ${r.maxMs.toFixed(0)} ms`;
}

export async function benchAssign(): Promise<string[]> {
  const dir = tempDir('rpi-deploy-bench-');
  try {
    const core = await openCore(loadConfig({ flags: { dataDir: dir.path } }), createLogger('silent'));
    await core.fleet.venues.create({ code: 'BNCH', name: 'Bench' });
    await core.fleet.pools.import({ venue: 'BNCH', text: '1-100000' });
    // The seed's config answer names an image; without an active one it is a 404.
    for (const product of ['KXP2', 'RXP2']) {
      const file = join(dir.path, `${product}.img`);
      writeFileSync(file, rawDisk(product, 4096));
      await core.images.import({ path: file }, { product, version: '1', activate: true });
    }
    await core.close();
    const server = await spawnServe(loopbackServe(dir.path));
    try {
      const cases: [string, Body, Body][] = [
        [
          'KXP2 from a pool',
          (n) => ({ product_type: 'KXP2', venue_code: 'BNCH', serial_number: serial(n, 0x10000000) }),
          (n) => ({ product_type: 'KXP2', venue_code: 'BNCH', serial_number: serial(n, 0x18000000) }),
        ],
        [
          'RXP2 by serial',
          (n) => ({ product_type: 'RXP2', venue_code: 'BNCH', serial_number: serial(n, 0x20000000) }),
          (n) => ({ product_type: 'RXP2', venue_code: 'BNCH', serial_number: serial(n, 0x28000000) }),
        ],
        [
          're-enroll (1000 known boards)',
          (n) => ({ product_type: 'KXP2', venue_code: 'BNCH', serial_number: serial(n % 1000, 0x10000000) }),
          (n) => ({ product_type: 'KXP2', venue_code: 'BNCH', serial_number: serial(n % 1000, 0x10000000) }),
        ],
      ];
      const lines: string[] = [];
      for (const [name, closed, open] of cases) {
        const lat = await latency(server.device, open);
        lines.push(`${name}: ${await capacity(server.device, closed)}; ${lat}`);
      }
      return lines;
    } finally {
      server.child.kill('SIGTERM');
    }
  } finally {
    dir.remove();
  }
}
