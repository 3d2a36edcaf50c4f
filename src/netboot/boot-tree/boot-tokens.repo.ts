import type { Db } from '../../store/index.js';

/** SQL for per-boot tokens (migration 008-netboot). Tokens are looked up by their SHA-256 only. */

export async function insertBootToken(
  db: Db,
  row: { sha256: string; serial8: string; issuedAt: string; expiresAt: string },
): Promise<void> {
  await db
    .insertInto('boot_tokens')
    .values({ token_sha256: row.sha256, serial8: row.serial8, issued_at: row.issuedAt, expires_at: row.expiresAt })
    .execute();
}

/** The board a token was issued to, if the token exists and has not expired at `now`. */
export async function findValidBootToken(db: Db, sha256: string, now: string): Promise<string | undefined> {
  const row = await db
    .selectFrom('boot_tokens')
    .select('serial8')
    .where('token_sha256', '=', sha256)
    .where('expires_at', '>', now)
    .executeTakeFirst();
  return row?.serial8;
}

export async function deleteExpiredBootTokens(db: Db, now: string): Promise<number> {
  const r = await db.deleteFrom('boot_tokens').where('expires_at', '<=', now).executeTakeFirst();
  return Number(r.numDeletedRows);
}
