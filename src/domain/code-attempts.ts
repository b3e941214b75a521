// Brute-force protection for the second factor. Wrong codes are counted per user, on
// every path that takes a code, across logins, sessions and addresses. Growing delays
// slow guessing (see attempt-gate.ts); every 10th failure in a row locks the second factor
// for a cool-down that doubles each time (15 minutes up to a day), until a success or an
// admin unlock. None of it knows which second factor is given.
import type { AttemptRule } from './attempt-gate.js';

export const LOCK_EVERY_FAILURES = 10;
const FIRST_LOCK_MS = 15 * 60_000;
const LONGEST_LOCK_MS = 24 * 60 * 60_000;
const FREE_FAILURES = 2;
const LONGEST_DELAY_MS = 60_000;

export interface CodeAttempts {
  /** Wrong codes in a row since the last accepted one. */
  failures: number;
  lastFailureAt: Date | null;
  lockedUntil: Date | null;
  /** No code is checked before this moment. */
  nextTryAt: Date | null;
}

export type CodeGate = { open: true } | { open: false; reason: 'locked' | 'slow_down'; until: Date };

/** Pause owed after `failures` wrong codes in a row: none for the first two, then 2 s doubling to a minute. */
export function delayAfterFailures(failures: number): number {
  if (failures <= FREE_FAILURES) return 0;
  return Math.min(LONGEST_DELAY_MS, 1000 * 2 ** (failures - FREE_FAILURES));
}

/** Cool-down of the k-th lock in a streak (k = failures / 10). */
export function lockDurationAfterFailures(failures: number): number {
  const k = Math.floor(failures / LOCK_EVERY_FAILURES);
  return Math.min(LONGEST_LOCK_MS, FIRST_LOCK_MS * 2 ** Math.max(0, k - 1));
}

/** May a code be checked now? Checked before the code is, so a locked factor reveals nothing. */
export function codeGate(attempts: CodeAttempts, now: Date): CodeGate {
  if (attempts.lockedUntil !== null && now.getTime() < attempts.lockedUntil.getTime()) {
    return { open: false, reason: 'locked', until: attempts.lockedUntil };
  }
  if (attempts.nextTryAt !== null && now.getTime() < attempts.nextTryAt.getTime()) {
    return { open: false, reason: 'slow_down', until: attempts.nextTryAt };
  }
  return { open: true };
}

/** The gate's rule for second factors: two free wrong codes, then a wait of 2 s doubling to a minute. */
export const SECOND_FACTOR_RULE: AttemptRule = { freeFailures: FREE_FAILURES, delayAfter: delayAfterFailures };

/** The lock a new failure count brings, if it is a multiple of ten. */
export function lockAfter(failures: number, now: Date): Date | null {
  if (failures === 0 || failures % LOCK_EVERY_FAILURES !== 0) return null;
  return new Date(now.getTime() + lockDurationAfterFailures(failures));
}

/**
 * The most codes an attacker who knows the password can try in `days`, under this policy,
 * trying each the moment it is allowed, and the chance one of them is right (each guess
 * matches one of the 3 codes valid in the window out of 10^6).
 */
export function guessingOdds(days: number): { attempts: number; chance: number } {
  const horizon = days * 24 * 60 * 60_000;
  let elapsed = 0;
  let failures = 0;
  while (true) {
    const wait =
      failures > 0 && failures % LOCK_EVERY_FAILURES === 0
        ? lockDurationAfterFailures(failures)
        : delayAfterFailures(failures);
    if (elapsed + wait > horizon) break;
    elapsed += wait;
    failures += 1;
  }
  return { attempts: failures, chance: 1 - (1 - 3 / 1_000_000) ** failures };
}
