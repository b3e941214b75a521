// Security events a user is told about at their next sign-in: a new or removed device,
// a reset, a lock.
import { NOTICE_ACTIONS, type RecordedAuditEvent } from '../domain/audit.js';
import type { User } from '../domain/users.js';
import type { Tenant } from '../store/tenant.js';
import type { Deps } from './deps.js';

/** The events since the user last saw their notices; from now on they count as seen. */
export async function takeNotices(deps: Deps, tenant: Tenant, user: User): Promise<RecordedAuditEvent[]> {
  const since = await tenant.users.noticesSeenAt(user.id);
  const events = await tenant.audit.aboutUserSince(user.id, NOTICE_ACTIONS, since ?? user.createdAt);
  if (events.length > 0) await tenant.users.markNoticesSeen(user.id, deps.now());
  return events;
}
