// Changing one's own password, and setting one through a one-time link.
import { hashPassword, passwordProblem, verifyPassword, type PasswordProblem } from '../domain/passwords.js';
import { inOneCommit } from '../store/db.js';
import { admitPasswordAttempt, passwordWasRight, passwordWasWrong } from './password-throttle.js';
import type { User } from '../domain/users.js';
import { findPasswordLink, type LinkPurpose } from '../store/password-links.js';
import { atomically, tenantFor, tenantInTransaction, type Tenant } from '../store/tenant.js';
import type { ClientInfo } from '../domain/audit.js';
import type { Session } from '../store/sessions.js';
import type { Deps } from './deps.js';
import { auditAndNotify } from './security-notices.js';

export type PasswordChange =
  | { ok: true; token: string }
  | { ok: false; field: 'password'; problem: PasswordProblem }
  | { ok: false; field: 'current'; problem: 'passwords_throttled' | 'current_password_wrong' };

/**
 * Ends every session of the user, this one included, and carries on in a new one (its
 * token is returned) with the same limits. 2FA stays as it is.
 */
export async function changeOwnPassword(
  deps: Deps,
  tenant: Tenant,
  user: User,
  session: Session,
  client: ClientInfo,
  input: { current: string; password: string; confirmation: string },
): Promise<PasswordChange> {
  const problem = passwordProblem(input.password, input.confirmation);
  if (problem !== null) return { ok: false, field: 'password', problem };
  const admitted = await admitPasswordAttempt(deps, user.email, client.ip);
  if (!admitted.ok) {
    return { ok: false, field: 'current', problem: 'passwords_throttled' };
  }
  const right = await verifyPassword(await tenant.users.passwordHashOf(user.id), input.current);
  if (!right) {
    await passwordWasWrong(deps.db, admitted.ticket, deps.now());
    return { ok: false, field: 'current', problem: 'current_password_wrong' };
  }
  const hash = await hashPassword(input.password);
  const now = deps.now();
  const token = await inOneCommit(deps.db, async (executor) => {
    await passwordWasRight(executor, admitted.ticket, now);
    const trx = tenantInTransaction(executor, tenant.organisationId);
    await trx.users.setPasswordHash(user.id, hash, now);
    await trx.sessions.deleteAllForUser(user.id);
    await auditAndNotify(deps, trx, now, { actor: user, client }, 'password_changed', user);
    return trx.sessions.create(user.id, 'signed_in', now, session.expiresAt, client, {
      verifiedAt: session.verifiedAt,
      secondFactorAt: session.secondFactorAt,
      secondFactorMethod: session.secondFactorMethod,
    });
  });
  deps.mailQueued?.();
  return { ok: true, token };
}

export type LinkState =
  { ok: true; user: User; purpose: LinkPurpose } | { ok: false; reason: 'unknown' | 'used' | 'expired' | 'inactive' };

export async function passwordLinkState(deps: Deps, token: string): Promise<LinkState> {
  const link = await findPasswordLink(deps.db, token);
  if (!link) return { ok: false, reason: 'unknown' };
  if (link.usedAt !== null) return { ok: false, reason: 'used' };
  if (link.expiresAt.getTime() <= deps.now().getTime()) return { ok: false, reason: 'expired' };
  const user = await tenantFor(deps.db, link.organisationId).users.findById(link.userId);
  if (!user) return { ok: false, reason: 'unknown' };
  if (user.status !== 'active') return { ok: false, reason: 'inactive' };
  return { ok: true, user, purpose: link.purpose };
}

export type SetPassword =
  | { ok: true; user: User }
  | { ok: false; problem: PasswordProblem }
  | { ok: false; link: Exclude<LinkState, { ok: true }>['reason'] };

/** Sets the password, spends the link and ends the user's sessions; never touches 2FA. */
export async function setPasswordWithLink(
  deps: Deps,
  token: string,
  password: string,
  confirmation: string,
  client: ClientInfo,
): Promise<SetPassword> {
  const state = await passwordLinkState(deps, token);
  if (!state.ok) return { ok: false, link: state.reason };
  const problem = passwordProblem(password, confirmation);
  if (problem !== null) return { ok: false, problem };
  const hash = await hashPassword(password);
  const now = deps.now();
  const spent = await atomically(deps.db, state.user.organisationId, async (trx) => {
    if (!(await trx.passwordLinks.consume(token, now))) return false;
    await trx.users.setPasswordHash(state.user.id, hash, now);
    await trx.sessions.deleteAllForUser(state.user.id);
    await auditAndNotify(deps, trx, now, { actor: state.user, client }, 'password_set_with_link', state.user, {
      purpose: state.purpose,
    });
    return true;
  });
  if (!spent) return { ok: false, link: 'used' };
  deps.mailQueued?.();
  return { ok: true, user: state.user };
}
