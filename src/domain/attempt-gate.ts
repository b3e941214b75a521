// Slowing guessers without slowing people, for passwords and second factors alike: a few
// free failures, then one attempt at a time, each after a growing wait.
//
// An attempt enters as in flight before it is checked, so that attempts sent at the same
// moment all see each other. The free allowance is shared by the failures so far and the
// attempts in flight: an attempt enters only while there is room, in one conditional write.
// Past the allowance, an attempt whose room is taken only by attempts still in flight
// waits for their outcome (right ones give their place back), so that many right
// passwords from one office, or copies of one right code, all go through, while a burst
// of guesses is checked no faster than one by one.

export interface AttemptRule {
  /** Wrong attempts in a row that cost no wait. */
  freeFailures: number;
  /** The wait after the `failures`-th wrong attempt in a row, in ms (0 within the allowance). */
  delayAfter(failures: number): number;
}

export interface AttemptCount {
  /** Wrong attempts in a row, checked. */
  failures: number;
  /** Attempts being checked now (not this one). */
  inFlight: number;
  /** Before this moment, no attempt past the allowance is checked. */
  nextTryAt: Date | null;
}

export type Admission =
  /** Within the free allowance: enter, if there is still room when it writes so, and be checked. */
  | { kind: 'enter' }
  /** Past it, and the wait is over: check it if it claims the one try first, which sets the next wait. */
  | { kind: 'claim'; nextTryAt: Date }
  /** The allowance is taken by attempts in flight: try again once their outcome is known. */
  | { kind: 'wait' }
  /** A wait is running. */
  | { kind: 'refuse'; until: Date };

export function admissionOf(rule: AttemptRule, count: AttemptCount, now: Date): Admission {
  if (hasRoomFor(rule, count)) return { kind: 'enter' };
  if (count.failures < rule.freeFailures) return { kind: 'wait' };
  if (count.nextTryAt !== null && count.nextTryAt.getTime() > now.getTime()) {
    return { kind: 'refuse', until: count.nextTryAt };
  }
  return { kind: 'claim', nextTryAt: new Date(now.getTime() + rule.delayAfter(count.failures + 1)) };
}

/** Whether one more attempt fits in the free allowance (the store's conditional write says the same). */
export function hasRoomFor(rule: AttemptRule, count: AttemptCount): boolean {
  return count.failures + count.inFlight < rule.freeFailures;
}

/**
 * An attempt in flight longer than this was cut off (a crash, a lost connection): its
 * count is forgotten at the next attempt after it. No check takes nearly as long.
 */
export const IN_FLIGHT_FORGOTTEN_AFTER_MS = 60_000;

/** How long an attempt waits for those in flight before it is refused, and how often it looks again. */
export const LONGEST_WAIT_FOR_IN_FLIGHT_MS = 10_000;

/** The pause before looking again: short, and spread so that waiting attempts do not move in step. */
export function pauseBeforeLookingAgain(random: number): number {
  return 5 + Math.floor(random * 20);
}
