// Password-attempt counters, instance-wide and kept in the database so that they survive
// a restart and are shared by every instance. Every change is one statement, so that
// simultaneous attempts are all counted and only one can claim the next allowed try.
import { sql } from 'kysely';
import type { Executor } from './db.js';
import { iso } from './rows.js';

export interface ThrottleCount {
  failures: number;
  /** Until when the key's wait runs (no later than now when there is none). */
  blockedUntil: Date;
}

/**
 * The rows of several keys are written in one order, the keys': PostgreSQL locks them one
 * after another as a statement goes, so two statements taking shared rows in opposite
 * orders could each wait for the other.
 */
function inKeyOrder(keys: readonly string[]): string[] {
  return [...new Set(keys)].sort();
}

/**
 * Counts an attempt against each key before it is checked (starting again from one where
 * the last is older than `forgetBefore`), in one statement. Returns each key's new count.
 */
export async function countThrottleAttempts(
  db: Executor,
  keys: readonly string[],
  now: Date,
  forgetBefore: Date,
): Promise<Map<string, ThrottleCount>> {
  const rows = await db
    .insertInto('login_throttles')
    .values(inKeyOrder(keys).map((key) => ({ key, failures: 1, last_failure_at: iso(now), blocked_until: iso(now) })))
    .onConflict((oc) =>
      oc.column('key').doUpdateSet({
        failures: sql<number>`case when login_throttles.last_failure_at < ${iso(forgetBefore)} then 1 else login_throttles.failures + 1 end`,
        last_failure_at: iso(now),
      }),
    )
    .returning(['key', 'failures', 'blocked_until'])
    .execute();
  return new Map(rows.map((row) => [row.key, { failures: row.failures, blockedUntil: new Date(row.blocked_until) }]));
}

const TAKEN_BACK = sql<number>`case when login_throttles.failures > 0 then login_throttles.failures - 1 else 0 end`;

/**
 * Takes back the attempt counted against each key, refused unchecked. One statement,
 * written as an upsert so that its rows are taken in key order (see inKeyOrder); the rows
 * exist, as the attempt was counted.
 */
export async function uncountThrottleAttempts(db: Executor, keys: readonly string[], now: Date): Promise<void> {
  await db
    .insertInto('login_throttles')
    .values(inKeyOrder(keys).map((key) => ({ key, failures: 0, last_failure_at: iso(now), blocked_until: iso(now) })))
    .onConflict((oc) => oc.column('key').doUpdateSet({ failures: TAKEN_BACK }))
    .execute();
}

/**
 * After a right password, in one statement: the `clear` keys start again from nothing and
 * their waits end; `takeBack` has the attempt taken back, and its wait ended when
 * `endItsWait` (this attempt had claimed it). An upsert, for the key order of inKeyOrder.
 */
export async function clearThrottlesTakingBackOne(
  db: Executor,
  clear: readonly string[],
  takeBack: { key: string; endItsWait: boolean },
  now: Date,
): Promise<void> {
  const isTakenBack = sql<boolean>`login_throttles.key = ${takeBack.key}`;
  await db
    .insertInto('login_throttles')
    .values(
      inKeyOrder([...clear, takeBack.key]).map((key) => ({
        key,
        failures: 0,
        last_failure_at: iso(now),
        blocked_until: iso(now),
      })),
    )
    .onConflict((oc) =>
      oc.column('key').doUpdateSet({
        failures: sql<number>`case when ${isTakenBack} then ${TAKEN_BACK} else 0 end`,
        blocked_until: takeBack.endItsWait
          ? sql<string>`excluded.blocked_until`
          : sql<string>`case when ${isTakenBack} then login_throttles.blocked_until else excluded.blocked_until end`,
      }),
    )
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

export async function touchThrottle(db: Executor, key: string, now: Date): Promise<void> {
  await db
    .updateTable('login_throttles')
    .set({ last_failure_at: iso(now) })
    .where('key', '=', key)
    .execute();
}

/**
 * Deletes the rows no rule can still use: no failure since `forgetBefore` (counting would
 * start again from one) and no wait still running. Returns how many.
 */
export async function deleteForgottenThrottles(db: Executor, forgetBefore: Date, now: Date): Promise<number> {
  const result = await db
    .deleteFrom('login_throttles')
    .where('last_failure_at', '<', iso(forgetBefore))
    .where('blocked_until', '<=', iso(now))
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
