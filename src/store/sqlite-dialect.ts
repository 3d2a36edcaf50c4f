import type Database from 'better-sqlite3';
import {
  CompiledQuery,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type Kysely,
  type QueryResult,
} from 'kysely';
import { BoundedMap } from '../lib/bounded-map.js';

/** Distinct SQL texts kept prepared; the query builder produces a few hundred at most. */
const STATEMENT_CACHE_SIZE = 500;

/**
 * SQLite for the query builder, tuned for many concurrent requests on one connection:
 * - waiters for the connection are served first come, first served, one at a time (the stock
 *   driver wakes every waiter on each release, which costs O(waiters) and lets late arrivals
 *   overtake, so a few requests starve under load);
 * - statements are kept prepared by SQL text (preparing costs as much as running a small query);
 * - transactions begin IMMEDIATE, taking the write lock up front, so a read-then-write (pick a
 *   free name, claim it) never fails or races another process's writer.
 */
export class SqliteFifoDialect implements Dialect {
  constructor(private readonly sqlite: Database.Database) {}

  createAdapter() {
    return new SqliteAdapter();
  }
  createDriver(): Driver {
    return new FifoDriver(this.sqlite);
  }
  createQueryCompiler() {
    return new SqliteQueryCompiler();
  }
  createIntrospector(db: Kysely<unknown>) {
    return new SqliteIntrospector(db);
  }
}

class FifoDriver implements Driver {
  private readonly connection: CachedConnection;
  private readonly waiting: (() => void)[] = [];
  private busy = false;

  constructor(private readonly sqlite: Database.Database) {
    this.connection = new CachedConnection(sqlite);
  }

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    if (this.busy) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.busy = true;
    return this.connection;
  }

  async releaseConnection(): Promise<void> {
    // Hand the connection straight to the next waiter; `busy` stays set in between.
    const next = this.waiting.shift();
    if (next) next();
    else this.busy = false;
  }

  async beginTransaction(conn: DatabaseConnection): Promise<void> {
    await conn.executeQuery(CompiledQuery.raw('begin immediate'));
  }
  async commitTransaction(conn: DatabaseConnection): Promise<void> {
    await conn.executeQuery(CompiledQuery.raw('commit'));
  }
  async rollbackTransaction(conn: DatabaseConnection): Promise<void> {
    await conn.executeQuery(CompiledQuery.raw('rollback'));
  }
  async destroy(): Promise<void> {
    this.sqlite.close();
  }
}

class CachedConnection implements DatabaseConnection {
  private readonly statements = new BoundedMap<string, Database.Statement>(STATEMENT_CACHE_SIZE);

  constructor(private readonly sqlite: Database.Database) {}

  private prepare(sql: string): Database.Statement {
    let stmt = this.statements.get(sql);
    if (!stmt) {
      stmt = this.sqlite.prepare(sql);
      this.statements.set(sql, stmt);
    }
    return stmt;
  }

  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    const stmt = this.prepare(query.sql);
    const params = query.parameters as unknown[];
    if (stmt.reader) return { rows: stmt.all(params) as R[] };
    const { changes, lastInsertRowid } = stmt.run(params);
    return { numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid), rows: [] };
  }

  streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('streaming queries are not used by rpi-deploy');
  }
}
