// The organisation-wide 2FA settings a super admin changes on the Manage 2FA page.
import { changeRequirement, type AfterDeadline, type RequirementChange } from '../domain/enforcement.js';
import type { Organisation } from '../domain/organisations.js';
import type { Tenant } from '../store/tenant.js';
import type { Deps } from './deps.js';

export type ChangeRequirement = { ok: true } | { ok: false; reason: 'locked' | 'start_in_past' };

export async function changeOrganisationRequirement(
  deps: Deps,
  tenant: Tenant,
  organisation: Organisation,
  change: RequirementChange,
): Promise<ChangeRequirement> {
  const now = deps.now();
  const decision = changeRequirement(organisation.policy, change, now);
  if (!decision.ok) return decision;
  // The store re-checks "not yet active" in the same statement, against a race with the start.
  const written = await tenant.organisation.setRequireAllFrom(decision.requireAllFrom, now);
  return written ? { ok: true } : { ok: false, reason: 'locked' };
}

export async function setAfterDeadline(tenant: Tenant, choice: AfterDeadline): Promise<void> {
  await tenant.organisation.setAfterDeadline(choice);
}

export async function setTimeZone(tenant: Tenant, timeZone: string): Promise<void> {
  await tenant.organisation.setTimeZone(timeZone);
}
