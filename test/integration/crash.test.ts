import { spawn } from 'node:child_process';
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DATABASE_FILE, openCore, type Core } from '../../src/app.js';
import { loadConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/lib/logger.js';
import { CLI, loopbackListen, spawnServe } from '../helpers/cli.js';
import { rawDisk } from '../helpers/pi-image.js';
import { tempDir } from '../helpers/temp-dir.js';

let dir: ReturnType<typeof tempDir>;
beforeEach(() => {
  dir = tempDir();
});
afterEach(() => dir.remove());

const open = () => openCore(loadConfig({ flags: { dataDir: dir.path } }), createLogger('silent'));

/** Everything that must hold in the database whatever moment a process died at. */
async function expectConsistent(core: Core): Promise<void> {
  const db = core.store.db;
  expect((await sql<{ integrity_check: string }>`pragma integrity_check`.execute(db)).rows).toEqual([
    { integrity_check: 'ok' },
  ]);
  const assignedEntries = await db
    .selectFrom('pool_entries')
    .select(['id', 'hostname', 'serial'])
    .where('status', '=', 'assigned')
    .execute();
  const activePool = await db
    .selectFrom('assignments')
    .select(['pool_entry_id', 'hostname', 'serial'])
    .where('released_at', 'is', null)
    .where('pool_entry_id', 'is not', null)
    .execute();
  // Every assigned number is held by exactly one active assignment, and the other way round.
  expect(activePool.map((a) => [a.pool_entry_id, a.hostname, a.serial]).sort()).toEqual(
    assignedEntries.map((e) => [e.id, e.hostname, e.serial]).sort(),
  );
  const active = await db
    .selectFrom('assignments')
    .select(['hostname', 'id'])
    .where('released_at', 'is', null)
    .execute();
  expect(new Set(active.map((a) => a.hostname)).size).toBe(active.length);
  // Every assignment came with its deployment, and every deployment with its device.
  const orphans = await db
    .selectFrom('assignments')
    .select('assignments.id')
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom('deployments')
            .select('deployments.id')
            .whereRef('deployments.assignment_id', '=', 'assignments.id'),
        ),
      ),
    )
    .execute();
  expect(orphans).toEqual([]);
  const homeless = await db
    .selectFrom('deployments')
    .select('deployments.id')
    .where((eb) =>
      eb.not(
        eb.exists(
          eb.selectFrom('devices').select('devices.serial').whereRef('devices.serial', '=', 'deployments.serial'),
        ),
      ),
    )
    .execute();
  expect(homeless).toEqual([]);
}

describe('a process killed mid-write', () => {
  it('leaves no half of a pool import behind', async () => {
    const setup = await open();
    await setup.fleet.venues.create({ code: 'CORO', name: 'x' });
    await setup.close();

    const child = spawn(
      process.execPath,
      [CLI, 'pool', 'import', 'CORO', '--range', '1-100000', '--data-dir', dir.path],
      { stdio: 'ignore' },
    );
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.on('exit', (_code, signal) => resolve(signal)),
    );
    // The import is one transaction; once its pages spill into the WAL it is mid-flight.
    const wal = join(dir.path, `${DATABASE_FILE}-wal`);
    const deadline = Date.now() + 30_000;
    while (!(existsSync(wal) && statSync(wal).size > 512 * 1024) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 5));
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');

    const core = await open();
    expect(await core.fleet.pools.stats()).toEqual([]);
    await expectConsistent(core);
    // The pool is still usable: the same import now succeeds in full.
    expect((await core.fleet.pools.import({ venue: 'CORO', text: '1-100000' })).added).toBe(100_000);
    await core.close();
  });

  it('keeps every acknowledged assignment and nothing half-done when the server dies under load', async () => {
    const setup = await open();
    await setup.fleet.venues.create({ code: 'CORO', name: 'x' });
    await setup.fleet.pools.import({ venue: 'CORO', text: '1-150' });
    // The seed's config answer names an image; without an active one it is a 404.
    for (const product of ['KXP2', 'RXP2']) {
      const file = join(dir.path, `${product}.img`);
      writeFileSync(file, rawDisk(product, 4096));
      await setup.images.import({ path: file }, { product, version: '1', activate: true });
    }
    await setup.close();

    const { device, child } = await spawnServe([...loopbackListen(dir.path), '--log-level', 'silent']);
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.on('exit', (_code, signal) => resolve(signal)),
    );
    const acknowledged: { serial: string; hostname: string }[] = [];
    let failed = 0;
    const requests = Array.from({ length: 400 }, async (_, i) => {
      const serial = (0x70000000 + i).toString(16);
      try {
        const res = await fetch(`${device}/api/config`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ product_type: i % 2 ? 'KXP2' : 'RXP2', venue_code: 'CORO', serial_number: serial }),
        });
        const body = (await res.json()) as { hostname?: string };
        if (res.status === 200) acknowledged.push({ serial, hostname: body.hostname! });
        if (acknowledged.length === 60) child.kill('SIGKILL');
      } catch {
        failed++;
      }
    });
    await Promise.all(requests);
    expect(await exited).toBe('SIGKILL');
    expect(failed).toBeGreaterThan(0);

    const core = await open();
    await expectConsistent(core);
    for (const a of acknowledged) expect((await core.fleet.records.device(a.serial)).device.hostname).toBe(a.hostname);
    await core.close();
  });
});
