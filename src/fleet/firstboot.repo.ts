import type { Db } from '../store/index.js';
import type { FirstBootScope, FirstBootSettings } from '../protocol/firstboot.js';

export async function findFirstBootSettings(
  db: Db,
  scope: FirstBootScope,
  code: string,
): Promise<FirstBootSettings | undefined> {
  const row = await db
    .selectFrom('firstboot_settings')
    .select('settings')
    .where('scope', '=', scope)
    .where('code', '=', code)
    .executeTakeFirst();
  return row && (JSON.parse(row.settings) as FirstBootSettings);
}

export async function upsertFirstBootSettings(
  db: Db,
  scope: FirstBootScope,
  code: string,
  settings: FirstBootSettings,
  now: string,
): Promise<void> {
  await db
    .insertInto('firstboot_settings')
    .values({ scope, code, settings: JSON.stringify(settings), updated_at: now })
    .onConflict((oc) =>
      oc.columns(['scope', 'code']).doUpdateSet({ settings: JSON.stringify(settings), updated_at: now }),
    )
    .execute();
}

export async function deleteFirstBootSettings(db: Db, scope: FirstBootScope, code: string): Promise<void> {
  await db.deleteFrom('firstboot_settings').where('scope', '=', scope).where('code', '=', code).execute();
}
