// Reminders before a two-factor deadline: which one is due for a person now, if any. Pure:
// the run that sends them (services/reminders.ts) records each (person, deadline, slot) it
// sent, so that each is sent once, and asks this file which slot is due.
import {
  effectiveDeadlineFor,
  type OrganisationPolicy,
  type TwoFactorStatus,
  type UserTwoFactorFacts,
} from './enforcement.js';

/** When reminders go out, set by a super admin on Manage 2FA. */
export interface ReminderSchedule {
  /** When the requirement is scheduled (or the person first falls under it). */
  whenScheduled: boolean;
  /** Whole days before the deadline, largest first. */
  daysBefore: readonly number[];
  /** On the day the deadline passes, to people who still have no device. */
  onTheDay: boolean;
}

export const DEFAULT_REMINDER_SCHEDULE: ReminderSchedule = {
  whenScheduled: true,
  daysBefore: [14, 7, 1],
  onTheDay: true,
};

export const REMINDER_DAYS_MAX = 90;
export const REMINDER_DAYS_COUNT_MAX = 10;

/** The days before a start date at which super admins get a summary of who has not set up. */
export const SUMMARY_DAYS_BEFORE = [7, 1] as const;

const DAY_MS = 24 * 60 * 60 * 1000;

/** A reminder of one deadline: `scheduled`, `before-N` (N days before) or `on-the-day`. */
export type ReminderSlot = 'scheduled' | `before-${number}` | 'on-the-day';

/** The schedule as stored: "scheduled,14,7,1,day"; an empty schedule is "" (no reminders). */
export function reminderScheduleText(schedule: ReminderSchedule): string {
  return [
    ...(schedule.whenScheduled ? ['scheduled'] : []),
    ...schedule.daysBefore.map(String),
    ...(schedule.onTheDay ? ['day'] : []),
  ].join(',');
}

/** The stored text read back; the default for anything that is not one (never stored by Twofold). */
export function reminderScheduleOf(text: string | null): ReminderSchedule {
  if (text === null) return DEFAULT_REMINDER_SCHEDULE;
  const parts = text === '' ? [] : text.split(',');
  const days = parts.filter((p) => p !== 'scheduled' && p !== 'day');
  const parsed = parseReminderDays(days.join(','));
  if (parsed === null) return DEFAULT_REMINDER_SCHEDULE;
  return { whenScheduled: parts.includes('scheduled'), daysBefore: parsed, onTheDay: parts.includes('day') };
}

/**
 * "14, 7, 1" as typed on Manage 2FA: whole days from 1 to REMINDER_DAYS_MAX, at most
 * REMINDER_DAYS_COUNT_MAX of them, separated by commas or spaces; returned without repeats,
 * largest first. Empty is no reminders before the day. Null when it is not such a list.
 */
export function parseReminderDays(text: string): number[] | null {
  const items = text
    .split(/[\s,]+/)
    .map((item) => item.trim())
    .filter((item) => item !== '');
  if (items.length > REMINDER_DAYS_COUNT_MAX) return null;
  const days = new Set<number>();
  for (const item of items) {
    if (!/^\d{1,3}$/.test(item)) return null;
    const day = Number(item);
    if (day < 1 || day > REMINDER_DAYS_MAX) return null;
    days.add(day);
  }
  return [...days].sort((a, b) => b - a);
}

export interface ReminderFacts {
  policy: OrganisationPolicy;
  user: UserTwoFactorFacts;
  status: TwoFactorStatus;
}

export interface DueReminder {
  slot: ReminderSlot;
  /** The deadline the reminder is about; a new deadline starts its reminders afresh. */
  deadline: Date;
  /** Whether the deadline has passed (the on-the-day message) or is still ahead. */
  passed: boolean;
}

/**
 * The reminder due for this person now: the latest slot of the schedule whose time has
 * come, while they are in grace without a device; or, on the day their deadline passed,
 * the on-the-day one. Slots whose time went by while a later one came are skipped, so a
 * person added late, or an instance that was down, sends one reminder and not a burst.
 * Null when none is due (enrolled, not required, no date, or past the day).
 */
export function dueReminder(schedule: ReminderSchedule, facts: ReminderFacts, now: Date): DueReminder | null {
  const { policy, user, status } = facts;
  if (status.kind === 'grace') {
    const deadline = status.deadline;
    // The organisation's date was announced at a known time; a personal deadline's "scheduled"
    // reminder is due as soon as it is seen.
    const announcedAt =
      user.personalDeadline === null && policy.requireAllAnnouncedAt !== null
        ? policy.requireAllAnnouncedAt.getTime()
        : Number.NEGATIVE_INFINITY;
    const slots: { slot: ReminderSlot; at: number }[] = [];
    if (schedule.whenScheduled) slots.push({ slot: 'scheduled', at: announcedAt });
    for (const days of schedule.daysBefore)
      slots.push({ slot: `before-${days}`, at: deadline.getTime() - days * DAY_MS });
    let due: { slot: ReminderSlot; at: number } | null = null;
    for (const candidate of slots) {
      if (candidate.at <= now.getTime() && (due === null || candidate.at > due.at)) due = candidate;
    }
    return due === null ? null : { slot: due.slot, deadline, passed: false };
  }
  const overdue = status.kind === 'blocked' || (status.kind === 'must_set_up' && status.reason === 'deadline_passed');
  if (!overdue || !schedule.onTheDay) return null;
  const deadline = effectiveDeadlineFor(policy, user);
  if (deadline === null || now.getTime() >= deadline.getTime() + DAY_MS) return null;
  return { slot: 'on-the-day', deadline, passed: true };
}

/**
 * The super admins' summary due now for the organisation-wide start: a week before it and
 * the day before it, each while the start is still ahead. Null when none is due.
 */
export function dueSummary(policy: OrganisationPolicy, now: Date): { daysBefore: number; start: Date } | null {
  const start = policy.requireAllFrom;
  if (start === null || now.getTime() >= start.getTime()) return null;
  let due: number | null = null;
  for (const days of SUMMARY_DAYS_BEFORE) {
    const at = start.getTime() - days * DAY_MS;
    const announced = policy.requireAllAnnouncedAt?.getTime() ?? Number.NEGATIVE_INFINITY;
    // A start announced after a summary's time never had that summary.
    if (at <= now.getTime() && at >= announced && (due === null || days < due)) due = days;
  }
  return due === null ? null : { daysBefore: due, start };
}
