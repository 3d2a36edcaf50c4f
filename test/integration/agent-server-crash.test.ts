import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCore } from '../../src/app.js';
import { loadConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/lib/logger.js';
import { cardFile, NODE24, runAgentProcess, type AgentRun } from '../helpers/agent.js';
import { spawnServe } from '../helpers/cli.js';
import { buildPiImage } from '../helpers/pi-image.js';
import { tempDir } from '../helpers/temp-dir.js';

/**
 * The server is killed with SIGKILL while a fleet is writing, and started again on the same
 * address: every board must finish, and nothing the server acknowledged may be lost.
 */
const BOARDS = 8;
let dir: ReturnType<typeof tempDir>;
const open = () =>
  openCore(loadConfig({ flags: { dataDir: join(dir.path, 'data'), 'log.level': 'silent' } }), createLogger('silent'));

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

beforeAll(async () => {
  dir = tempDir();
  const pi = buildPiImage(dir.path, { variant: 'cloud-init', seed: 'crash', zeroFileBytes: 8 * 1024 * 1024 });
  const core = await open();
  await core.fleet.venues.create({ code: 'CORO', name: 'Corona Karting' });
  await core.fleet.pools.import({ venue: 'CORO', text: '1-50' });
  const batch = await core.fleet.batches.create({ venue: 'CORO', product: 'KXP2', expectedCount: 50 });
  await core.fleet.batches.apply(batch.id, 'activate');
  await core.images.import({ path: pi.path }, { product: 'KXP2', version: '1.0', activate: true });
  await core.close();
}, 60_000);
afterAll(() => dir?.remove());

describe('server killed mid-fleet', () => {
  it('loses no record, and every board resumes to success', async () => {
    const port = await freePort();
    const serveArgs = [
      '--data-dir',
      join(dir.path, 'data'),
      '--device-listen',
      `127.0.0.1:${port}`,
      '--management-listen',
      '127.0.0.1:0',
      '--log-level',
      'silent',
    ];
    const first = await spawnServe(serveArgs);
    const server = `http://127.0.0.1:${port}`;
    const agents = Array.from({ length: BOARDS }, (_, i) => {
      const card = cardFile(join(dir.path, `card-${i}.img`), 128 * 1024 * 1024);
      const args = [
        '--server',
        server,
        '--target',
        card,
        '--serial',
        (0xc0de0000 + i).toString(16),
        '--write-rate',
        '3M',
        '--verify-batch',
        '4M',
        '--retry-for',
        '120',
        '--quiet',
      ];
      return runAgentProcess(args, { node: i % 2 && NODE24 ? NODE24 : process.execPath, timeoutMs: 170_000 });
    });

    // Kill once the boards are writing (some chunks verified), well before any can finish.
    const probe = await open();
    const deadline = Date.now() + 30_000;
    let verifiedBeforeKill = 0;
    while (Date.now() < deadline && verifiedBeforeKill < BOARDS) {
      await new Promise((r) => setTimeout(r, 200));
      verifiedBeforeKill = Number(
        (
          await probe.store.db
            .selectFrom('verified_chunks')
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
    }
    const acknowledgedDeployments = await probe.store.db.selectFrom('deployments').select(['id', 'serial']).execute();
    await probe.close();
    first.child.kill('SIGKILL');
    await new Promise((r) => first.child.once('exit', r));
    expect(verifiedBeforeKill).toBeGreaterThan(0);

    await new Promise((r) => setTimeout(r, 1500));
    const second = await spawnServe(serveArgs);
    let runs: AgentRun[];
    try {
      runs = await Promise.all(agents.map((a) => a.done));
    } finally {
      second.child.kill('SIGTERM');
      await new Promise((r) => second.child.once('exit', r));
    }

    for (const r of runs)
      expect({
        code: r.code,
        result: r.result?.status,
        message: r.result?.message,
        stderr: r.stderr.slice(-500),
      }).toMatchObject({ code: 0, result: 'success' });
    const core = await open();
    try {
      // Every deployment the first server had committed is still there.
      const ids = new Set((await core.store.db.selectFrom('deployments').select('id').execute()).map((d) => d.id));
      for (const d of acknowledgedDeployments) expect(ids.has(d.id)).toBe(true);
      const names = new Set<string>();
      for (const r of runs) {
        const { deployment, history } = await core.fleet.records.deployment(r.result!.deploymentId!);
        expect(deployment.status).toBe('success');
        expect(history.filter((h) => h.type === 'deployment.phase').map((h) => h.data['phase'])).toEqual([
          'enrolled',
          'downloading',
          'writing',
          'verifying',
          'customizing',
          'success',
        ]);
        names.add(deployment.hostname);
      }
      expect(names.size).toBe(BOARDS);
    } finally {
      await core.close();
    }
  }, 180_000);
});
