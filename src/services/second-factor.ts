// Checking a second factor, of whatever kind, on every path that takes one (sign-in,
// step-up, enrolment). The person's lock and growing waits come first (see
// domain/attempt-gate.ts and domain/code-attempts.ts), then the factor's pure match. What
// follows is the use case's, in its own commit: a match is accepted with
// acceptSecondFactor, a wrong one recorded with recordWrongSecondFactor.
import {
  IN_FLIGHT_FORGOTTEN_AFTER_MS,
  LONGEST_WAIT_FOR_IN_FLIGHT_MS,
  admissionOf,
  pauseBeforeLookingAgain,
} from '../domain/attempt-gate.js';
import type { ClientInfo } from '../domain/audit.js';
import { lockAfter, SECOND_FACTOR_RULE } from '../domain/code-attempts.js';
import type { User } from '../domain/users.js';
import type { Tenant, TenantInTransaction } from '../store/tenant.js';
import { audit } from './audit.js';
import type { Deps } from './deps.js';
import type { DeviceKind, SecondFactorMethod } from '../domain/devices.js';
import { kindsToSignInWith, type AllowedFactors } from '../domain/factor-policy.js';
import type { AnyFactor, FactorMiss } from './factors/factor.js';
import { BACKUP_FACTORS, REGISTERED_FACTORS } from './factors/index.js';
import { auditAndNotify } from './security-notices.js';

export type SecondFactorPath = 'login' | 'device_confirmation' | 'step_up';

export type SecondFactorProblem =
  { reason: 'malformed' | 'replayed' | FactorMiss } | { reason: 'locked' | 'slow_down'; until: Date };

/** A match, admitted and checked, that the use case accepts in its commit. */
export interface SecondFactorMatched {
  factor: AnyFactor;
  userId: string;
  proof: unknown;
  now: Date;
  method: SecondFactorMethod;
}

export type SecondFactorCheck =
  | { kind: 'matched'; matched: SecondFactorMatched }
  /** Not right: the use case records it with recordWrongSecondFactor. */
  | { kind: 'wrong'; reason: FactorMiss; now: Date }
  /** Refused before it was checked: nothing to record. */
  | { kind: 'refused'; problem: SecondFactorProblem };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Admits the attempt: refused while the second factor is locked or a wait runs, waiting
 * while the free tries are taken by attempts still in flight (copies of one right code all
 * get their answer), and past the free tries checked only if it claims the one try.
 * Waiting attempts write nothing, so many of them do not crowd each other out.
 */
async function admit(deps: Deps, tenant: Tenant, userId: string): Promise<SecondFactorProblem | null> {
  const started = Date.now();
  // Most attempts find room: one statement enters, with no read first.
  const first = deps.now();
  const inFlightBeforeFirst = new Date(first.getTime() - IN_FLIGHT_FORGOTTEN_AFTER_MS);
  if (await tenant.users.enterCodeCheck(userId, first, SECOND_FACTOR_RULE.freeFailures, inFlightBeforeFirst)) {
    return null;
  }
  for (;;) {
    const now = deps.now();
    const inFlightBefore = new Date(now.getTime() - IN_FLIGHT_FORGOTTEN_AFTER_MS);
    const count = await tenant.users.codeAttemptCountOf(userId, inFlightBefore);
    if (count.lockedUntil !== null && count.lockedUntil.getTime() > now.getTime()) {
      return { reason: 'locked', until: count.lockedUntil };
    }
    const admission = admissionOf(SECOND_FACTOR_RULE, count, now);
    switch (admission.kind) {
      case 'refuse':
        return { reason: 'slow_down', until: admission.until };
      case 'enter':
        if (await tenant.users.enterCodeCheck(userId, now, SECOND_FACTOR_RULE.freeFailures, inFlightBefore))
          return null;
        continue;
      case 'claim':
        if (await tenant.users.claimCodeTry(userId, now, admission.nextTryAt, inFlightBefore)) return null;
        continue;
      case 'wait':
        if (Date.now() - started > LONGEST_WAIT_FOR_IN_FLIGHT_MS) {
          return { reason: 'slow_down', until: new Date(now.getTime() + 1000) };
        }
        await sleep(pauseBeforeLookingAgain(Math.random()));
    }
  }
}

/** One kind of second factor the person has, with their credentials of it. */
export interface PersonsFactor {
  factor: AnyFactor;
  credentials: readonly unknown[];
}

/** The person's second factors: each kind they have a credential of, backups (recovery codes) aside. */
export async function secondFactorsOf(deps: Deps, tenant: Tenant, userId: string): Promise<PersonsFactor[]> {
  const found: PersonsFactor[] = [];
  const devices = await tenant.devices.confirmedAsStored(userId);
  for (const factor of REGISTERED_FACTORS) {
    const credentials = await factor.credentialsOf(deps, tenant, userId, devices);
    if (credentials.length > 0) found.push({ factor, credentials });
  }
  return found;
}

/**
 * Of the person's second factors, those their organisation lets them sign in with: the
 * allowed kinds they hold, or all of theirs when they hold none (see domain/factor-policy.ts).
 */
