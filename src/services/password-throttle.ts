// Password attempts, slowed per account and address, per address, and per account (see
// domain/throttle.ts), in the database so every instance and every restart sees them.
//
// An attempt is counted before its password is checked, so simultaneous attempts are all
// seen; beyond a scope's free allowance only one attempt at a time may claim the next try,
// and only once the wait has passed. Attempts refused unchecked are taken back.
import { createHash } from 'node:crypto';
import { verifyPassword } from '../domain/passwords.js';
import { throttleDelay, THROTTLE_MEMORY_MS, THROTTLE_RULES, type ThrottleScope } from '../domain/throttle.js';
import { emailKey } from '../domain/users.js';
import {
  claimThrottleSlot,
  clearThrottlesTakingBackOne,
  countThrottleAttempts,
  deleteForgottenThrottles,
  releaseThrottleSlot,
  throttleBlockedUntil,
  touchThrottle,
  uncountThrottleAttempts,
} from '../store/throttles.js';
import { inOneCommit, type Executor } from '../store/db.js';
import type { Deps } from './deps.js';

export type ThrottleKeys = Record<ThrottleScope, string>;

const SCOPES: readonly ThrottleScope[] = ['account_and_address', 'address', 'account'];

export function passwordThrottleKeys(email: string, ip: string): ThrottleKeys {
  const hash = (text: string) => createHash('sha256').update(text).digest('hex');
  const account = emailKey(email);
  return {
    account_and_address: `pair:${hash(`${account}\n${ip}`)}`,
    address: `ip:${hash(ip)}`,
    account: `account:${hash(account)}`,
  };
}

type Admission = { admitted: true; claimed: ThrottleScope[] } | { admitted: false; until: Date };

async function admitAttempt(deps: Deps, keys: ThrottleKeys, now: Date): Promise<Admission> {
  const forgetBefore = new Date(now.getTime() - THROTTLE_MEMORY_MS);
  const all = SCOPES.map((scope) => keys[scope]);
  const counts = await countThrottleAttempts(deps.db, all, now, forgetBefore);
  const claimed: ThrottleScope[] = [];
  for (const scope of SCOPES) {
    const rule = THROTTLE_RULES[scope];
    const count = counts.get(keys[scope]);
    if (count === undefined) throw new Error(`the ${scope} throttle was not counted`);
    if (count.failures <= rule.freeFailures) continue;
    // A wait still running when the attempt was counted refuses it without a claim.
    const waiting = count.blockedUntil > now;
    const next = new Date(now.getTime() + throttleDelay(rule, count.failures));
    if (!waiting && (await claimThrottleSlot(deps.db, keys[scope], now, next))) {
      claimed.push(scope);
      continue;
    }
    const until = waiting ? count.blockedUntil : ((await throttleBlockedUntil(deps.db, keys[scope])) ?? now);
    await uncountThrottleAttempts(deps.db, all, now);
    for (const done of claimed) await releaseThrottleSlot(deps.db, keys[done], now);
    return { admitted: false, until };
  }
  return { admitted: true, claimed };
}

export type ThrottledPasswordCheck =
  { ok: true } | { ok: false; reason: 'wrong' } | { ok: false; reason: 'throttled'; until: Date };

/**
 * Every password check goes through here: sign-in, step-up and the current password on a
 * change. A throttled attempt is refused before the hash is looked at. A right password
 * clears the account's counters and takes back its attempt from the address's (which keep
 * counting failures, against spraying), in one commit with `whenRight`'s writes.
 * `storedHash` null (an unknown email) is checked against a decoy hash and always fails,
 * in the same time.
 */
export async function verifyPasswordThrottled(
  deps: Deps,
  email: string,
  ip: string,
  storedHash: string | null,
  password: string,
  whenRight?: (executor: Executor) => Promise<void>,
): Promise<ThrottledPasswordCheck> {
  const now = deps.now();
  const keys = passwordThrottleKeys(email, ip);
  const admission = await admitAttempt(deps, keys, now);
  if (!admission.admitted) return { ok: false, reason: 'throttled', until: admission.until };
  if (!(await verifyPassword(storedHash, password))) return { ok: false, reason: 'wrong' };
  const clear = (executor: Executor) =>
    clearThrottlesTakingBackOne(
      executor,
      [keys.account_and_address, keys.account],
      { key: keys.address, endItsWait: admission.claimed.includes('address') },
      now,
    );
  if (whenRight === undefined) await clear(deps.db);
  else {
    await inOneCommit(deps.db, async (executor) => {
      await clear(executor);
      await whenRight(executor);
    });
  }
  return { ok: true };
}

/**
 * The write an unknown email's refusal makes in place of the audit row a known account's
 * gets: it touches the account's counter, which exists (the attempt was counted).
 */
export async function noteUnknownAccountAttempt(deps: Deps, email: string, ip: string, now: Date): Promise<void> {
  await touchThrottle(deps.db, passwordThrottleKeys(email, ip).account, now);
}

/**
 * Housekeeping: a right password leaves its throttle rows at zero rather than deleting
 * them, so rows accumulate, one per account and address that signed in. Those whose last
 * attempt is older than the throttles remember, with no wait running, change nothing and
 * are deleted. Returns how many.
 */
export function forgetOldThrottles(deps: Deps): Promise<number> {
  const now = deps.now();
  return deleteForgottenThrottles(deps.db, new Date(now.getTime() - THROTTLE_MEMORY_MS), now);
}
