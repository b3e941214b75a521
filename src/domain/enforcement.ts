// Who must use two-factor authentication, by when, and what happens at login.
// Pure functions of (organisation policy, user, devices, now): no HTTP, no SQL.

export type AfterDeadline = 'set_up_at_login' | 'block';

export interface OrganisationPolicy {
  /** Start of the organisation-wide requirement; null when there is none. */
  requireAllFrom: Date | null;
  /**
   * When that start was set. A start set for "now" gave nobody time, so nobody had it as
   * a date they could miss.
   */
  requireAllAnnouncedAt: Date | null;
  /** What happens to a user without a device once a date they had has passed. */
  afterDeadline: AfterDeadline;
}

export interface UserTwoFactorFacts {
  createdAt: Date;
  requiredIndividually: boolean;
  personalDeadline: Date | null;
  /** Set by an admin reset: link anew at the next login. */
  setUpAtNextLogin: boolean;
}

export type MustSetUpReason =
  | 'due_now' // required without time to prepare: individually without a deadline, or from "now"
  | 'deadline_passed' // had a date, let it pass, and the organisation lets them set up
  | 'reset' // an admin reset
  | 'joined_after_start'; // created after the organisation-wide requirement became active

export type TwoFactorStatus =
  | { kind: 'not_required' }
  | { kind: 'enrolled'; required: boolean }
  | { kind: 'grace'; deadline: Date }
  | { kind: 'must_set_up'; reason: MustSetUpReason }
  | { kind: 'blocked'; deadline: Date };

export type PolicyPhase = 'off' | 'scheduled' | 'active';

export function policyPhase(policy: OrganisationPolicy, now: Date): PolicyPhase {
  if (policy.requireAllFrom === null) return 'off';
  return policy.requireAllFrom.getTime() <= now.getTime() ? 'active' : 'scheduled';
}

/** Required now or from a future date: either way the last device must stay. */
export function isTwoFactorRequired(policy: OrganisationPolicy, user: UserTwoFactorFacts): boolean {
  return policy.requireAllFrom !== null || user.requiredIndividually;
}

/**
 * The date by which the user must have a device, or null when it is due at once.
 * A personal deadline wins; an individual requirement without one is due now.
 */
export function effectiveDeadlineFor(policy: OrganisationPolicy, user: UserTwoFactorFacts): Date | null {
  if (user.personalDeadline !== null) return user.personalDeadline;
  if (user.requiredIndividually) return null;
  return policy.requireAllFrom;
}

export function twoFactorStatusOf(
  policy: OrganisationPolicy,
  user: UserTwoFactorFacts,
  confirmedDevices: number,
  now: Date,
): TwoFactorStatus {
  const required = isTwoFactorRequired(policy, user);
  if (confirmedDevices > 0) return { kind: 'enrolled', required };
  if (user.setUpAtNextLogin) return { kind: 'must_set_up', reason: 'reset' };
  if (!required) return { kind: 'not_required' };

  const deadline = effectiveDeadlineFor(policy, user);
  if (deadline === null) return { kind: 'must_set_up', reason: 'due_now' };
  if (now.getTime() < deadline.getTime()) return { kind: 'grace', deadline };

  // Only a user who had the date can have let it pass: someone created after the
  // organisation-wide start never had it, nor did anyone when the start was "now".
  if (user.personalDeadline === null) {
    if (user.createdAt.getTime() >= deadline.getTime()) return { kind: 'must_set_up', reason: 'joined_after_start' };
    const announcedAt = policy.requireAllAnnouncedAt;
    if (announcedAt === null || announcedAt.getTime() >= deadline.getTime())
      return { kind: 'must_set_up', reason: 'due_now' };
  }
  if (policy.afterDeadline === 'block') return { kind: 'blocked', deadline };
  return { kind: 'must_set_up', reason: 'deadline_passed' };
}

/** A required user without a device who had a date and let it pass. */
export function isOverdue(status: TwoFactorStatus): boolean {
  return status.kind === 'blocked' || (status.kind === 'must_set_up' && status.reason === 'deadline_passed');
}

export type AfterPassword = 'ask_for_code' | 'sign_in' | 'sign_in_with_reminder' | 'require_setup' | 'refuse';

/** What the login does once the password is right. */
export function afterPasswordStep(status: TwoFactorStatus): AfterPassword {
  switch (status.kind) {
    case 'enrolled':
      return 'ask_for_code';
    case 'not_required':
      return 'sign_in';
    case 'grace':
      return 'sign_in_with_reminder';
    case 'must_set_up':
      return 'require_setup';
    case 'blocked':
      return 'refuse';
  }
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** Whole days left before the deadline, counting a part day as a day. */
export function daysLeft(deadline: Date, now: Date): number {
  return Math.max(0, Math.ceil((deadline.getTime() - now.getTime()) / DAY_MS));
}

export type RequirementChange = { kind: 'require_from'; start: Date } | { kind: 'require_now' } | { kind: 'cancel' };

export type RequirementChangeResult =
  { ok: true; requireAllFrom: Date | null } | { ok: false; reason: 'locked' | 'start_in_past' };

/**
 * Schedule, reschedule or cancel the organisation-wide requirement. Once its start has
 * come it is active and nothing turns it off.
 */
export function changeRequirement(
  policy: OrganisationPolicy,
  change: RequirementChange,
  now: Date,
): RequirementChangeResult {
  if (policyPhase(policy, now) === 'active') return { ok: false, reason: 'locked' };
  switch (change.kind) {
    case 'require_now':
      return { ok: true, requireAllFrom: now };
    case 'require_from':
      if (change.start.getTime() <= now.getTime()) return { ok: false, reason: 'start_in_past' };
      return { ok: true, requireAllFrom: change.start };
    case 'cancel':
      return { ok: true, requireAllFrom: null };
  }
}

export type DeviceRemoval = { ok: true; turnsOffTwoFactor: boolean } | { ok: false; reason: 'last_device_required' };

/** The last device may go only when 2FA is not required of its owner. */
export function mayRemoveDevice(
  policy: OrganisationPolicy,
  user: UserTwoFactorFacts,
  confirmedDevices: number,
  removingConfirmed: boolean,
): DeviceRemoval {
  const isLast = removingConfirmed && confirmedDevices <= 1;
  if (!isLast) return { ok: true, turnsOffTwoFactor: false };
  if (isTwoFactorRequired(policy, user)) return { ok: false, reason: 'last_device_required' };
  return { ok: true, turnsOffTwoFactor: true };
}
