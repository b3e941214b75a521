// Issuing a person's recovery codes: a new set of ten replaces the old one, in one commit
// with its audit entry. The codes are returned to be shown once; only their salted hashes
// are kept.
import { getsRecoveryCodesWithDevice } from '../domain/recovery-codes.js';
import type { ClientInfo } from '../domain/audit.js';
import { newRecoveryCode, RECOVERY_CODES_PER_SET, storedFormOf } from '../domain/recovery-codes.js';
import type { User } from '../domain/users.js';
import { inOneCommitOf, type Tenant, type TenantInTransaction } from '../store/tenant.js';
import { audit } from './audit.js';
import type { Deps } from './deps.js';

export function issueRecoveryCodes(deps: Deps, tenant: Tenant, user: User, client: ClientInfo): Promise<string[]> {
  const now = deps.now();
  return inOneCommitOf(deps.db, tenant.organisationId, (trx) => issueRecoveryCodesIn(trx, user, client, now));
}

/** A new set in a commit the caller holds (the one that links a person's first device). */
export async function issueRecoveryCodesIn(
  trx: TenantInTransaction,
  user: User,
  client: ClientInfo,
  now: Date,
): Promise<string[]> {
  const codes = Array.from({ length: RECOVERY_CODES_PER_SET }, newRecoveryCode);
  await trx.recoveryCodes.replaceSet(user.id, codes.map(storedFormOf), now);
  await audit(trx, now, { actor: user, client }, 'recovery_codes_generated', user, { count: codes.length });
  return codes;
}

/** How many of the person's codes are still unused. */
export function recoveryCodesLeft(tenant: Tenant, userId: string): Promise<number> {
  return tenant.recoveryCodes.countUnused(userId);
}

/**
 * In the commit that links a device: the set handed out with a person's first device (none
 * for a later one, nor for a person who still holds unused codes). Called after the commit
 * has written the person's row: on PostgreSQL a first device linked at the same time then
 * waits for this commit, and sees its device.
 */
export async function recoveryCodesWithFirstDevice(
  trx: TenantInTransaction,
  user: User,
  client: ClientInfo,
  now: Date,
): Promise<string[] | null> {
  const first = getsRecoveryCodesWithDevice(
    await trx.devices.countConfirmed(user.id),
    await trx.recoveryCodes.countUnused(user.id),
  );
  return first ? issueRecoveryCodesIn(trx, user, client, now) : null;
}
