// Password attempts are slowed, never locked out: after some free failures each further
// failure makes the next attempt wait longer, up to a ceiling. Three counters apply at
// once, so that an attacker cannot lock a victim out of their account:
// - per account and address: the tightest, slowing one attacker on one account;
// - per address: slowing one address spraying many accounts;
// - per account from anywhere: loose, with a one-minute ceiling, so that even a
//   distributed attack can make the owner wait at most a minute between tries.
// Failures are forgotten after a day without one; a right password clears the account's
// counters (not the address's).

export type ThrottleScope = 'account_and_address' | 'address' | 'account';

export interface ThrottleRule {
  freeFailures: number;
  longestDelayMs: number;
}

export const THROTTLE_RULES: Record<ThrottleScope, ThrottleRule> = {
  account_and_address: { freeFailures: 5, longestDelayMs: 15 * 60_000 },
  address: { freeFailures: 20, longestDelayMs: 15 * 60_000 },
  account: { freeFailures: 50, longestDelayMs: 60_000 },
};

/** A day without failures forgets them. */
export const THROTTLE_MEMORY_MS = 24 * 60 * 60_000;

export function throttleDelay(rule: ThrottleRule, failures: number): number {
  if (failures <= rule.freeFailures) return 0;
  return Math.min(rule.longestDelayMs, 1000 * 2 ** (failures - rule.freeFailures - 1));
}
