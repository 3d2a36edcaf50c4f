import type { Kysely } from 'kysely';

/** A forward-only schema step. `id` is recorded once applied and never changes. */
export interface Migration {
  id: string;
  up(db: Kysely<unknown>, now: string): Promise<void>;
}
