// Signing in: the password step (throttled), then the code or the setup the user's 2FA
// state asks for.
import type { ClientInfo } from '../domain/audit.js';
import { afterPasswordStep } from '../domain/enforcement.js';
import { emailKey, type User } from '../domain/users.js';
import { noteUnknownAccountAttempt, verifyPasswordThrottled } from './password-throttle.js';
import type { Session, SessionStage } from '../store/sessions.js';
import { tenantFor } from '../store/tenant.js';
import { findLoginByEmail } from '../store/users.js';
import { audit } from './audit.js';
import { checkCode, type CodeProblem } from './codes.js';
import { addMinutes, type Deps } from './deps.js';
import { twoFactorStatusFor } from './two-factor-state.js';

/** Wrong codes one pending login may take before it must start over. */
export const MAX_CODE_FAILURES_PER_LOGIN = 5;

export type PasswordStep =
  | { kind: 'refused'; reason: 'wrong_credentials' | 'inactive' | 'blocked' }
  | { kind: 'throttled'; until: Date }
  | { kind: 'pending'; token: string; stage: Exclude<SessionStage, 'signed_in'> }
  | { kind: 'signed_in'; token: string };

/**
 * Known and unknown emails take the same path, the same queries and (with the decoy
 * hash) the same time, and get the same answer.
 */
export async function signInWithPassword(
  deps: Deps,
  email: string,
  password: string,
  client: ClientInfo,
): Promise<PasswordStep> {
  const now = deps.now();
  const found = await findLoginByEmail(deps.db, emailKey(email));
  const check = await verifyPasswordThrottled(deps, email, client.ip, found?.passwordHash ?? null, password);
  if (!check.ok) {
    const reason = check.reason === 'throttled' ? 'throttled' : 'wrong_password';
    // One write either way (the audit row, or its stand-in), so that the answer for an
    // unknown email takes as long as for a known one, on a database that flushes commits.
    if (found) {
      const tenant = tenantFor(deps.db, found.user.organisationId);
      await audit(tenant, now, { actor: null, client }, 'login_failed', found.user, { reason });
    } else await noteUnknownAccountAttempt(deps, email, client.ip, now);
    deps.events?.loginOutcome(check.reason === 'throttled' ? 'throttled' : 'refused_password');
    return check.reason === 'throttled'
      ? { kind: 'throttled', until: check.until }
      : { kind: 'refused', reason: 'wrong_credentials' };
  }
  if (!found) throw new Error('a password matched no account');
  const { user } = found;
  const tenant = tenantFor(deps.db, user.organisationId);
  const context = { actor: null, client };
  if (user.status !== 'active') {
    await audit(tenant, now, context, 'login_failed', user, { reason: 'inactive' });
    deps.events?.loginOutcome('refused_inactive');
    return { kind: 'refused', reason: 'inactive' };
  }
  const organisation = await tenant.organisation.get();
  const status = await twoFactorStatusFor(tenant, organisation, user, now);
  switch (afterPasswordStep(status)) {
    case 'refuse':
      await audit(tenant, now, context, 'login_failed', user, { reason: 'missed_2fa_deadline' });
      deps.events?.loginOutcome('refused_blocked');
      return { kind: 'refused', reason: 'blocked' };
    case 'ask_for_code':
      return pending(deps, user, 'code', now, client);
    case 'require_setup':
      return pending(deps, user, 'setup', now, client);
    case 'sign_in':
    case 'sign_in_with_reminder':
      await audit(tenant, now, { actor: user, client }, 'login_succeeded', user, { factors: 'password' });
      deps.events?.loginOutcome('signed_in');
      return { kind: 'signed_in', token: await startSignedInSession(deps, user, now, client) };
  }
}

async function pending(
  deps: Deps,
  user: User,
  stage: 'code' | 'setup',
  now: Date,
  client: ClientInfo,
): Promise<PasswordStep> {
  const tenant = tenantFor(deps.db, user.organisationId);
  const token = await tenant.sessions.create(
    user.id,
    stage,
    now,
    addMinutes(now, deps.sessionLimits.pendingMinutes),
    client,
    null,
  );
  deps.events?.loginOutcome(stage === 'code' ? 'code_needed' : 'setup_needed');
  return { kind: 'pending', token, stage };
}

/** A signed-in session; its sign-in counts as a confirmation of identity for step-up. */
function startSignedInSession(deps: Deps, user: User, now: Date, client: ClientInfo): Promise<string> {
  const tenant = tenantFor(deps.db, user.organisationId);
  const expiresAt = addMinutes(now, deps.sessionLimits.absoluteHours * 60);
  return tenant.sessions.create(user.id, 'signed_in', now, expiresAt, client, now);
}

/** Ends the pending session and starts a signed-in one under a new id. */
export async function completeLogin(
  deps: Deps,
  session: Session,
  user: User,
  client: ClientInfo,
  factors: 'password_and_code' | 'password_and_new_device',
): Promise<string> {
  const tenant = tenantFor(deps.db, session.organisationId);
  const now = deps.now();
  await tenant.sessions.delete(session.id);
  await audit(tenant, now, { actor: user, client }, 'login_succeeded', user, { factors });
  deps.events?.loginOutcome(factors === 'password_and_code' ? 'completed_with_code' : 'completed_with_new_device');
  return startSignedInSession(deps, user, now, client);
}

export type CodeStep =
  | { kind: 'signed_in'; token: string }
  | { kind: 'retry'; problem: CodeProblem; attemptsLeft: number }
  | { kind: 'start_over' };

export async function submitLoginCode(
  deps: Deps,
  session: Session,
  user: User,
  input: string,
  client: ClientInfo,
): Promise<CodeStep> {
  const tenant = tenantFor(deps.db, session.organisationId);
  const candidates = await tenant.devices.confirmedWithSecrets(user.id);
  const result = await checkCode(deps, tenant, user, candidates, input, 'login', client);
  if (result.ok)
    return { kind: 'signed_in', token: await completeLogin(deps, session, user, client, 'password_and_code') };
  const attemptsLeft = MAX_CODE_FAILURES_PER_LOGIN - session.codeFailures;
  if (result.reason !== 'wrong' && result.reason !== 'expired') return { kind: 'retry', problem: result, attemptsLeft };
  const failures = await tenant.sessions.recordCodeFailure(session.id);
  if (failures >= MAX_CODE_FAILURES_PER_LOGIN) {
    await tenant.sessions.delete(session.id);
    return { kind: 'start_over' };
  }
  return { kind: 'retry', problem: result, attemptsLeft: MAX_CODE_FAILURES_PER_LOGIN - failures };
}

export async function signOut(deps: Deps, session: Session): Promise<void> {
  await tenantFor(deps.db, session.organisationId).sessions.delete(session.id);
}
