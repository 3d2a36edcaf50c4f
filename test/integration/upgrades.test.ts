import { join } from 'node:path';
import { sql, type Kysely } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DATABASE_FILE, openCore } from '../../src/app.js';
import { loadConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/lib/logger.js';
import { MIGRATIONS, openSqliteStore, type Store } from '../../src/store/index.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp-dir.js';

/**
 * Upgrades (issue 13): a data dir written at each earlier schema version (built by applying the
 * first migrations only, then filled with a venue day's records) opens with this version,
 * migrates, and keeps every row; a data dir from a newer version is refused with a clear message.
 */

const log = createLogger('silent');
let dir: ReturnType<typeof tempDir>;
beforeEach(() => {
  dir = tempDir('rpi-deploy-upgrade-');
});
afterEach(() => dir.remove());

/**
 * Tables a migration replaces on purpose, with the migration and the reason; every other row
 * must survive. 003-images: the old records named files and held no bytes (see the migration).
 */
const REPLACED: Record<string, string> = { images: '003-images' };

/** A venue day in the tables every schema version has (001): pool, batch, board, assignment, deployment, history. */
async function fill(db: Kysely<unknown>): Promise<void> {
  const at = '2026-05-01T08:00:00.000Z';
  await sql`insert into venues (code, name, location, contact, created_at, updated_at) values ('CORO', 'Corona', 'CA', null, ${at}, ${at})`.execute(
    db,
  );
  for (const n of [1, 2, 3]) {
    const status = n === 1 ? 'assigned' : 'available';
    await sql`insert into pool_entries (venue_code, product_code, number, hostname, status, serial, assigned_at, created_at, updated_at)
      values ('CORO', 'KXP2', ${n}, ${`KXP2-CORO-00${n}`}, ${status}, ${n === 1 ? '10000001' : null}, ${n === 1 ? at : null}, ${at}, ${at})`.execute(
      db,
    );
  }
  await sql`insert into batches (venue_code, product_code, name, expected_count, priority, status, created_at, activated_at, updated_at)
    values ('CORO', 'KXP2', 'Opening day', 3, 0, 'active', ${at}, ${at}, ${at})`.execute(db);
  await sql`insert into devices (serial, serial8, macs, model, first_seen_at, last_seen_at) values ('10000001', '10000001', '["2c:cf:67:00:00:01"]', 'pi5', ${at}, ${at})`.execute(
    db,
  );
  await sql`insert into assignments (serial, venue_code, product_code, hostname, pool_entry_id, batch_id, assigned_at)
    values ('10000001', 'CORO', 'KXP2', 'KXP2-CORO-001', 1, 1, ${at})`.execute(db);
  await sql`insert into deployments (serial, assignment_id, hostname, venue_code, product_code, batch_id, status, enrolled_at, updated_at)
    values ('10000001', 1, 'KXP2-CORO-001', 'CORO', 'KXP2', 1, 'enrolled', ${at}, ${at})`.execute(db);
  await sql`insert into history (at, type, deployment_id, serial, data) values (${at}, 'deployment.enrolled', 1, '10000001', '{"hostname":"KXP2-CORO-001"}')`.execute(
    db,
  );
}

type Snapshot = Map<string, Record<string, unknown>[]>;

async function snapshot(db: Kysely<unknown>): Promise<Snapshot> {
  const tables = (
    await sql<{
      name: string;
    }>`select name from sqlite_master where type = 'table' and name not like 'sqlite_%' order by name`.execute(db)
  ).rows;
  const out: Snapshot = new Map();
  for (const { name } of tables)
    out.set(name, (await sql<Record<string, unknown>>`select * from ${sql.table(name)}`.execute(db)).rows);
  return out;
}

const openAt = (file: string, count: number): Promise<Store> =>
  openSqliteStore({ file, log, migrations: MIGRATIONS.slice(0, count) });

describe('upgrading a data dir', () => {
  it('covers every migration', () => expect(MIGRATIONS.length).toBeGreaterThan(1));

  it.each(MIGRATIONS.slice(0, -1).map((m, i) => [m.id, i + 1] as const))(
    'from schema %s: migrates and keeps every row',
    async (id, count) => {
      const dataDir = join(dir.path, id);
      const file = join(dataDir, DATABASE_FILE);
      const old = await openAt(file, count);
      expect((await old.health()).schemaVersion).toBe(id);
      await fill(old.db as unknown as Kysely<unknown>);
      const before = await snapshot(old.db as unknown as Kysely<unknown>);
      await old.close();

      const core = await openCore(loadConfig({ flags: { dataDir } }), log);
      try {
        expect((await core.store.health()).schemaVersion).toBe(MIGRATIONS.at(-1)!.id);
        const after = await snapshot(core.store.db as unknown as Kysely<unknown>);
        for (const [table, rows] of before) {
          if (table === 'schema_migrations') continue;
          const replacedBy = REPLACED[table];
          if (replacedBy && MIGRATIONS.findIndex((m) => m.id === replacedBy) >= count) continue;
          expect(after.has(table), `table ${table} is gone`).toBe(true);
          // Each old row is still there with its old values (new columns may have been added).
          const now = after
            .get(table)!
            .map((r) => JSON.stringify(Object.fromEntries(Object.keys(rows[0] ?? {}).map((k) => [k, r[k]]))));
          for (const row of rows) expect(now, `${table} lost a row`).toContain(JSON.stringify(row));
        }
        expect(after.get('schema_migrations')!.map((r) => r['id'])).toEqual(MIGRATIONS.map((m) => m.id));
        // The domain reads what the old version wrote.
        expect((await core.fleet.pools.stats({ venue: 'CORO' }))[0]).toMatchObject({
          product: 'KXP2',
          available: 2,
          assigned: 1,
          total: 3,
        });
        expect((await core.fleet.records.device('10000001')).device.hostname).toBe('KXP2-CORO-001');
        expect((await core.fleet.batches.list({ status: 'active' })).map((b) => b.name)).toEqual(['Opening day']);
        // 010-captures: the new table takes requests against the old rows (their product, their board).
        expect(await core.captures.request({ serial: '10000001', product: 'KXP2', version: 'upgraded' })).toMatchObject(
          {
            serial: '10000001',
            status: 'pending',
          },
        );
      } finally {
        await core.close();
      }
    },
  );

  it('refuses a data dir written by a newer version, with a message that says so, and leaves it untouched', async () => {
    const dataDir = join(dir.path, 'newer');
    const file = join(dataDir, DATABASE_FILE);
    const future = await openSqliteStore({
      file,
      log,
      migrations: [...MIGRATIONS, { id: '999-future', up: async () => {} }],
    });
    await future.close();
    const r = runCli(['venue', 'list', '--data-dir', dataDir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      'error: The database has migrations this version does not know (999-future); it was written by a newer rpi-deploy. Upgrade rpi-deploy or use another --data-dir.\n',
    );
    const again = await openSqliteStore({
      file,
      log,
      migrations: [...MIGRATIONS, { id: '999-future', up: async () => {} }],
    });
    expect((await again.health()).schemaVersion).toBe('999-future');
    await again.close();
  });
});
