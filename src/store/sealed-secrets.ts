// Every device's sealed secret across the instance, for re-encrypting them under a new key.
// Instance-wide on purpose: the key belongs to the instance, not to an organisation.
import type { Executor } from './db.js';

export interface SealedSecret {
  deviceId: string;
  sealedSecret: string;
}

/** The next `limit` devices after `afterDeviceId` (from the first when null), by id. */
export async function listSealedSecretsAfter(
  db: Executor,
  afterDeviceId: string | null,
  limit: number,
): Promise<SealedSecret[]> {
  let query = db.selectFrom('devices').select(['id', 'sealed_secret']).orderBy('id').limit(limit);
  if (afterDeviceId !== null) query = query.where('id', '>', afterDeviceId);
  const rows = await query.execute();
  return rows.map((row) => ({ deviceId: row.id, sealedSecret: row.sealed_secret }));
}

export async function findSealedSecret(db: Executor, deviceId: string): Promise<string | null> {
  const row = await db.selectFrom('devices').select('sealed_secret').where('id', '=', deviceId).executeTakeFirst();
  return row?.sealed_secret ?? null;
}

/**
 * Replaces a device's sealed secret only if it still is `expected`: one conditional UPDATE,
 * so a change made meanwhile (or the device's removal) is never overwritten.
 */
export async function replaceSealedSecretIfUnchanged(
  db: Executor,
  deviceId: string,
  expected: string,
  replacement: string,
): Promise<boolean> {
  const result = await db
    .updateTable('devices')
    .set({ sealed_secret: replacement })
    .where('id', '=', deviceId)
    .where('sealed_secret', '=', expected)
    .executeTakeFirst();
  return result.numUpdatedRows === 1n;
}
