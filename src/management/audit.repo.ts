import type { AuditEntry } from '../protocol/management-api.js';
import type { Db } from '../store/index.js';

export interface AuditAppend {
  at: string;
  actor: string;
  action: string;
  target: string | null;
  details: Record<string, unknown>;
  ip: string | null;
}

export async function appendAudit(db: Db, e: AuditAppend): Promise<void> {
  await db
    .insertInto('audit')
    .values({ ...e, details: JSON.stringify(e.details) })
    .execute();
}

/** Newest first; `before` pages back from an id already shown. */
export async function listAudit(db: Db, q: { limit: number; before?: number | undefined }): Promise<AuditEntry[]> {
  let query = db.selectFrom('audit').selectAll();
  if (q.before !== undefined) query = query.where('id', '<', q.before);
  const rows = await query.orderBy('id', 'desc').limit(q.limit).execute();
  return rows.map((r) => ({ ...r, details: JSON.parse(r.details) as Record<string, unknown> }));
}
