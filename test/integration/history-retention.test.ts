import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApp, openCore } from '../../src/app.js';
import { loadConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/lib/logger.js';
import { rawDisk } from '../helpers/pi-image.js';
import { tempDir } from '../helpers/temp-dir.js';

/**
 * History retention (history.keepDays) on a real SQLite database: at start the events older than
 * the setting go, newer ones and every deployment (with its current state) stay, and the run is
 * in the audit log with its count; the default keeps everything and writes no row.
 */

const NOW = new Date('2026-12-06T12:00:00.000Z');
const daysAgo = (d: number) => new Date(NOW.getTime() - d * 86_400_000).toISOString();
let dir: ReturnType<typeof tempDir>;
beforeEach(() => {
  dir = tempDir('rpi-deploy-retention-');
});
afterEach(() => dir.remove());

const flags = (extra: Record<string, unknown> = {}) => ({
  dataDir: dir.path,
  'device.listen': '127.0.0.1:0',
  'management.listen': '127.0.0.1:0',
  ...extra,
});

/**
 * Two boards named through the seed contract, the first one's deployment and history moved 400
 * days back; and four events of no deployment, 400, 91, 89 and 1 days old.
 */
async function seedHistory(): Promise<{ old: number; recent: number }> {
  const core = await openCore(loadConfig({ flags: flags() }), createLogger('silent'));
  try {
    await core.fleet.venues.create({ code: 'CORO', name: 'x' });
    await core.fleet.pools.import({ venue: 'CORO', text: '1-5' });
    const file = join(dir.path, 'kxp2.img');
    writeFileSync(file, rawDisk('kxp2', 4608));
    await core.images.import({ path: file }, { product: 'KXP2', version: '1', activate: true });
    const board = (serial: string) =>
      core.deployments.seedConfig({ product: 'KXP2', venue: 'CORO', serial, ip: '198.18.0.20' });
    const old = (await board('10000001')).enrollment.deployment.id;
    const recent = (await board('10000002')).enrollment.deployment.id;
    const db = core.store.db;
    await db
      .updateTable('history')
      .set({ at: daysAgo(400) })
      .where('deployment_id', '=', old)
      .execute();
    await db
      .updateTable('deployments')
      .set({ enrolled_at: daysAgo(400) })
      .where('id', '=', old)
      .execute();
    await db.deleteFrom('history').where('deployment_id', 'is', null).execute();
    for (const [i, age] of [400, 91, 89, 1].entries())
      await db
        .insertInto('history')
        .values({ at: daysAgo(age), type: 'pool.imported', deployment_id: null, serial: `s${i}`, data: '{}' })
        .execute();
    return { old, recent };
  } finally {
    await core.close();
  }
}

async function serveOnce(extra: Record<string, unknown>) {
  const app = await createApp(loadConfig({ flags: flags(extra) }), createLogger('silent'), { clock: () => NOW });
  await app.start();
  const history = await app.store.db.selectFrom('history').select(['serial', 'deployment_id']).orderBy('seq').execute();
  const deployments = await app.store.db.selectFrom('deployments').select(['id', 'status']).orderBy('id').execute();
  const audit = await app.store.db.selectFrom('audit').selectAll().where('action', '=', 'history.prune').execute();
  await app.stop();
  return { history, deployments, audit };
}

describe('history retention', () => {
  it('removes events older than history.keepDays at start and records the run in the audit log', async () => {
    const { old, recent } = await seedHistory();
    const before = await serveOnce({});
    const oldEvents = before.history.filter((h) => h.deployment_id === old).length;
    expect(oldEvents).toBeGreaterThan(0);
    const r = await serveOnce({ 'history.keepDays': 90 });
    expect(r.history.filter((h) => h.deployment_id === null).map((h) => h.serial)).toEqual(['s2', 's3']);
    expect(r.history.some((h) => h.deployment_id === old)).toBe(false);
    expect(r.history.filter((h) => h.deployment_id === recent)).toEqual(
      before.history.filter((h) => h.deployment_id === recent),
    );
    // Deployments are not history: the 400-day-old one stays, in the state it was in.
    expect(r.deployments).toEqual(before.deployments);
    expect(r.deployments.map((d) => d.id)).toEqual([old, recent]);
    expect(r.audit).toHaveLength(1);
    expect(r.audit[0]).toMatchObject({ actor: 'system', action: 'history.prune', target: null, ip: null });
    expect(JSON.parse(r.audit[0]!.details)).toEqual({ keepDays: 90, before: daysAgo(90), removed: 2 + oldEvents });
  });

  it('keeps everything by default and writes no audit row', async () => {
    const { old } = await seedHistory();
    const r = await serveOnce({});
    expect(r.history.filter((h) => h.deployment_id === null).map((h) => h.serial)).toEqual(['s0', 's1', 's2', 's3']);
    expect(r.history.some((h) => h.deployment_id === old)).toBe(true);
    expect(r.audit).toEqual([]);
  });
});
