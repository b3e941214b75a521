// Signing in: the password step, then the code or the setup the user's 2FA state asks for.
import { afterPasswordStep } from '../domain/enforcement.js';
import { verifyPassword } from '../domain/passwords.js';
import { emailKey, type User } from '../domain/users.js';
import { findLoginByEmail } from '../store/users.js';
import { tenantFor } from '../store/tenant.js';
import type { Session, SessionStage } from '../store/sessions.js';
import { checkCode } from './codes.js';
import { addMinutes, type Deps } from './deps.js';
import { twoFactorStatusFor } from './two-factor-state.js';

/** Wrong codes one pending login may take before it must start over. */
export const MAX_CODE_FAILURES_PER_LOGIN = 5;

export type PasswordStep =
  | { kind: 'refused'; reason: 'wrong_credentials' | 'inactive' | 'blocked' }
  | { kind: 'pending'; token: string; stage: Exclude<SessionStage, 'signed_in'> }
  | { kind: 'signed_in'; token: string };

export async function signInWithPassword(deps: Deps, email: string, password: string): Promise<PasswordStep> {
  const found = await findLoginByEmail(deps.db, emailKey(email));
  // The hash is verified (or a decoy one) whether or not the email exists: same answer, same time.
  const passwordOk = await verifyPassword(found?.passwordHash ?? null, password);
  if (!found || !passwordOk) return { kind: 'refused', reason: 'wrong_credentials' };
  const { user } = found;
  if (user.status !== 'active') return { kind: 'refused', reason: 'inactive' };

  const tenant = tenantFor(deps.db, user.organisationId);
  const organisation = await tenant.organisation.get();
  const now = deps.now();
  const status = await twoFactorStatusFor(tenant, organisation, user, now);
  switch (afterPasswordStep(status)) {
    case 'refuse':
      return { kind: 'refused', reason: 'blocked' };
    case 'ask_for_code':
      return pending(deps, user, 'code', now);
    case 'require_setup':
      return pending(deps, user, 'setup', now);
    case 'sign_in':
    case 'sign_in_with_reminder':
      return { kind: 'signed_in', token: await startSignedInSession(deps, user, now) };
  }
}

async function pending(deps: Deps, user: User, stage: 'code' | 'setup', now: Date): Promise<PasswordStep> {
  const tenant = tenantFor(deps.db, user.organisationId);
  const token = await tenant.sessions.create(user.id, stage, now, addMinutes(now, deps.sessionLimits.pendingMinutes));
  return { kind: 'pending', token, stage };
}

export function startSignedInSession(deps: Deps, user: User, now: Date): Promise<string> {
  const tenant = tenantFor(deps.db, user.organisationId);
  return tenant.sessions.create(user.id, 'signed_in', now, addMinutes(now, deps.sessionLimits.absoluteHours * 60));
}

/** Ends the pending session and starts a signed-in one under a new id. */
export async function completeLogin(deps: Deps, session: Session, user: User): Promise<string> {
  const tenant = tenantFor(deps.db, session.organisationId);
  await tenant.sessions.delete(session.id);
  return startSignedInSession(deps, user, deps.now());
}

export type CodeStep =
  | { kind: 'signed_in'; token: string }
  | { kind: 'retry'; reason: 'malformed' | 'wrong' | 'expired' | 'replayed'; attemptsLeft: number }
  | { kind: 'start_over' };

export async function submitLoginCode(deps: Deps, session: Session, user: User, input: string): Promise<CodeStep> {
  const tenant = tenantFor(deps.db, session.organisationId);
  const now = deps.now();
  const candidates = await tenant.devices.confirmedWithSecrets(user.id);
  const result = await checkCode(tenant, deps.secretKey, user.id, candidates, input, now);
  if (result.ok) return { kind: 'signed_in', token: await completeLogin(deps, session, user) };
  if (result.reason === 'malformed') {
    return { kind: 'retry', reason: 'malformed', attemptsLeft: MAX_CODE_FAILURES_PER_LOGIN - session.codeFailures };
  }
  await tenant.devices.recordWrongCode(user.id);
  const failures = await tenant.sessions.recordCodeFailure(session.id);
  if (failures >= MAX_CODE_FAILURES_PER_LOGIN) {
    await tenant.sessions.delete(session.id);
    return { kind: 'start_over' };
  }
  return { kind: 'retry', reason: result.reason, attemptsLeft: MAX_CODE_FAILURES_PER_LOGIN - failures };
}

export async function signOut(deps: Deps, session: Session): Promise<void> {
  await tenantFor(deps.db, session.organisationId).sessions.delete(session.id);
}
