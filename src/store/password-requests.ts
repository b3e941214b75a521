// Requests for a forgotten-password link, one row per key they count against (the address
// typed, the account, the client's address), kept for the hour the limits look back.
import type { Executor } from './db.js';
import { iso } from './rows.js';

/** How many requests each key made since `since`. */
export async function countPasswordRequests(
  db: Executor,
  keys: readonly string[],
  since: Date,
): Promise<Map<string, number>> {
  const rows = await db
    .selectFrom('password_requests')
    .select(['key', (eb) => eb.fn.countAll<number | string | bigint>().as('count')])
    .where('key', 'in', [...keys])
    .where('requested_at', '>', iso(since))
    .groupBy('key')
    .execute();
  const counts = new Map(keys.map((key) => [key, 0]));
  for (const row of rows) counts.set(row.key, Number(row.count));
  return counts;
}

export async function recordPasswordRequest(db: Executor, keys: readonly string[], now: Date): Promise<void> {
  await db
    .insertInto('password_requests')
    .values(keys.map((key) => ({ key, requested_at: iso(now) })))
    .execute();
}

/** Housekeeping: requests older than any limit looks back. Returns how many were deleted. */
export async function deletePasswordRequestsBefore(db: Executor, before: Date): Promise<number> {
  const result = await db.deleteFrom('password_requests').where('requested_at', '<=', iso(before)).executeTakeFirst();
  return Number(result.numDeletedRows);
}
