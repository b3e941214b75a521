// Signing in: the password step (throttled), then the code or the setup the user's 2FA
// state asks for.
import type { SecondFactorMethod } from '../domain/devices.js';
import type { ClientInfo } from '../domain/audit.js';
import { afterPasswordStep, twoFactorStatusOf } from '../domain/enforcement.js';
import type { AllowedFactors } from '../domain/factor-policy.js';
import { emailKey, type User } from '../domain/users.js';
import { verifyPassword } from '../domain/passwords.js';
import { findAccountByEmail, type Account } from '../store/logins.js';
import { NOT_VERIFIED, type Session, type SessionStage } from '../store/sessions.js';
import { inOneCommit } from '../store/db.js';
import { inOneCommitOf, tenantFor, tenantInTransaction, type TenantInTransaction } from '../store/tenant.js';
import { audit } from './audit.js';
import {
  admitPasswordAttempt,
  noteUnknownAccountAttempt,
  passwordWasRight,
  passwordWasWrong,
} from './password-throttle.js';
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
import { addMinutes, type Deps, type LoginOutcome } from './deps.js';

/** Wrong codes one pending login may take before it must start over. */
export const MAX_CODE_FAILURES_PER_LOGIN = 5;

export type PasswordStep =
  | { kind: 'refused'; reason: 'wrong_credentials' | 'inactive' | 'blocked' }
  | { kind: 'throttled'; until: Date }
  | { kind: 'pending'; token: string; stage: Exclude<SessionStage, 'signed_in'> }
  | { kind: 'signed_in'; token: string };

/**
 * The password step, in one commit once the password is checked. Known and unknown emails
 * take the same path, the same queries and (with the decoy hash) the same time, and get
 * the same answer.
 */
export async function signInWithPassword(
  deps: Deps,
  email: string,
  password: string,
  client: ClientInfo,
): Promise<PasswordStep> {
  const found = await findAccountByEmail(deps.db, emailKey(email));
  const admitted = await admitPasswordAttempt(deps, email, client.ip);
  if (!admitted.ok) {
    deps.events?.loginOutcome('throttled');
    return { kind: 'throttled', until: admitted.until };
  }
  const right = await verifyPassword(found?.passwordHash ?? null, password);
  const now = deps.now();
  const step = await inOneCommit(deps.db, async (trx): Promise<PasswordStep> => {
    if (found === null || !right) {
      await passwordWasWrong(trx, admitted.ticket, now);
      // One write more either way (the audit row, or its stand-in), so that the answer for
      // an unknown email takes as long as for a known one.
      if (found === null) await noteUnknownAccountAttempt(trx, email, client.ip, now);
      else {
        const tenant = tenantInTransaction(trx, found.user.organisationId);
        await audit(tenant, now, { actor: null, client }, 'login_failed', found.user, { reason: 'wrong_password' });
      }
      return { kind: 'refused', reason: 'wrong_credentials' };
    }
    await passwordWasRight(trx, admitted.ticket, now);
    return afterRightPassword(deps, tenantInTransaction(trx, found.user.organisationId), found, now, client);
  });
  deps.events?.loginOutcome(outcomeOf(step));
  return step;
}

