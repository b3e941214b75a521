// What each instance deletes from time to time: rows no rule reads any more.
import { deleteExpiredPayloads } from '../store/oidc.js';
import { deletePasswordRequestsBefore } from '../store/password-requests.js';
import { deleteEndedSessions } from '../store/sessions.js';
import { deleteExpiredChallenges } from '../store/webauthn-challenges.js';
import { addMinutes, type Deps } from './deps.js';
import { PASSWORD_REQUEST_WINDOW_MINUTES } from '../domain/password-requests.js';
import { forgetOldThrottles } from './password-throttle.js';
import { sessionCutOffs } from './sessions.js';

/**
 * Deletes the sessions that ended without being presented again (expired, or idle too
 * long), the throttle rows nothing can use, the OpenID Connect provider's expired
 * codes, tokens and interactions, security-key challenges never answered, and requests for
 * a forgotten-password link older than their limits look back. All are already treated as absent: this only keeps the
 * tables from growing. Returns how many of each.
 */
export async function keepHouse(deps: Deps): Promise<{
  sessions: number;
  throttles: number;
  applicationState: number;
  challenges: number;
  passwordRequests: number;
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
  return { sessions, throttles, applicationState, challenges, passwordRequests };
}
