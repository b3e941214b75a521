// Checking a 6-digit code: the per-user lock and delays first, then each candidate
// device, accepting each time step once; wrong codes counted and logged.
import { codeGate, lockAfter, needsItsTurn, nextTryAfter } from '../domain/code-attempts.js';
import type { ClientInfo } from '../domain/audit.js';
import { openSecret } from '../domain/secret-box.js';
import { isExpiredCode, matchingTimeStep, parseCode } from '../domain/totp.js';
import type { User } from '../domain/users.js';
import { inOneCommit } from '../store/db.js';
import { tenantFor, type Tenant } from '../store/tenant.js';
import { audit } from './audit.js';
import type { Deps } from './deps.js';

export type CodePath = 'login' | 'device_confirmation' | 'step_up';

export type CodeProblem =
  { reason: 'malformed' | 'wrong' | 'expired' | 'replayed' } | { reason: 'locked' | 'slow_down'; until: Date };

export type CodeCheck = { ok: true; deviceId: string } | ({ ok: false } & CodeProblem);

export interface CodeCandidate {
  device: { id: string };
  sealedSecret: string;
}

/**
 * What an accepted code leads to (a login completed, an identity confirmed), written in
 * the same commit as the acceptance.
 */
export type WhenAccepted = (tenant: Tenant) => Promise<void>;

/**
 * Checks the code against the devices; the caller guards and counts. A code that matches
 * is accepted in one conditional statement, which also refuses it if replayed; then the
 * run of wrong codes ends, and `whenAccepted` follows, all in one commit.
 */
async function matchCode(
  deps: Deps,
  tenant: Tenant,
  userId: string,
  candidates: CodeCandidate[],
  code: string,
  now: Date,
  whenAccepted: WhenAccepted | undefined,
): Promise<CodeCheck> {
  let expired = false;
  for (const { device, sealedSecret } of candidates) {
    const secret = openSecret(deps.secretKey, sealedSecret, device.id);
    const step = matchingTimeStep(secret, code, now);
    if (step === null) {
      expired ||= isExpiredCode(secret, code, now);
      continue;
    }
    return inOneCommit(deps.db, async (executor): Promise<CodeCheck> => {
      const trx = tenantFor(executor, tenant.organisationId);
      if (!(await trx.devices.acceptTimeStep(userId, device.id, step, now))) return { ok: false, reason: 'replayed' };
      await trx.users.clearCodeFailures(userId);
      await whenAccepted?.(trx);
      return { ok: true, deviceId: device.id };
    });
  }
  return { ok: false, reason: expired ? 'expired' : 'wrong' };
}

/**
 * The one way a code is checked, on every path. A locked or slowed-down second factor
 * refuses before looking at the code. A replayed code is refused but not counted: it is
 * no guess. Every wrong code counts against the user, whatever the session or address.
 */
export async function checkCode(
  deps: Deps,
  tenant: Tenant,
  user: User,
  candidates: CodeCandidate[],
  input: string,
  path: CodePath,
  client: ClientInfo,
  whenAccepted?: WhenAccepted,
): Promise<CodeCheck> {
  const parsed = parseCode(input);
  if (!parsed.ok) return { ok: false, reason: 'malformed' };
  const now = deps.now();
  // Counted before it is checked, so simultaneous attempts are all seen; past the free
  // tries only one at a time claims its turn, once the wait is over.
  const attempt = await tenant.users.countCodeAttempt(user.id, now);
  if (attempt === null) {
    const gate = codeGate(await tenant.users.codeAttemptsOf(user.id), now);
    return { ok: false, reason: 'locked', until: gate.open ? now : gate.until };
  }
  if (needsItsTurn(attempt) && !(await tenant.users.claimCodeTry(user.id, now, nextTryAfter(attempt, now)))) {
    await tenant.users.uncountCodeAttempt(user.id);
    const gate = codeGate(await tenant.users.codeAttemptsOf(user.id), now);
    return { ok: false, reason: 'slow_down', until: gate.open ? now : gate.until };
  }

  const result = await matchCode(deps, tenant, user.id, candidates, parsed.code, now, whenAccepted);
  if (result.ok) return result;
  if (result.reason === 'replayed') {
    await tenant.users.uncountCodeAttempt(user.id);
    return result;
  }

  await tenant.users.recordCodeFailureTime(user.id, now);
  await tenant.devices.recordWrongCode(user.id);
  deps.events?.codeFailure(path);
  const context = { actor: user, client };
  await audit(tenant, now, context, 'code_failed', user, { path, failures_in_a_row: attempt });
  const lockedUntil = lockAfter(attempt, now);
  if (lockedUntil !== null) {
    await tenant.users.lockSecondFactor(user.id, lockedUntil);
    deps.events?.secondFactorLocked();
    await audit(tenant, now, context, 'second_factor_locked', user, {
      until: lockedUntil.toISOString(),
      failures_in_a_row: attempt,
    });
    return { ok: false, reason: 'locked', until: lockedUntil };
  }
  return result;
}

export function describeCodeProblem(problem: CodeProblem, when: (at: Date) => string): string {
  switch (problem.reason) {
    case 'malformed':
      return 'Enter the 6-digit code from your authenticator app (digits only).';
    case 'wrong':
      return 'That code is not right. Check you are reading the entry for this account and try the code your app shows now.';
    case 'expired':
      return 'That code has expired. Enter the new code your app shows now.';
    case 'replayed':
      return 'That code has already been used. Wait for your app to show the next code and enter it.';
    case 'slow_down':
      return `Too many wrong codes in a row. Wait until ${when(problem.until)} before trying again.`;
    case 'locked':
      return `Too many wrong codes in a row: your second factor is locked until ${when(problem.until)}. An administrator can unlock it sooner.`;
  }
}
