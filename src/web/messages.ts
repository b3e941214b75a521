// Every sentence a person reads about the outcome of what they did, keyed by the outcome
// codes the services return. Whole sentences only, each with its variables named, so that
// a second language is one more table, never sentences assembled from fragments.
import type { SecondFactorProblem } from '../services/second-factor.js';

/** What to show for a second factor that was not accepted; `when` writes a moment in the reader's zone. */
export function secondFactorProblemMessage(problem: SecondFactorProblem, when: (at: Date) => string): string {
  switch (problem.reason) {
    case 'malformed':
      return 'Enter the 6-digit code from your authenticator app (digits only).';
    case 'wrong':
      return 'That code is not right. Check you are reading the entry for this account and try the code your app shows now.';
    case 'expired':
      return 'That code has expired. Enter the new code your app shows now.';
    case 'replayed':
      return 'That code has already been used. Wait for your app to show the next code and enter it.';
    case 'slow_down':
      return `Too many wrong codes in a row. Wait until ${when(problem.until)} before trying again.`;
    case 'locked':
      return `Too many wrong codes in a row: your second factor is locked until ${when(problem.until)}. An administrator can unlock it sooner.`;
  }
}
