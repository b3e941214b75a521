// Step-up: adding or removing a device and changing the password need a password (and,
// for a user with a device, a code) given in the last 10 minutes in this session.
import type { ClientInfo } from '../domain/audit.js';
import type { User } from '../domain/users.js';
import type { Session } from '../store/sessions.js';
import { inOneCommit } from '../store/db.js';
import { tenantFor, type Tenant } from '../store/tenant.js';
import { audit } from './audit.js';
import { checkCode, type CodeProblem } from './codes.js';
import { addMinutes, type Deps } from './deps.js';
import { verifyPasswordThrottled } from './password-throttle.js';

export const STEP_UP_MINUTES = 10;

export function isRecentlyVerified(session: Session, now: Date): boolean {
  return session.verifiedAt !== null && addMinutes(session.verifiedAt, STEP_UP_MINUTES).getTime() > now.getTime();
}

export type StepUp =
  | { ok: true }
  | { ok: false; field: 'password'; problem: 'wrong' | 'throttled'; until?: Date }
  | { ok: false; field: 'code'; problem: CodeProblem };

export async function confirmIdentity(
  deps: Deps,
  tenant: Tenant,
  user: User,
  session: Session,
  input: { password: string; code: string },
  client: ClientInfo,
): Promise<StepUp> {
  const now = deps.now();
  const hash = await tenant.users.passwordHashOf(user.id);
  const check = await verifyPasswordThrottled(deps, user.email, client.ip, hash, input.password);
  if (!check.ok && check.reason === 'throttled')
    return { ok: false, field: 'password', problem: 'throttled', until: check.until };
  if (!check.ok) {
    await audit(tenant, now, { actor: user, client }, 'login_failed', user, {
      reason: 'wrong_password',
      during: 'step_up',
    });
    return { ok: false, field: 'password', problem: 'wrong' };
  }
  const candidates = await tenant.devices.confirmedWithSecrets(user.id);
  const confirm = async (trx: Tenant) => {
    await trx.sessions.markVerified(session.id, now);
    await audit(trx, now, { actor: user, client }, 'identity_confirmed', user, {
      factors: candidates.length > 0 ? 'password_and_code' : 'password',
    });
  };
  if (candidates.length === 0) {
    await inOneCommit(deps.db, (executor) => confirm(tenantFor(executor, tenant.organisationId)));
    return { ok: true };
  }
  // Confirmed in the same commit as the code's acceptance, as is the audit entry.
  const result = await checkCode(deps, tenant, user, candidates, input.code, 'step_up', client, confirm);
  return result.ok ? { ok: true } : { ok: false, field: 'code', problem: result };
}
