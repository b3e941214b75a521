// Signing in: the password step (throttled), then the code or the setup the user's 2FA
// state asks for.
import type { ClientInfo } from '../domain/audit.js';
import { afterPasswordStep, twoFactorStatusOf } from '../domain/enforcement.js';
import { emailKey, type User } from '../domain/users.js';
import { noteUnknownAccountAttempt, verifyPasswordThrottled } from './password-throttle.js';
import { inOneCommit, type Executor } from '../store/db.js';
import { findAccountByEmail, type Account } from '../store/logins.js';
import type { Session, SessionStage } from '../store/sessions.js';
import { tenantFor, type Tenant } from '../store/tenant.js';
import { audit } from './audit.js';
import { checkCode, type CodeProblem } from './codes.js';
import { addMinutes, type Deps, type LoginOutcome } from './deps.js';

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
  const found = await findAccountByEmail(deps.db, emailKey(email));
  // What a right password leads to is written in the same commit as its throttles' clearing.
  const step: { result?: PasswordStep } = {};
  const whenRight =
    found === null
      ? undefined
      : async (executor: Executor) => {
          step.result = await afterRightPassword(
            deps,
            tenantFor(executor, found.user.organisationId),
            found,
            now,
            client,
          );
        };
  const check = await verifyPasswordThrottled(deps, email, client.ip, found?.passwordHash ?? null, password, whenRight);
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
  if (step.result === undefined) throw new Error('a password matched no account');
  deps.events?.loginOutcome(outcomeOf(step.result));
  return step.result;
}

async function afterRightPassword(
  deps: Deps,
  tenant: Tenant,
  { user, organisation, confirmedDevices }: Account,
  now: Date,
  client: ClientInfo,
): Promise<PasswordStep> {
  const context = { actor: null, client };
  if (user.status !== 'active') {
    await audit(tenant, now, context, 'login_failed', user, { reason: 'inactive' });
    return { kind: 'refused', reason: 'inactive' };
  }
  const status = twoFactorStatusOf(organisation.policy, user.twoFactor, confirmedDevices, now);
  switch (afterPasswordStep(status)) {
    case 'refuse':
      await audit(tenant, now, context, 'login_failed', user, { reason: 'missed_2fa_deadline' });
      return { kind: 'refused', reason: 'blocked' };
    case 'ask_for_code':
      return pending(deps, tenant, user, 'code', now, client);
    case 'require_setup':
      return pending(deps, tenant, user, 'setup', now, client);
    case 'sign_in':
    case 'sign_in_with_reminder': {
      await audit(tenant, now, { actor: user, client }, 'login_succeeded', user, { factors: 'password' });
      // Its sign-in counts as a confirmation of identity for step-up.
      const token = await tenant.sessions.create(user.id, 'signed_in', now, signedInUntil(deps, now), client, now);
      return { kind: 'signed_in', token };
    }
  }
}

function outcomeOf(step: PasswordStep): LoginOutcome {
  switch (step.kind) {
    case 'refused':
      return step.reason === 'inactive'
        ? 'refused_inactive'
        : step.reason === 'blocked'
          ? 'refused_blocked'
          : 'refused_password';
    case 'throttled':
      return 'throttled';
    case 'pending':
      return step.stage === 'code' ? 'code_needed' : 'setup_needed';
    case 'signed_in':
      return 'signed_in';
  }
}

async function pending(
  deps: Deps,
  tenant: Tenant,
  user: User,
  stage: 'code' | 'setup',
  now: Date,
  client: ClientInfo,
): Promise<PasswordStep> {
  const expiresAt = addMinutes(now, deps.sessionLimits.pendingMinutes);
  const token = await tenant.sessions.create(user.id, stage, now, expiresAt, client, null);
  return { kind: 'pending', token, stage };
}

function signedInUntil(deps: Deps, now: Date): Date {
  return addMinutes(now, deps.sessionLimits.absoluteHours * 60);
}

/**
 * Ends the pending session and carries on in a signed-in one under a new id: one statement
 * gives the session its new id and stage, so the old cookie stops working. When the
 * pending session has ended meanwhile, the login completes in a new one, as it always has.
 */
async function signInPendingSession(
  deps: Deps,
  tenant: Tenant,
  session: Session,
  user: User,
  client: ClientInfo,
  factors: 'password_and_code' | 'password_and_new_device',
): Promise<string> {
  const now = deps.now();
  const expiresAt = signedInUntil(deps, now);
  const token =
    (await tenant.sessions.signIn(session.id, now, expiresAt, client, now)) ??
    (await tenant.sessions.create(user.id, 'signed_in', now, expiresAt, client, now));
  await audit(tenant, now, { actor: user, client }, 'login_succeeded', user, { factors });
  return token;
}

/** Completes a pending login once its second factor is given (a code, or a new device). */
export async function completeLogin(
  deps: Deps,
  session: Session,
  user: User,
  client: ClientInfo,
  factors: 'password_and_code' | 'password_and_new_device',
): Promise<string> {
  const token = await inOneCommit(deps.db, (executor) =>
    signInPendingSession(deps, tenantFor(executor, session.organisationId), session, user, client, factors),
  );
  deps.events?.loginOutcome(factors === 'password_and_code' ? 'completed_with_code' : 'completed_with_new_device');
  return token;
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
  // The login completes in the same commit as the code's acceptance.
  const signedIn: { token?: string } = {};
  const result = await checkCode(deps, tenant, user, candidates, input, 'login', client, async (trx) => {
    signedIn.token = await signInPendingSession(deps, trx, session, user, client, 'password_and_code');
  });
  if (result.ok) {
    if (signedIn.token === undefined) throw new Error('an accepted code signed no one in');
    deps.events?.loginOutcome('completed_with_code');
    return { kind: 'signed_in', token: signedIn.token };
  }
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
