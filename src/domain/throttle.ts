// Password attempts are slowed, never locked out: after some free failures each further
// failure makes the next attempt wait longer, up to a ceiling. Three counters apply at
// once, so that an attacker cannot lock a victim out of their account:
// - per account and address: the tightest, slowing one attacker on one account;
// - per address: slowing one address spraying many accounts;
// - per account from anywhere: loose, with a one-minute ceiling, so that even a
//   distributed attack can make the owner wait at most a minute between tries.
// Failures are forgotten after a day without one; a right password clears the account's
// counters (not the address's). Attempts in flight are told apart from failures (see
// attempt-gate.ts), so that an office of people signing in at once from one address is
// not taken for one address guessing.

import { admissionOf, type AttemptCount, type AttemptRule } from './attempt-gate.js';

export const THROTTLE_SCOPES = ['account_and_address', 'address', 'account'] as const;
export type ThrottleScope = (typeof THROTTLE_SCOPES)[number];

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

/** Each scope's rule, for the attempt gate. */
export function attemptRuleOf(scope: ThrottleScope): AttemptRule {
  const rule = THROTTLE_RULES[scope];
  return { freeFailures: rule.freeFailures, delayAfter: (failures) => throttleDelay(rule, failures) };
}

export type PasswordAdmission =
  /** Enter every scope: with room in those listed in `enter`, by claiming the try of those in `claims`. */
  | { kind: 'enter'; enter: ThrottleScope[]; claims: { scope: ThrottleScope; nextTryAt: Date }[] }
  | { kind: 'wait' }
  | { kind: 'refuse'; until: Date };

/**
 * One password attempt against all three scopes at once: refused while any scope's wait
 * runs, waiting while any scope's allowance is taken by attempts in flight, and otherwise
 * checked once it has entered every scope (all or none).
 */
export function passwordAdmissionOf(counts: Record<ThrottleScope, AttemptCount>, now: Date): PasswordAdmission {
  const admissions = THROTTLE_SCOPES.map((scope) => ({
    scope,
    admission: admissionOf(attemptRuleOf(scope), counts[scope], now),
  }));
  const refusals = admissions.flatMap(({ admission }) => (admission.kind === 'refuse' ? [admission.until] : []));
  if (refusals.length > 0) return { kind: 'refuse', until: new Date(Math.max(...refusals.map((d) => d.getTime()))) };
  if (admissions.some(({ admission }) => admission.kind === 'wait')) return { kind: 'wait' };
  return {
    kind: 'enter',
    enter: admissions.flatMap(({ scope, admission }) => (admission.kind === 'enter' ? [scope] : [])),
    claims: admissions.flatMap(({ scope, admission }) =>
      admission.kind === 'claim' ? [{ scope, nextTryAt: admission.nextTryAt }] : [],
    ),
  };
}
