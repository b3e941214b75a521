// Step-up: adding or removing a device and changing the password need a password (and,
// for a person with a second factor, that too) given in the last 10 minutes in this session.
import type { SecondFactorMethod } from '../domain/devices.js';
import type { ClientInfo } from '../domain/audit.js';
import type { AllowedFactors } from '../domain/factor-policy.js';
import { verifyPassword } from '../domain/passwords.js';
import type { User } from '../domain/users.js';
import { inOneCommit } from '../store/db.js';
import type { Session } from '../store/sessions.js';
import { tenantInTransaction, type Tenant, type TenantInTransaction } from '../store/tenant.js';
import { audit } from './audit.js';
import { addMinutes, type Deps } from './deps.js';
import { admitPasswordAttempt, passwordWasRight, passwordWasWrong } from './password-throttle.js';
import {
  acceptSecondFactor,
  checkSecondFactor,
  factorsToSignInWith,
  recordWrongSecondFactor,
  reportWrongSecondFactor,
  secondFactorReplayed,
  secondFactorsOf,
  type SecondFactorProblem,
} from './second-factor.js';

export const STEP_UP_MINUTES = 10;

export function isRecentlyVerified(session: Session, now: Date): boolean {
  return session.verifiedAt !== null && addMinutes(session.verifiedAt, STEP_UP_MINUTES).getTime() > now.getTime();
}

export type StepUp =
  | { ok: true }
  | { ok: false; field: 'password'; problem: 'wrong' | 'throttled'; until?: Date }
  | { ok: false; field: 'code'; problem: SecondFactorProblem };

/**
 * Confirms who is at the keyboard: the password, then the second factor if the person has
 * one. The password's outcome is written in the commit of what follows it: the identity
 * confirmed with the factor accepted, or the wrong factor counted.
 */
export async function confirmIdentity(
  deps: Deps,
  tenant: Tenant,
  user: User,
  session: Session,
  allowed: AllowedFactors,
  input: { password: string; code: string },
  client: ClientInfo,
): Promise<StepUp> {
  const admitted = await admitPasswordAttempt(deps, user.email, client.ip);
  if (!admitted.ok) return { ok: false, field: 'password', problem: 'throttled', until: admitted.until };
  const { ticket } = admitted;
  const right = await verifyPassword(await tenant.users.passwordHashOf(user.id), input.password);
  const now = deps.now();
  const organisationId = tenant.organisationId;
  if (!right) {
    await inOneCommit(deps.db, async (trx) => {
      await passwordWasWrong(trx, ticket, now);
      await audit(tenantInTransaction(trx, organisationId), now, { actor: user, client }, 'login_failed', user, {
        reason: 'wrong_password',
        during: 'step_up',
      });
    });
    return { ok: false, field: 'password', problem: 'wrong' };
  }
  const confirmed = async (trx: TenantInTransaction, method: SecondFactorMethod | null) => {
    await trx.sessions.markVerified(session.id, now, method);
    const factors = method === null ? 'password' : 'password_and_code';
    await audit(trx, now, { actor: user, client }, 'identity_confirmed', user, { factors });
  };

  const factors = factorsToSignInWith(allowed, await secondFactorsOf(deps, tenant, user.id));
  if (factors.length === 0) {
    await inOneCommit(deps.db, async (trx) => {
      await passwordWasRight(trx, ticket, now);
      await confirmed(tenantInTransaction(trx, organisationId), null);
    });
    return { ok: true };
  }
  const check = await checkSecondFactor(deps, tenant, user, factors, input.code);
  switch (check.kind) {
    case 'refused':
      await passwordWasRight(deps.db, ticket, now);
      return { ok: false, field: 'code', problem: check.problem };
    case 'matched': {
      const accepted = await inOneCommit(deps.db, async (trx) => {
        await passwordWasRight(trx, ticket, now);
        const tenantInCommit = tenantInTransaction(trx, organisationId);
        if (!(await acceptSecondFactor(deps, tenantInCommit, check.matched, 'use', { actor: user, client })))
          return false;
        await confirmed(tenantInCommit, check.matched.method);
        return true;
      });
      if (accepted) {
        if (check.matched.factor.backup) deps.mailQueued?.();
        return { ok: true };
      }
      return { ok: false, field: 'code', problem: await secondFactorReplayed(tenant, check.matched) };
    }
    case 'wrong': {
      const recorded = await inOneCommit(deps.db, async (trx) => {
        await passwordWasRight(trx, ticket, now);
        return recordWrongSecondFactor(deps, tenantInTransaction(trx, organisationId), user, check, 'step_up', client);
      });
      reportWrongSecondFactor(deps, 'step_up', recorded.locked);
      if (recorded.locked) deps.mailQueued?.();
      return { ok: false, field: 'code', problem: recorded.problem };
    }
  }
}
