// Which sessions are still going: the same rule as the access guard's, for the sessions
// page and for deleting the ended ones.
import type { Session } from '../store/sessions.js';
import type { Tenant } from '../store/tenant.js';
import { sessionCutOffsAt, type SessionCutOffs } from '../domain/session-end.js';
import type { Deps } from './deps.js';

/** The cut-offs of domain/session-end.ts at `now`, for the configured idle limit. */
export function sessionCutOffs(deps: Deps, now: Date): SessionCutOffs {
  return sessionCutOffsAt(now, deps.sessionLimits.idleMinutes);
}

/** The user's signed-in sessions that have not ended, newest first. */
export function liveSessionsOf(deps: Deps, tenant: Tenant, userId: string): Promise<Session[]> {
  const now = deps.now();
  return tenant.sessions.signedInOf(userId, sessionCutOffs(deps, now));
}