async function afterRightPassword(
  deps: Deps,
  tenant: TenantInTransaction,
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
      const token = await tenant.sessions.create(user.id, 'signed_in', now, signedInUntil(deps, now), client, {
        verifiedAt: now,
        secondFactorAt: null,
        secondFactorMethod: null,
      });
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
  tenant: TenantInTransaction,
  user: User,
  stage: 'code' | 'setup',
  now: Date,
  client: ClientInfo,
): Promise<PasswordStep> {
  const expiresAt = addMinutes(now, deps.sessionLimits.pendingMinutes);
  const token = await tenant.sessions.create(user.id, stage, now, expiresAt, client, NOT_VERIFIED);
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
export async function signInPendingSession(
  deps: Deps,
  trx: TenantInTransaction,
  session: Session,
  user: User,
  client: ClientInfo,
  now: Date,
  factors: 'password_and_code' | 'password_and_new_device',
  method: SecondFactorMethod,
): Promise<string> {
  const expiresAt = signedInUntil(deps, now);
  const verification = { verifiedAt: now, secondFactorAt: now, secondFactorMethod: method };
  const token =
    (await trx.sessions.signIn(session.id, now, expiresAt, client, method)) ??
    (await trx.sessions.create(user.id, 'signed_in', now, expiresAt, client, verification));
  await audit(trx, now, { actor: user, client }, 'login_succeeded', user, { factors });
  return token;
}

export type CodeStep =
  /** `recoveryCodesLeft` when a recovery code signed in: how many are left. */
  | { kind: 'signed_in'; token: string; recoveryCodesLeft: number | null }
  | { kind: 'retry'; problem: SecondFactorProblem; attemptsLeft: number }
  | { kind: 'start_over' };

/**
 * The second-factor step of a sign-in. A match is accepted and the person signed in, in
 * one commit; a wrong one is counted against the person and against this pending sign-in,
 * which must start over after MAX_CODE_FAILURES_PER_LOGIN, in one commit.
 */
export async function submitSecondFactor(
  deps: Deps,
  session: Session,
  user: User,
  allowed: AllowedFactors,
  given: string,
  client: ClientInfo,
): Promise<CodeStep> {
  const tenant = tenantFor(deps.db, session.organisationId);
  const factors = factorsToSignInWith(allowed, await secondFactorsOf(deps, tenant, user.id));
  const check = await checkSecondFactor(deps, tenant, user, factors, given);
  const attemptsLeft = MAX_CODE_FAILURES_PER_LOGIN - session.codeFailures;
  switch (check.kind) {
    case 'refused':
      return { kind: 'retry', problem: check.problem, attemptsLeft };
    case 'matched': {
      const { now } = check.matched;
      const signedIn = await inOneCommitOf(deps.db, session.organisationId, async (trx) => {
        const accepted = await acceptSecondFactor(deps, trx, check.matched, 'use', { actor: user, client });
        if (accepted === false) return null;
        const { method } = check.matched;
        const token = await signInPendingSession(deps, trx, session, user, client, now, 'password_and_code', method);
        return { token, recoveryCodesLeft: accepted.recoveryCodesLeft };
      });
      if (signedIn === null)
        return { kind: 'retry', problem: await secondFactorReplayed(tenant, check.matched), attemptsLeft };
      deps.events?.loginOutcome('completed_with_code');
      // A recovery code's use is told by email (see acceptSecondFactor).
      if (signedIn.recoveryCodesLeft !== null) deps.mailQueued?.();
      return { kind: 'signed_in', ...signedIn };
    }
    case 'wrong': {
      const outcome = await inOneCommitOf(deps.db, session.organisationId, async (trx) => {
        const recorded = await recordWrongSecondFactor(deps, trx, user, check, 'login', client);
        // A code that locks the second factor is told so, whatever the sign-in's own tries.
        if (recorded.locked) return { ...recorded, failures: session.codeFailures };
        const failures = await trx.sessions.recordCodeFailure(session.id);
        if (failures >= MAX_CODE_FAILURES_PER_LOGIN) await trx.sessions.delete(session.id);
        return { ...recorded, failures };
      });
      reportWrongSecondFactor(deps, 'login', outcome.locked);
      // The first wrong code after the right password, or the lock, is told by email.
      deps.mailQueued?.();
      if (!outcome.locked && outcome.failures >= MAX_CODE_FAILURES_PER_LOGIN) return { kind: 'start_over' };
      return { kind: 'retry', problem: outcome.problem, attemptsLeft: MAX_CODE_FAILURES_PER_LOGIN - outcome.failures };
    }
  }
}

/** Ends the session, and the person's sign-in to applications through it, in one commit. */
export async function signOut(deps: Deps, session: Session): Promise<void> {
  await inOneCommitOf(deps.db, session.organisationId, (trx) => trx.sessions.delete(session.id));
}
