// Instance facts kept in the database, such as the check that the secret key is the one
// the stored secrets were sealed with.
import type { Executor } from './db.js';

export async function readMeta(db: Executor, key: string): Promise<string | null> {
  const row = await db.selectFrom('twofold_meta').select('value').where('key', '=', key).executeTakeFirst();
  return row?.value ?? null;
}

export async function writeMeta(db: Executor, key: string, value: string): Promise<void> {
  await db
    .insertInto('twofold_meta')
    .values({ key, value })
    .onConflict((oc) => oc.column('key').doUpdateSet({ value }))
    .execute();
}
