import { sql, type Kysely } from 'kysely';
import type { Tables } from './tables.js';

/** Transactions that arrive while one is running are committed together, at most this many. */
const GROUP_MAX = 64;

type Db = Kysely<Tables>;

interface Job {
  fn: (tx: Db) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit: a commit is the most expensive step of a small transaction (it writes the WAL),
 * so transactions that queue up while one runs share the next commit. Each runs inside its own
 * savepoint: one that fails rolls back alone and its caller gets its error; the others commit.
 * A caller's promise settles only after the commit that made its work durable. Under light load
 * every group holds one transaction, exactly as without grouping.
 */
export function groupCommitter(db: Db, inTransaction: () => boolean): <T>(fn: (tx: Db) => Promise<T>) => Promise<T> {
  const queue: Job[] = [];
  let draining = false;

  async function runGroup(group: Job[]): Promise<void> {
    const outcomes: ({ ok: true; value: unknown } | { ok: false; error: unknown })[] = [];
    try {
      await db.connection().execute(async (conn) => {
        await sql`begin immediate`.execute(conn);
        try {
          for (const job of group) {
            await sql`savepoint job`.execute(conn);
            try {
              outcomes.push({ ok: true, value: await job.fn(conn) });
              await sql`release job`.execute(conn);
            } catch (error) {
              // SQLite ends the whole transaction itself after SQLITE_FULL, IOERR, BUSY or NOMEM
              // (sqlite.org/lang_transaction.html): then nothing of the group stands, for this error.
              if (!inTransaction()) throw error;
              await sql`rollback to job`.execute(conn);
              await sql`release job`.execute(conn);
              outcomes.push({ ok: false, error });
            }
          }
          await sql`commit`.execute(conn);
        } catch (error) {
          // A ROLLBACK after SQLite rolled back by itself fails ("no transaction is active") and would replace the cause.
          if (inTransaction()) await sql`rollback`.execute(conn);
          throw error;
        }
      });
    } catch (error) {
      // The group could not begin or commit (database locked too long, disk full): nothing of it stands.
      for (const job of group) job.reject(error);
      return;
    }
    group.forEach((job, i) => {
      const o = outcomes[i]!;
      if (o.ok) job.resolve(o.value);
      else job.reject(o.error);
    });
  }

  async function drain(): Promise<void> {
    try {
      while (queue.length > 0) await runGroup(queue.splice(0, GROUP_MAX));
    } finally {
      draining = false;
    }
  }

  return <T>(fn: (tx: Db) => Promise<T>) =>
    new Promise<T>((resolve, reject) => {
      queue.push({ fn, resolve: resolve as (v: unknown) => void, reject });
      if (!draining) {
        draining = true;
        // Start on the next turn of the event loop, so every request that arrived in this turn joins the group.
        // A failure outside any group (a bug) still answers everyone waiting, instead of leaving them hanging.
        setImmediate(() => {
          drain().catch((error: unknown) => queue.splice(0).forEach((job) => job.reject(error)));
        });
      }
    });
}
