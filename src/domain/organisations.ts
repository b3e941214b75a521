import type { AfterDeadline, OrganisationPolicy } from './enforcement.js';
import type { ReminderSchedule } from './reminders.js';
import type { AllowedFactors } from './factor-policy.js';

export interface Organisation {
  id: string;
  name: string;
  timeZone: string;
  policy: OrganisationPolicy;
  /** When people without a device are reminded of their deadline. */
  reminderSchedule: ReminderSchedule;
  /** Which kinds of second factor its people may link and sign in with. */
  allowedFactors: AllowedFactors;
  createdAt: Date;
}

export const AFTER_DEADLINE_CHOICES: readonly AfterDeadline[] = ['set_up_at_login', 'block'];

export function isAfterDeadline(value: string): value is AfterDeadline {
  return (AFTER_DEADLINE_CHOICES as readonly string[]).includes(value);
}

export function organisationNameKey(name: string): string {
  return name.trim().toLowerCase();
}
