import type { Selectable } from 'kysely';
import type { ApiToken, Role } from '../../protocol/management-api.js';
import type { ApiTokensTable, Db } from '../../store/index.js';

type Row = Selectable<ApiTokensTable> & { creator: string };

function toToken(r: Row): ApiToken {
  return {
    id: r.id,
    name: r.name,
    role: r.role as Role,
    createdBy: r.creator,
    createdAt: r.created_at,
    lastUsedAt: r.last_used_at,
    expiresAt: r.expires_at,
    revokedAt: r.revoked_at,
  };
}

function selectTokens(db: Db) {
  return db
    .selectFrom('api_tokens')
    .innerJoin('users', 'users.id', 'api_tokens.created_by')
    .selectAll('api_tokens')
    .select('users.username as creator');
}

export async function insertToken(
  db: Db,
  t: { name: string; secretHash: string; role: Role; createdBy: number; now: string; expiresAt: string | null },
): Promise<ApiToken> {
  const { id } = await db
    .insertInto('api_tokens')
    .values({
      name: t.name,
      secret_hash: t.secretHash,
      role: t.role,
      created_by: t.createdBy,
      created_at: t.now,
      expires_at: t.expiresAt,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return (await findToken(db, id))!;
}

export async function findToken(db: Db, id: number): Promise<ApiToken | undefined> {
  const row = await selectTokens(db).where('api_tokens.id', '=', id).executeTakeFirst();
  return row && toToken(row);
}

/** The token behind a secret, with its creator's current role (a token never outranks its creator). */
export async function findTokenBySecret(
  db: Db,
  secretHash: string,
): Promise<(ApiToken & { creatorId: number; creatorRole: Role }) | undefined> {
  const row = await selectTokens(db)
    .select('users.role as creatorRole')
    .where('api_tokens.secret_hash', '=', secretHash)
    .executeTakeFirst();
  return row && { ...toToken(row), creatorId: row.created_by, creatorRole: row.creatorRole as Role };
}

export async function listTokens(db: Db): Promise<ApiToken[]> {
  return (await selectTokens(db).orderBy('api_tokens.id', 'desc').execute()).map(toToken);
}

export async function revokeToken(db: Db, id: number, now: string): Promise<void> {
  await db
    .updateTable('api_tokens')
    .set({ revoked_at: now })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .execute();
}

export async function touchToken(db: Db, id: number, now: string): Promise<void> {
  await db.updateTable('api_tokens').set({ last_used_at: now }).where('id', '=', id).execute();
}
