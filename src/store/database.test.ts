import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempDir } from '../../test/helpers/temp-dir.js';
import { createLogger } from '../lib/logger.js';
import { openSqliteStore, type Store } from './database.js';
import { StoreError } from './errors.js';
import { MIGRATIONS } from './migrations/index.js';

const MIGRATION_IDS = MIGRATIONS.map((m) => m.id);
const NEWEST_MIGRATION = [...MIGRATION_IDS].sort().at(-1);

let dir: ReturnType<typeof tempDir>;
let file: string;
let store: Store;
const log = createLogger('silent');

beforeEach(async () => {
  dir = tempDir();
  file = join(dir.path, 'test.db');
  store = await openSqliteStore({ file, log });
});
afterEach(async () => {
  // Some tests close the store themselves; closing it again may fail, which says nothing about them.
  await store.close().catch(() => undefined);
  dir.remove();
});

const venue = (code: string) => ({
  code,
  name: code,
  location: null,
  contact: null,
  created_at: 'now',
  updated_at: 'now',
});

describe('store transactions', () => {
  it('commits concurrent transactions independently: a failing one rolls back alone', async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 50 }, (_, i) =>
        store.transaction(async (tx) => {
          await tx
            .insertInto('venues')
            .values(venue(`V${String(i).padStart(3, '0')}`))
            .execute();
          if (i % 7 === 0) throw new Error(`job ${i} fails`);
          return i;
        }),
      ),
    );
    const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [i] : []));
    expect(failed).toEqual([0, 7, 14, 21, 28, 35, 42, 49]);
    expect((results[8] as PromiseFulfilledResult<number>).value).toBe(8);
    const codes = (await store.db.selectFrom('venues').select('code').orderBy('code').execute()).map((r) => r.code);
    expect(codes).toHaveLength(42);
    expect(codes).not.toContain('V007');
  });

  it('a full database keeps its cause: STORE_DISK_FULL for the whole group, and writes work again once there is room', async () => {
    // max_page_count makes SQLite answer SQLITE_FULL as a full disk would, without filling one.
    const pages = Number((await sql<{ page_count: number }>`pragma page_count`.execute(store.db)).rows[0]!.page_count);
    await sql.raw(`pragma max_page_count = ${pages}`).execute(store.db);
    const big = (i: number) => ({ ...venue(`F${i}`), name: 'x'.repeat(200_000) });
    const results = await Promise.allSettled(
      [0, 1, 2].map((i) => store.transaction((tx) => tx.insertInto('venues').values(big(i)).execute())),
    );
    for (const r of results) {
      expect(r).toMatchObject({
        status: 'rejected',
        reason: { code: 'STORE_DISK_FULL', message: expect.stringContaining(dir.path), cause: { code: 'SQLITE_FULL' } },
      });
    }

    await sql.raw('pragma max_page_count = 1073741823').execute(store.db);
    await store.transaction((tx) => tx.insertInto('venues').values(big(3)).execute());
    expect((await store.db.selectFrom('venues').select('code').execute()).map((r) => r.code)).toEqual(['F3']);
  });

  it('resolves only once the work is visible to another connection', async () => {
    const other = new Database(file, { readonly: true });
    try {
      const seen = await Promise.all(
        ['AAAA', 'BBBB', 'CCCC'].map((code) =>
          store
            .transaction((tx) => tx.insertInto('venues').values(venue(code)).execute())
            .then(() => other.prepare('select count(*) n from venues where code = ?').get(code)),
        ),
      );
      expect(seen).toEqual([{ n: 1 }, { n: 1 }, { n: 1 }]);
    } finally {
      other.close();
    }
  });

  it('waits for another process’s writer instead of failing', async () => {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    const holder = spawn(process.execPath, [
      '-e',
      `const db = new (require(${JSON.stringify(driver)}))(${JSON.stringify(file)});
       db.exec('begin immediate');
       db.prepare("insert into venues values ('XXXX', 'x', null, null, 'now', 'now')").run();
       process.stdout.write('locked');
       setTimeout(() => { db.exec('commit'); db.close(); }, 300);`,
    ]);
    await new Promise((resolve) => holder.stdout.once('data', resolve));
    await store.transaction((tx) => tx.insertInto('venues').values(venue('YYYY')).execute());
    expect((await store.db.selectFrom('venues').select('code').orderBy('code').execute()).map((r) => r.code)).toEqual([
      'XXXX',
      'YYYY',
    ]);
  });
});

describe('migrations', () => {
  it('are applied once and recorded', async () => {
    await store.close();
    store = await openSqliteStore({ file, log });
    expect((await store.db.selectFrom('schema_migrations').select('id').execute()).map((r) => r.id)).toEqual(
      MIGRATION_IDS,
    );
    expect(await store.health()).toMatchObject({ ok: true, schemaVersion: NEWEST_MIGRATION });
  });

  it('refuse a database written by a newer version', async () => {
    await store.db.insertInto('schema_migrations').values({ id: '999-future', applied_at: 'later' }).execute();
    await store.close();
    const err = await openSqliteStore({ file, log }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect((err as StoreError).code).toBe('STORE_SCHEMA_NEWER');
    expect((err as StoreError).message).toContain('999-future');
  });
});
