// Password-attempt counters, instance-wide and kept in the database so that they survive
// a restart and are shared by every instance. Every change is one statement, so that
// simultaneous attempts all see each other and only one can claim the next allowed try.
import { sql } from 'kysely';
import type { Executor } from './db.js';
import { iso } from './rows.js';

export interface ThrottleCount {
  /** Wrong passwords in a row, checked. */
  failures: number;
  /** Attempts being checked now. */
  checking: number;
  /** Until when the key's wait runs (no later than now when there is none). */
  blockedUntil: Date;
}

/**
 * The rows of several keys are written in one order, the keys': PostgreSQL locks them one
 * after another as a statement goes, so two statements taking shared rows in opposite
 * orders could each wait for the other. Every statement on several keys is an upsert of
 * rows in this order.
 */
function inKeyOrder(keys: readonly string[]): string[] {
  return [...new Set(keys)].sort();
}

function freshRows(keys: readonly string[], now: Date, checking: number) {
  return inKeyOrder(keys).map((key) => ({
    key,
    failures: 0,
    last_failure_at: iso(now),
    blocked_until: iso(now),
    checking,
    checking_at: iso(now),
  }));
}

const ONE_LESS_IN_FLIGHT = sql<number>`case when login_throttles.checking > 0 then login_throttles.checking - 1 else 0 end`;

/** What a key's row holds that is still remembered: failures since `failuresBefore`, attempts in flight since `inFlightBefore`. */
export interface Forgetting {
  failuresBefore: Date;
  inFlightBefore: Date;
}

const inFlightStill = (inFlightBefore: Date) =>
  sql<number>`case when login_throttles.checking_at is null or login_throttles.checking_at < ${iso(inFlightBefore)} then 0 else login_throttles.checking end`;

/**
 * Reads each key's count, writing a row for a key new to it and forgetting what is old, in
 * one statement. Counts nothing: an attempt enters with enterThrottles.
 */
export async function readThrottleCounts(
  db: Executor,
  keys: readonly string[],
  now: Date,
  forget: Forgetting,
): Promise<Map<string, ThrottleCount>> {
  const rows = await db
    .insertInto('login_throttles')
    .values(freshRows(keys, now, 0))
    .onConflict((oc) =>
      oc.column('key').doUpdateSet({
        failures: sql<number>`case when login_throttles.last_failure_at < ${iso(forget.failuresBefore)} then 0 else login_throttles.failures end`,
        checking: inFlightStill(forget.inFlightBefore),
      }),
    )
    .returning(['key', 'failures', 'checking', 'blocked_until'])
    .execute();
  return new Map(
    rows.map((row) => [
      row.key,
      { failures: row.failures, checking: row.checking, blockedUntil: new Date(row.blocked_until) },
    ]),
  );
}

/**
 * An attempt enters each key as in flight, in one statement: a key in `enter` only while
 * its failures and attempts in flight leave room within its free allowance, a key in
 * `claims` only if its wait is over (and its next wait starts). Returns the keys it
 * entered; the caller gives them back unless it entered all.
 */
export async function enterThrottles(
  db: Executor,
  enter: readonly { key: string; freeFailures: number }[],
  claims: readonly { key: string; nextTryAt: Date }[],
  now: Date,
  inFlightBefore: Date,
): Promise<Set<string>> {
  const keys = [...enter.map(({ key }) => key), ...claims.map(({ key }) => key)];
  if (keys.length === 0) return new Set();
  const inFlight = inFlightStill(inFlightBefore);
  const roomIn = enter.map(
    ({ key, freeFailures }) =>
      sql<boolean>`(login_throttles.key = ${key} and login_throttles.failures + ${inFlight} < ${freeFailures})`,
  );
  const claimOf = claims.map(
    ({ key }) => sql<boolean>`(login_throttles.key = ${key} and login_throttles.blocked_until <= ${iso(now)})`,
  );
  const nextWait =
    claims.length === 0
      ? sql<string>`login_throttles.blocked_until`
      : sql<string>`case ${sql.join(
          claims.map(({ key, nextTryAt }) => sql`when login_throttles.key = ${key} then ${iso(nextTryAt)}`),
          sql` `,
        )} else login_throttles.blocked_until end`;
  const rows = await db
    .insertInto('login_throttles')
    .values(freshRows(keys, now, 1))
    .onConflict((oc) =>
      oc
        .column('key')
        .doUpdateSet({ checking: sql<number>`${inFlight} + 1`, checking_at: iso(now), blocked_until: nextWait })
        .where(sql<boolean>`${sql.join([...roomIn, ...claimOf], sql` or `)}`),
    )
    .returning('key')
    .execute();
  return new Set(rows.map((row) => row.key));
}

/** Writes the key's row without changing what it counts: the stand-in for an audit row. */
export async function touchThrottle(db: Executor, key: string, now: Date): Promise<void> {
  await db
    .updateTable('login_throttles')
    .set({ checking_at: iso(now) })
    .where('key', '=', key)
    .execute();
}

/** How an attempt counted in flight ended, for each of its keys. */
export interface ThrottleSettlement {
  /** A wrong password: one more failure. */
  failed: readonly string[];
  /** A right password for this account: its failures are forgotten. */
  cleared: readonly string[];
  /** Keys whose wait ends now (this attempt had claimed it, or the account's own keys on a right password). */
  waitEnded: readonly string[];
  /** Every key the attempt was counted against: each has one attempt fewer in flight. */
  all: readonly string[];
}

/** Settles an attempt counted in flight, in one statement (the rows exist: it was counted). */
export async function settleThrottleAttempt(db: Executor, settlement: ThrottleSettlement, now: Date): Promise<void> {
  const among = (keys: readonly string[]) =>
    keys.length === 0 ? sql<boolean>`false` : sql<boolean>`login_throttles.key in (${sql.join([...keys])})`;
  await db
    .insertInto('login_throttles')
    .values(freshRows(settlement.all, now, 0))
    .onConflict((oc) =>
      oc.column('key').doUpdateSet({
        failures: sql<number>`case when ${among(settlement.cleared)} then 0 when ${among(settlement.failed)} then login_throttles.failures + 1 else login_throttles.failures end`,
        last_failure_at: sql<string>`case when ${among(settlement.failed)} then ${iso(now)} else login_throttles.last_failure_at end`,
        blocked_until: sql<string>`case when ${among(settlement.waitEnded)} then ${iso(now)} else login_throttles.blocked_until end`,
        checking: ONE_LESS_IN_FLIGHT,
      }),
    )
    .execute();
}

/**
 * Deletes the rows no rule can still use: no failure since `forgetBefore` (counting would
 * start again from nothing), no wait still running and no attempt in flight. Returns how many.
 */
export async function deleteForgottenThrottles(
  db: Executor,
  forgetBefore: Date,
  now: Date,
  inFlightForgottenBefore: Date,
): Promise<number> {
  const result = await db
    .deleteFrom('login_throttles')
    .where('last_failure_at', '<', iso(forgetBefore))
    .where('blocked_until', '<=', iso(now))
    .where((eb) =>
      eb.or([
        eb('checking', '=', 0),
        eb('checking_at', 'is', null),
        eb('checking_at', '<', iso(inFlightForgottenBefore)),
      ]),
    )
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