export function factorsToSignInWith(allowed: AllowedFactors, factors: readonly PersonsFactor[]): PersonsFactor[] {
  const count = (kind: DeviceKind) =>
    factors.filter(({ factor }) => factor.deviceKind === kind).reduce((n, f) => n + f.credentials.length, 0);
  const kinds = kindsToSignInWith(allowed, { apps: count('totp'), keys: count('webauthn') });
  return factors.filter(({ factor }) => factor.deviceKind !== null && kinds.includes(factor.deviceKind));
}

/**
 * Checks what the person gave against their second factors: the first factor that can read
 * it as its own input takes it; when none of them can, a backup (a recovery code) may,
 * unless `backups` is false (enrolment). Input none can read is refused unchecked and
 * uncounted; otherwise the attempt goes through the gate, and then that factor's match.
 */
export async function checkSecondFactor(
  deps: Deps,
  tenant: Tenant,
  user: User,
  factors: readonly PersonsFactor[],
  given: string,
  backups = true,
): Promise<SecondFactorCheck> {
  const read =
    factors
      .map(({ factor, credentials }) => ({ factor, credentials, input: factor.parse(given) as unknown }))
      .find(({ input }) => input !== null) ??
    (backups && factors.length > 0 ? await readAsBackup(deps, tenant, user, given) : undefined);
  if (read === undefined) return { kind: 'refused', problem: { reason: 'malformed' } };
  const refused = await admit(deps, tenant, user.id);
  if (refused !== null) return { kind: 'refused', problem: refused };
  const now = deps.now();
  const match = await read.factor.match(read.credentials, read.input, now, deps.relyingParty);
  if (match.matched) {
    const { factor } = read;
    const matched = { factor, userId: user.id, proof: match.proof, now, method: factor.methodOf(match.proof) };
    return { kind: 'matched', matched };
  }
  return { kind: 'wrong', reason: match.reason, now };
}

/** The backup factor that reads `given`, with the person's credentials of it (read only now). */
async function readAsBackup(deps: Deps, tenant: Tenant, user: User, given: string) {
  for (const factor of BACKUP_FACTORS) {
    const input = factor.parse(given) as unknown;
    if (input !== null) return { factor, input, credentials: await factor.credentialsOf(deps, tenant, user.id, []) };
  }
  return undefined;
}

/**
 * A match accepted: when a recovery code gave it, how many of the person's codes are left
 * (counted in the commit that used it); null for any other factor.
 */
export interface AcceptedSecondFactor {
  recoveryCodesLeft: number | null;
}

/**
 * Accepts a match in the use case's commit, ending the person's run of wrong attempts
 * whichever credential gave it. False for a replay: the use case then calls
 * secondFactorReplayed after its commit.
 */
export async function acceptSecondFactor(
  deps: Deps,
  trx: TenantInTransaction,
  matched: SecondFactorMatched,
  acceptedFor: 'enrolment' | 'use',
  context: { actor: User; client: ClientInfo },
): Promise<AcceptedSecondFactor | false> {
  if (!(await matched.factor.accept(trx, matched.userId, matched.proof, matched.now, acceptedFor))) return false;
  await trx.users.recordCodeSuccess(matched.userId);
  if (!matched.factor.backup) return { recoveryCodesLeft: null };
  const left = await trx.recoveryCodes.countUnused(matched.userId);
  await auditAndNotify(deps, trx, matched.now, context, 'recovery_code_used', context.actor, { left });
  return { recoveryCodesLeft: left };
}

/** A replay is no guess: the attempt leaves uncounted. */
export async function secondFactorReplayed(tenant: Tenant, matched: SecondFactorMatched): Promise<SecondFactorProblem> {
  await tenant.users.releaseCodeAttempt(matched.userId);
  return { reason: 'replayed' };
}

/**
 * Records a wrong second factor against the person, whatever the session or address, in
 * the use case's commit: one more in their run, the audit entry, and the lock every tenth
 * one brings. Returns the problem to show.
 */
export async function recordWrongSecondFactor(
  deps: Deps,
  trx: TenantInTransaction,
  user: User,
  wrong: { reason: FactorMiss; now: Date },
  path: SecondFactorPath,
  client: ClientInfo,
): Promise<{ problem: SecondFactorProblem; locked: boolean }> {
  const { now } = wrong;
  const failures = await trx.users.recordCodeFailure(user.id, now);
  const context = { actor: user, client };
  await auditAndNotify(deps, trx, now, context, 'code_failed', user, { path, failures_in_a_row: failures });
  if (wrong.reason === 'possible_clone') await audit(trx, now, context, 'security_key_possible_clone', user, { path });
  const lockedUntil = lockAfter(failures, now);
  if (lockedUntil === null) return { problem: { reason: wrong.reason }, locked: false };
  await trx.users.lockSecondFactor(user.id, lockedUntil);
  await auditAndNotify(deps, trx, now, context, 'second_factor_locked', user, {
    until: lockedUntil.toISOString(),
    failures_in_a_row: failures,
  });
  return { problem: { reason: 'locked', until: lockedUntil }, locked: true };
}

/** Tells the metrics of a wrong second factor, once its commit is written. */
export function reportWrongSecondFactor(deps: Deps, path: SecondFactorPath, locked: boolean): void {
  deps.events?.codeFailure(path);
  if (locked) deps.events?.secondFactorLocked();
}
