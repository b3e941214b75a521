// The organisation-wide 2FA settings a super admin changes on the Manage 2FA page.
import { changeRequirement, type AfterDeadline, type RequirementChange } from '../domain/enforcement.js';
import { impactOfAllowedFactors, type AllowedFactors, type FactorPolicyImpact } from '../domain/factor-policy.js';
import type { Organisation } from '../domain/organisations.js';
import { reminderScheduleText, type ReminderSchedule } from '../domain/reminders.js';
import { inOneCommitOf, type Tenant } from '../store/tenant.js';
import { audit, type AuditContext } from './audit.js';
import type { Deps } from './deps.js';

export type ChangeRequirement = { ok: true } | { ok: false; reason: 'locked' | 'start_in_past' };

export async function changeOrganisationRequirement(
  deps: Deps,
  tenant: Tenant,
  organisation: Organisation,
  context: AuditContext,
  change: RequirementChange,
): Promise<ChangeRequirement> {
  const now = deps.now();
  const decision = changeRequirement(organisation.policy, change, now);
  if (!decision.ok) return decision;
  // The store re-checks "not yet active" in the same statement, against a race with the start.
  const written = await tenant.organisation.setRequireAllFrom(decision.requireAllFrom, now);
  if (!written) return { ok: false, reason: 'locked' };
  await audit(tenant, now, context, 'organisation_requirement_changed', null, {
    from: organisation.policy.requireAllFrom?.toISOString() ?? null,
    to: decision.requireAllFrom?.toISOString() ?? null,
  });
  return { ok: true };
}

export async function setAfterDeadline(
  deps: Deps,
  tenant: Tenant,
  context: AuditContext,
  choice: AfterDeadline,
): Promise<void> {
  await tenant.organisation.setAfterDeadline(choice);
  await audit(tenant, deps.now(), context, 'after_deadline_changed', null, { to: choice });
}

export async function setTimeZone(deps: Deps, tenant: Tenant, context: AuditContext, timeZone: string): Promise<void> {
  await tenant.organisation.setTimeZone(timeZone);
  await audit(tenant, deps.now(), context, 'time_zone_changed', null, { to: timeZone });
}

/** When people without a device are reminded of their deadline (see domain/reminders.ts). */
export async function setReminderSchedule(
  deps: Deps,
  tenant: Tenant,
  context: AuditContext,
  schedule: ReminderSchedule,
): Promise<void> {
  await inOneCommitOf(deps.db, tenant.organisationId, async (trx) => {
    await trx.organisation.setReminderSchedule(schedule);
    await audit(trx, deps.now(), context, 'reminder_schedule_changed', null, { to: reminderScheduleText(schedule) });
  });
}

/** What changing the allowed second factors to `to` would do to the organisation's active people; reads only. */
export async function previewAllowedFactors(tenant: Tenant, to: AllowedFactors): Promise<FactorPolicyImpact> {
  return impactOfAllowedFactors(to, await tenant.organisation.activePeoplesDevices());
}

/**
 * Saves the allowed second factors, with the audit entry of the change and of whom it
 * affected when it was made, in one commit.
 */
export async function changeAllowedFactors(
  deps: Deps,
  tenant: Tenant,
  organisation: Organisation,
  context: AuditContext,
  to: AllowedFactors,
): Promise<FactorPolicyImpact> {
  const now = deps.now();
  return inOneCommitOf(deps.db, tenant.organisationId, async (trx) => {
    const impact = impactOfAllowedFactors(to, await trx.organisation.activePeoplesDevices());
    await trx.organisation.setAllowedFactors(to);
    await audit(trx, now, context, 'allowed_factors_changed', null, {
      from: organisation.allowedFactors,
      to,
      must_add_device: impact.mustAddDevice,
      lose_a_kind: impact.loseAKind,
      without_device: impact.withoutDevice,
    });
    return impact;
  });
}
