// What each instance deletes from time to time: rows no rule reads any more.
import { deleteExpiredPayloads } from '../store/oidc.js';
import { deleteEndedSessions } from '../store/sessions.js';
import { deleteExpiredChallenges } from '../store/webauthn-challenges.js';
import type { Deps } from './deps.js';
import { forgetOldThrottles } from './password-throttle.js';
import { sessionCutOffs } from './sessions.js';

/**
 * Deletes the sessions that ended without being presented again (expired, or idle too
 * long), the throttle rows nothing can use, the OpenID Connect provider's expired
 * codes, tokens and interactions, and security-key challenges never answered. All are already treated as absent: this only keeps the
 * tables from growing. Returns how many of each.
 */
export async function keepHouse(
  deps: Deps,
): Promise<{ sessions: number; throttles: number; applicationState: number; challenges: number }> {
  const now = deps.now();
  const sessions = await deleteEndedSessions(deps.db, sessionCutOffs(deps, now));
  const throttles = await forgetOldThrottles(deps);
  const applicationState = await deleteExpiredPayloads(deps.db, now);
  const challenges = await deleteExpiredChallenges(deps.db, now);
  return { sessions, throttles, applicationState, challenges };
}
