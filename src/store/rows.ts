// Mapping between rows and domain values.
import type { Device } from '../domain/devices.js';
import { isAllowedFactors } from '../domain/factor-policy.js';
import { isAfterDeadline, type Organisation } from '../domain/organisations.js';
import { reminderScheduleOf } from '../domain/reminders.js';
import { isRole, isStatus, type User } from '../domain/users.js';
import type { DeviceRow, OrganisationRow, UserRow } from './schema.js';

export function dateOrNull(text: string | null): Date | null {
  return text === null ? null : new Date(text);
}

export function iso(date: Date): string {
  return date.toISOString();
}

export function isoOrNull(date: Date | null): string | null {
  return date === null ? null : date.toISOString();
}

export function organisationFromRow(row: OrganisationRow): Organisation {
  if (!isAfterDeadline(row.after_deadline)) throw new Error(`organisation ${row.id} has an unknown after_deadline`);
  if (!isAllowedFactors(row.allowed_factors)) throw new Error(`organisation ${row.id} has unknown allowed_factors`);
  return {
    id: row.id,
    name: row.name,
    timeZone: row.time_zone,
    policy: {
      requireAllFrom: dateOrNull(row.require_all_from),
      requireAllAnnouncedAt: dateOrNull(row.require_all_announced_at),
      afterDeadline: row.after_deadline,
    },
    reminderSchedule: reminderScheduleOf(row.reminder_schedule),
    allowedFactors: row.allowed_factors,
    createdAt: new Date(row.created_at),
  };
}

export function userFromRow(row: UserRow): User {
  if (!isRole(row.role) || !isStatus(row.status)) throw new Error(`user ${row.id} has an unknown role or status`);
  return {
    id: row.id,
    organisationId: row.organisation_id,
    email: row.email,
    name: row.name,
    role: row.role,
    status: row.status,
    hasPassword: row.password_hash !== null,
    twoFactor: {
      createdAt: new Date(row.created_at),
      requiredIndividually: row.require_2fa === 1,
      personalDeadline: dateOrNull(row.personal_deadline),
      setUpAtNextLogin: row.set_up_at_next_login === 1,
    },
    createdAt: new Date(row.created_at),
  };
}

export function deviceFromRow(row: DeviceRow): Device {
  return {
    id: row.id,
    userId: row.user_id,
    kind: row.kind === 'webauthn' ? 'webauthn' : 'totp',
    name: row.name,
    createdAt: new Date(row.created_at),
    confirmedAt: dateOrNull(row.confirmed_at),
    lastUsedAt: dateOrNull(row.last_used_at),
  };
}

export function searchKeyOf(name: string, email: string): string {
  return `${name} ${email}`.toLowerCase();
}
