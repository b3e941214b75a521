// What a reminder before a deadline says, and the super admins' summary before the start.
// Pure, like every message (domain/mail.ts): the reminder run queues what these return.
import { daysLeft } from './enforcement.js';
import { addressOf, messagePartsOf, type RenderedMail } from './mail.js';
import type { Organisation } from './organisations.js';
import type { DueReminder } from './reminders.js';
import { formatDateTime } from './time-zones.js';
import type { User } from './users.js';

function inDays(days: number): string {
  return days === 1 ? '1 day' : `${days} days`;
}

export interface ReminderMail {
  organisation: Organisation;
  person: User;
  reminder: DueReminder;
  now: Date;
  publicUrl: string;
}

/** To a person without a device: their deadline ahead, or passed today. */
export function reminderMailOf({ organisation, person, reminder, now, publicUrl }: ReminderMail): RenderedMail {
  const org = organisation.name;
  const date = formatDateTime(reminder.deadline, organisation.timeZone);
  const refused = organisation.policy.afterDeadline === 'block';
  const howTo =
    'Sign in, and link an authenticator app or a security key on the page Twofold shows you. It takes a minute; keep your phone or key at hand.';
  let subject: string;
  let paragraphs: string[];
  if (reminder.passed) {
    subject = `Two-factor authentication is now required for ${org}`;
    paragraphs = [
      `Since ${date}, ${org} requires two-factor authentication for your account, and you have not set it up yet.`,
      refused
        ? 'You cannot sign in until an administrator of your organisation lets you set it up. Ask them.'
        : `At your next sign-in you will be asked to set it up before you can go on. ${howTo}`,
    ];
  } else {
    subject = `Set up two-factor authentication for ${org} by ${date}`;
    paragraphs = [
      `${org} requires two-factor authentication for your account from ${date}, in ${inDays(daysLeft(reminder.deadline, now))}.`,
      howTo,
      refused
        ? `If you have not set it up by then, you will not be able to sign in until an administrator helps you.`
        : `If you have not set it up by then, you will have to do it at your next sign-in before you can go on.`,
    ];
  }
  const parts = messagePartsOf(
    subject,
    `Hello ${person.name},`,
    paragraphs,
    { label: 'Sign in to Twofold', href: addressOf(publicUrl, '/login') },
    `You receive this email because ${org} requires two-factor authentication for ${person.email} and the account does not have it yet. These reminders stop once it is set up.`,
  );
  return { kind: 'reminder', to: person.email, subject, fromName: org, ...parts };
}

export interface SummaryMail {
  organisation: Organisation;
  admin: User;
  start: Date;
  /** Active people whose deadline is the start and who have no device yet. */
  withoutDevice: number;
  now: Date;
  publicUrl: string;
}

/** To a super admin, a week and a day before the organisation-wide start. */
export function summaryMailOf({
  organisation,
  admin,
  start,
  withoutDevice,
  now,
  publicUrl,
}: SummaryMail): RenderedMail {
  const org = organisation.name;
  const date = formatDateTime(start, organisation.timeZone);
  const people = withoutDevice === 1 ? '1 person has' : `${withoutDevice} people have`;
  const subject = `${people} not set up two-factor authentication for ${org}`;
  const refused = organisation.policy.afterDeadline === 'block';
  const paragraphs = [
    `Two-factor authentication is required for everyone at ${org} from ${date}, in ${inDays(daysLeft(start, now))}. ${people} not set it up yet.`,
    refused
      ? `${org} is in "cannot sign in" mode: ${withoutDevice === 1 ? 'that person' : `those ${withoutDevice} people`} will be refused from ${date} until they set it up with your help.`
      : `${org} is in "set up at next sign-in" mode: they will be asked to set it up at their next sign-in after ${date}.`,
    'Twofold reminds each of them by email. The users page lists who they are.',
  ];
  const parts = messagePartsOf(
    subject,
    `Hello ${admin.name},`,
    paragraphs,
    { label: 'See who has not set it up', href: addressOf(publicUrl, '/admin/users?without=2fa') },
    `You receive this email because you are a super admin of ${org}, which requires two-factor authentication from ${date}.`,
  );
  return { kind: 'deadline_summary', to: admin.email, subject, fromName: org, ...parts };
}
