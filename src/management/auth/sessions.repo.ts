import type { Selectable } from 'kysely';
import type { Db, SessionsTable, UsersTable } from '../../store/index.js';

export type SessionWithUser = Selectable<SessionsTable> & Pick<Selectable<UsersTable>, 'username' | 'role'>;

export async function insertSession(
  db: Db,
  s: { idHash: string; userId: number; now: string; ip: string | null },
): Promise<void> {
  await db
    .insertInto('sessions')
    .values({ id_hash: s.idHash, user_id: s.userId, created_at: s.now, last_seen_at: s.now, ip: s.ip })
    .execute();
}

export async function findSession(db: Db, idHash: string): Promise<SessionWithUser | undefined> {
  return db
    .selectFrom('sessions')
    .innerJoin('users', 'users.id', 'sessions.user_id')
    .select([
      'sessions.id_hash',
      'sessions.user_id',
      'sessions.created_at',
      'sessions.last_seen_at',
      'sessions.ip',
      'users.username',
      'users.role',
    ])
    .where('sessions.id_hash', '=', idHash)
    .executeTakeFirst();
}

export async function touchSession(db: Db, idHash: string, now: string): Promise<void> {
  await db.updateTable('sessions').set({ last_seen_at: now }).where('id_hash', '=', idHash).execute();
}

export async function deleteSession(db: Db, idHash: string): Promise<void> {
  await db.deleteFrom('sessions').where('id_hash', '=', idHash).execute();
}

/** Ends every session of a user, but `keep` (the one that changed the password stays signed in). */
export async function deleteSessionsOf(db: Db, userId: number, keep?: string): Promise<void> {
  let q = db.deleteFrom('sessions').where('user_id', '=', userId);
  if (keep) q = q.where('id_hash', '!=', keep);
  await q.execute();
}

/** Sessions idle since before `idleBefore` or created before `createdBefore` are of no use to anyone. */
export async function deleteExpiredSessions(db: Db, idleBefore: string, createdBefore: string): Promise<number> {
  const r = await db
    .deleteFrom('sessions')
    .where((eb) => eb.or([eb('last_seen_at', '<', idleBefore), eb('created_at', '<', createdBefore)]))
    .executeTakeFirst();
  return Number(r.numDeletedRows);
}
