// Password attempts, slowed per account and address, per address, and per account (see
// domain/throttle.ts and domain/attempt-gate.ts), in the database so every instance and
// every restart sees them.
//
// An attempt is admitted before its password is checked: counted in flight, so that
// simultaneous attempts all see each other; past a scope's free allowance only one attempt
// at a time may claim the next try, once the wait has passed; and an attempt whose
// allowance is taken only by attempts still in flight waits for their outcome. Its outcome
// is then written by the use case that checked it, in that use case's own commit.
import { createHash } from 'node:crypto';
import {
  IN_FLIGHT_FORGOTTEN_AFTER_MS,
  LONGEST_WAIT_FOR_IN_FLIGHT_MS,
  pauseBeforeLookingAgain,
} from '../domain/attempt-gate.js';
import {
  passwordAdmissionOf,
  THROTTLE_MEMORY_MS,
  THROTTLE_RULES,
  THROTTLE_SCOPES,
  type ThrottleScope,
} from '../domain/throttle.js';
import { emailKey } from '../domain/users.js';
import {
  deleteForgottenThrottles,
  enterThrottles,
  readThrottleCounts,
  settleThrottleAttempt,
  touchThrottle,
} from '../store/throttles.js';
import type { Executor } from '../store/db.js';
import type { Deps } from './deps.js';

export type ThrottleKeys = Record<ThrottleScope, string>;

export function passwordThrottleKeys(email: string, ip: string): ThrottleKeys {
  const hash = (text: string) => createHash('sha256').update(text).digest('hex');
  const account = emailKey(email);
  return {
    account_and_address: `pair:${hash(`${account}\n${ip}`)}`,
    address: `ip:${hash(ip)}`,
    account: `account:${hash(account)}`,
  };
}

/** An attempt admitted and in flight: settle it with passwordWasRight or passwordWasWrong. */
export interface PasswordTicket {
  keys: ThrottleKeys;
  /** The scopes whose one try this attempt claimed. */
  claimed: ThrottleScope[];
}

export type PasswordAdmitted = { ok: true; ticket: PasswordTicket } | { ok: false; until: Date };

const allKeys = (keys: ThrottleKeys) => THROTTLE_SCOPES.map((scope) => keys[scope]);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Admits one password attempt, or refuses it until the wait that runs. An attempt that must
 * wait for the outcome of those in flight looks again after a short pause, for at most
 * LONGEST_WAIT_FOR_IN_FLIGHT_MS, and is then refused for a second. Waiting attempts write
 * nothing: only one that finds room enters, so many waiting do not crowd each other out.
 */
export async function admitPasswordAttempt(deps: Deps, email: string, ip: string): Promise<PasswordAdmitted> {
  const keys = passwordThrottleKeys(email, ip);
  const started = Date.now();
  // Most attempts find room in every scope: one statement enters them, with no read first.
  const first = deps.now();
  const entered = await enterThrottles(
    deps.db,
    THROTTLE_SCOPES.map((scope) => ({ key: keys[scope], freeFailures: THROTTLE_RULES[scope].freeFailures })),
    [],
    first,
    new Date(first.getTime() - IN_FLIGHT_FORGOTTEN_AFTER_MS),
  );
  if (entered.size === THROTTLE_SCOPES.length) return { ok: true, ticket: { keys, claimed: [] } };
  if (entered.size > 0) await giveBack(deps, [...entered], [], first);
  for (;;) {
    const now = deps.now();
    const inFlightBefore = new Date(now.getTime() - IN_FLIGHT_FORGOTTEN_AFTER_MS);
    const counted = await readThrottleCounts(deps.db, allKeys(keys), now, {
      failuresBefore: new Date(now.getTime() - THROTTLE_MEMORY_MS),
      inFlightBefore,
    });
    const countOf = (scope: ThrottleScope) => {
      const count = counted.get(keys[scope]);
      if (count === undefined) throw new Error(`the ${scope} throttle was not read`);
      return { failures: count.failures, inFlight: count.checking, nextTryAt: count.blockedUntil };
    };
    const admission = passwordAdmissionOf(
      { account_and_address: countOf('account_and_address'), address: countOf('address'), account: countOf('account') },
      now,
    );
    if (admission.kind === 'refuse') return { ok: false, until: admission.until };
    if (admission.kind === 'enter') {
      const entered = await enterThrottles(
        deps.db,
        admission.enter.map((scope) => ({ key: keys[scope], freeFailures: THROTTLE_RULES[scope].freeFailures })),
        admission.claims.map(({ scope, nextTryAt }) => ({ key: keys[scope], nextTryAt })),
        now,
        inFlightBefore,
      );
      const claimed = admission.claims.map(({ scope }) => scope);
      if (entered.size === THROTTLE_SCOPES.length) return { ok: true, ticket: { keys, claimed } };
      // Another attempt took the room or the try first: give back what was entered, and look again.
      if (entered.size > 0) {
        const claimedKeys = claimed.map((scope) => keys[scope]).filter((key) => entered.has(key));
        await giveBack(deps, [...entered], claimedKeys, now);
      }
      continue;
    }
    if (Date.now() - started > LONGEST_WAIT_FOR_IN_FLIGHT_MS)
      return { ok: false, until: new Date(now.getTime() + 1000) };
    await sleep(pauseBeforeLookingAgain(Math.random()));
  }
}

/** Gives back the keys an attempt entered but cannot use, with the tries it claimed among them. */
function giveBack(deps: Deps, entered: string[], claimed: string[], now: Date): Promise<void> {
  return settleThrottleAttempt(deps.db, { all: entered, failed: [], cleared: [], waitEnded: claimed }, now);
}

/**
 * A right password: the account's counters start again from nothing and their waits end;
 * the address keeps its failures (against spraying), and its wait ends only if this
 * attempt had claimed it. Written in the commit of what the right password leads to.
 */
export function passwordWasRight(executor: Executor, ticket: PasswordTicket, now: Date): Promise<void> {
  const own = [ticket.keys.account_and_address, ticket.keys.account];
  return settleThrottleAttempt(
    executor,
    {
      all: allKeys(ticket.keys),
      cleared: own,
      failed: [],
      waitEnded: ticket.claimed.includes('address') ? [...own, ticket.keys.address] : own,
    },
    now,
  );
}

/** A wrong password (or an unknown email): one more failure against every scope. */
export function passwordWasWrong(executor: Executor, ticket: PasswordTicket, now: Date): Promise<void> {
  const all = allKeys(ticket.keys);
  return settleThrottleAttempt(executor, { all, cleared: [], failed: all, waitEnded: [] }, now);
}

/**
 * The write an unknown email's refusal makes in place of the audit row a known account's
 * gets, so that both take as long: it touches the account's counter, which exists (the
 * attempt was counted).
 */
export async function noteUnknownAccountAttempt(
  executor: Executor,
  email: string,
  ip: string,
  now: Date,
): Promise<void> {
  await touchThrottle(executor, passwordThrottleKeys(email, ip).account, now);
}

/**
 * Housekeeping: a right password leaves its throttle rows at zero rather than deleting
 * them, so rows accumulate, one per account and address that signed in. Those whose last
 * attempt is older than the throttles remember, with no wait running and nothing in
 * flight, change nothing and are deleted. Returns how many.
 */
export function forgetOldThrottles(deps: Deps): Promise<number> {
  const now = deps.now();
  return deleteForgottenThrottles(
    deps.db,
    new Date(now.getTime() - THROTTLE_MEMORY_MS),
    now,
    new Date(now.getTime() - IN_FLIGHT_FORGOTTEN_AFTER_MS),
  );
}
