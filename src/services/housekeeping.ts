// What each instance deletes from time to time: rows no rule reads any more, and email the
// outbox is done with.
import { setImmediate as yieldToOthers } from 'node:timers/promises';
import { FAILED_MAIL_KEPT_DAYS, SENT_MAIL_KEPT_DAYS } from '../domain/mail.js';
import { deleteMailDoneWith } from '../store/mail-outbox.js';
import { deleteExpiredPayloads } from '../store/oidc.js';
import { deletePasswordRequestsBefore } from '../store/password-requests.js';
import { deleteEndedSessions } from '../store/sessions.js';
import { deleteExpiredChallenges } from '../store/webauthn-challenges.js';
import { addMinutes, type Deps } from './deps.js';
import { PASSWORD_REQUEST_WINDOW_MINUTES } from '../domain/password-requests.js';
import { forgetOldThrottles } from './password-throttle.js';
import { sessionCutOffs } from './sessions.js';

/**
 * Messages deleted per statement. A week after a reminder run over 100,000 people there
 * are 100,000 sent messages to delete: in one statement SQLite (in memory) took about
 * 270 ms for 93,500 of them, holding the event loop (its driver is synchronous) and the one
 * writer; 500 took about a millisecond, and other work runs between statements.
 */
export const MAIL_DELETED_PER_STATEMENT = 500;

const DAY_MINUTES = 24 * 60;

/** Sent email a week after it was sent, failed email 30 days after its last try (see domain/mail.ts). */
async function deleteMailDoneWithLongAgo(deps: Deps, now: Date): Promise<number> {
  let deleted = 0;
  for (const [state, days] of [
    ['sent', SENT_MAIL_KEPT_DAYS],
    ['failed', FAILED_MAIL_KEPT_DAYS],
  ] as const) {
    const before = addMinutes(now, -days * DAY_MINUTES);
    for (;;) {
      const batch = await deleteMailDoneWith(deps.db, state, before, MAIL_DELETED_PER_STATEMENT);
      deleted += batch;
      if (batch < MAIL_DELETED_PER_STATEMENT) break;
      await yieldToOthers();
    }
  }
  return deleted;
}

/**
 * Deletes the sessions that ended without being presented again (expired, or idle too
 * long), the throttle rows nothing can use, the OpenID Connect provider's expired
 * codes, tokens and interactions, security-key challenges never answered, and requests for
 * a forgotten-password link older than their limits look back. All are already treated as
 * absent: this only keeps the tables from growing. Then the email the outbox is done with:
 * sent a week ago, or failed 30 days ago (no longer offered to send again). Pending
 * messages and those being sent stay, however old. Returns how many of each.
 */
export async function keepHouse(deps: Deps): Promise<{
  sessions: number;
  throttles: number;
  applicationState: number;
  challenges: number;
  passwordRequests: number;
  mail: number;
}> {
  const now = deps.now();
  const sessions = await deleteEndedSessions(deps.db, sessionCutOffs(deps, now));
  const throttles = await forgetOldThrottles(deps);
  const applicationState = await deleteExpiredPayloads(deps.db, now);
  const challenges = await deleteExpiredChallenges(deps.db, now);
  const passwordRequests = await deletePasswordRequestsBefore(
    deps.db,
    addMinutes(now, -PASSWORD_REQUEST_WINDOW_MINUTES),
  );
  const mail = await deleteMailDoneWithLongAgo(deps, now);
  return { sessions, throttles, applicationState, challenges, passwordRequests, mail };
}
