// Which sessions are still going: the same rule as the access guard's, for the sessions
// page and for deleting the ended ones.
import type { Session } from '../store/sessions.js';
import type { Tenant } from '../store/tenant.js';
import { addMinutes, type Deps } from './deps.js';

/** Signed-in sessions last used at or before this have ended for being idle. */
export function idleSinceAt(deps: Deps, now: Date): Date {
  return addMinutes(now, -deps.sessionLimits.idleMinutes);
}

/** The user's signed-in sessions that have not ended, newest first. */
export function liveSessionsOf(deps: Deps, tenant: Tenant, userId: string): Promise<Session[]> {
  const now = deps.now();
  return tenant.sessions.signedInOf(userId, now, idleSinceAt(deps, now));
}
