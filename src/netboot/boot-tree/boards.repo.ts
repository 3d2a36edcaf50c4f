import type { Db } from '../../store/index.js';

/**
 * The board that holds a bound DHCP lease on `ip` (full mode records the serial from option 97),
 * so a root-path TFTP request can be matched to a board.
 */
export async function findBoardOfAddress(db: Db, ip: string, now: string): Promise<string | undefined> {
  const row = await db
    .selectFrom('dhcp_leases')
    .select('serial8')
    .where('ip', '=', ip)
    .where('state', '=', 'bound')
    .where('expires_at', '>', now)
    .where('serial8', 'is not', null)
    .executeTakeFirst();
  return row?.serial8 ?? undefined;
}
