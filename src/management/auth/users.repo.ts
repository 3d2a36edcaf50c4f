import type { Selectable } from 'kysely';
import type { Role, User } from '../../protocol/management-api.js';
import type { Db, UsersTable } from '../../store/index.js';

export type UserRow = Selectable<UsersTable>;

export function toUser(r: UserRow): User {
  return { username: r.username, role: r.role as Role, createdAt: r.created_at, updatedAt: r.updated_at };
}

export async function findUserByName(db: Db, username: string): Promise<UserRow | undefined> {
  return db.selectFrom('users').selectAll().where('username', '=', username).executeTakeFirst();
}

export async function findUserById(db: Db, id: number): Promise<UserRow | undefined> {
  return db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function listUsers(db: Db): Promise<UserRow[]> {
  return db.selectFrom('users').selectAll().orderBy('username').execute();
}

export async function countUsers(db: Db, role?: Role): Promise<number> {
  let q = db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n'));
  if (role) q = q.where('role', '=', role);
  return Number((await q.executeTakeFirstOrThrow()).n);
}

export async function insertUser(
  db: Db,
  u: { username: string; passwordHash: string; role: Role; now: string },
): Promise<UserRow> {
  return db
    .insertInto('users')
    .values({ username: u.username, password_hash: u.passwordHash, role: u.role, created_at: u.now, updated_at: u.now })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function updateUser(
  db: Db,
  id: number,
  set: { role?: Role; passwordHash?: string; now: string },
): Promise<void> {
  await db
    .updateTable('users')
    .set({
      updated_at: set.now,
      ...(set.role && { role: set.role }),
      ...(set.passwordHash && { password_hash: set.passwordHash }),
    })
    .where('id', '=', id)
    .execute();
}

export async function deleteUser(db: Db, id: number): Promise<void> {
  await db.deleteFrom('users').where('id', '=', id).execute();
}
