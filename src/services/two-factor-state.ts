// Loads what the enforcement rules need for one user and applies them.
import { twoFactorStatusOf, type TwoFactorStatus } from '../domain/enforcement.js';
import type { Organisation } from '../domain/organisations.js';
import type { User } from '../domain/users.js';
import type { Tenant } from '../store/tenant.js';

export async function twoFactorStatusFor(
  tenant: Tenant,
  organisation: Organisation,
  user: User,
  now: Date,
): Promise<TwoFactorStatus> {
  const confirmed = await tenant.devices.countConfirmed(user.id);
  return twoFactorStatusOf(organisation.policy, user.twoFactor, confirmed, now);
}
