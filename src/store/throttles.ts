// Password-attempt counters, instance-wide and kept in the database so that they survive
// a restart and are shared by every instance. Every change is one statement, so that
// simultaneous attempts are all counted and only one can claim the next allowed try.
import { sql } from 'kysely';
import type { Executor } from './db.js';
import { iso } from './rows.js';

/**
 * Counts an attempt before it is checked (starting again from one when the last is older
 * than `forgetBefore`). Returns the new count.
 */
export async function countThrottleAttempt(db: Executor, key: string, now: Date, forgetBefore: Date): Promise<number> {
  const row = await db
    .insertInto('login_throttles')
    .values({ key, failures: 1, last_failure_at: iso(now), blocked_until: iso(now) })
    .onConflict((oc) =>
      oc.column('key').doUpdateSet({
        failures: sql<number>`case when login_throttles.last_failure_at < ${iso(forgetBefore)} then 1 else login_throttles.failures + 1 end`,
        last_failure_at: iso(now),
      }),
    )
    .returning('failures')
    .executeTakeFirstOrThrow();
  return row.failures;
}

/** Takes back an attempt that was refused unchecked, or that turned out right. */
export async function uncountThrottleAttempt(db: Executor, key: string): Promise<void> {
  await db
    .updateTable('login_throttles')
    .set({ failures: sql<number>`case when failures > 0 then failures - 1 else 0 end` })
    .where('key', '=', key)
    .execute();
}

/**
 * Claims the one attempt allowed once the wait is over, and sets the next wait: true for
 * exactly one of any number of simultaneous callers.
 */
export async function claimThrottleSlot(db: Executor, key: string, now: Date, nextAllowedAt: Date): Promise<boolean> {
  const result = await db
    .updateTable('login_throttles')
    .set({ blocked_until: iso(nextAllowedAt) })
    .where('key', '=', key)
    .where('blocked_until', '<=', iso(now))
    .executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

export async function releaseThrottleSlot(db: Executor, key: string, now: Date): Promise<void> {
  await db
    .updateTable('login_throttles')
    .set({ blocked_until: iso(now) })
    .where('key', '=', key)
    .execute();
}

export async function throttleBlockedUntil(db: Executor, key: string): Promise<Date | null> {
  const row = await db.selectFrom('login_throttles').select('blocked_until').where('key', '=', key).executeTakeFirst();
  return row === undefined ? null : new Date(row.blocked_until);
}

export async function clearThrottles(db: Executor, keys: string[]): Promise<void> {
  await db.deleteFrom('login_throttles').where('key', 'in', keys).execute();
}

export async function touchThrottle(db: Executor, key: string, now: Date): Promise<void> {
  await db
    .updateTable('login_throttles')
    .set({ last_failure_at: iso(now) })
    .where('key', '=', key)
    .execute();
}
