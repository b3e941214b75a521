// Security notices by email: the events a person is always told about, whatever anyone has
// set (they cannot be turned off), and what each notice says. Pure: services/security-notices.ts
// queues them in the commit of the event.
import type { AuditAction, AuditDetail, ClientInfo } from './audit.js';
import { addressOf, messagePartsOf, type RenderedMail } from './mail.js';
import { formatDateTime } from './time-zones.js';

export const EMAILED_NOTICES = [
  'device_added',
  'device_removed',
  'two_factor_reset',
  'recovery_code_used',
  'second_factor_locked',
  'code_failed',
  'password_changed',
  'password_set_with_link',
  'user_deactivated',
  'user_reactivated',
] as const satisfies readonly AuditAction[];

export type EmailedNotice = (typeof EMAILED_NOTICES)[number];

/**
 * Whether the event is mailed to the person it is about. A wrong code is, once, when it is
 * the first of a run at sign-in: the right password was given, so someone else may know it.
 * The wrong codes after it, or at step-up and enrolment (where the person is signed in), are
 * not; the lock that ten of them bring is.
 */
export function isEmailedNotice(action: AuditAction, detail: AuditDetail): action is EmailedNotice {
  if (!(EMAILED_NOTICES as readonly string[]).includes(action)) return false;
  if (action === 'code_failed') return detail.path === 'login' && detail.failures_in_a_row === 1;
  return true;
}

export interface SecurityNotice {
  organisation: { name: string; timeZone: string };
  person: { name: string; email: string };
  action: EmailedNotice;
  detail: AuditDetail;
  at: Date;
  /** Where the request that caused it came from, when a person's browser caused it. */
  client: ClientInfo | null;
  /** An administrator's doing (not the person's own). */
  byAdministrator: boolean;
  publicUrl: string;
}

const NOT_YOU_SIGN_IN =
  'If this was not you, sign in now, change your password and check your devices, or ask an administrator of your organisation for help.';
const NOT_YOU_ADMIN = 'If you did not expect this, ask an administrator of your organisation.';

function text(value: AuditDetail[string] | undefined): string {
  return value === undefined || value === null ? '' : String(value);
}

function deviceWord(detail: AuditDetail): string {
  return detail.kind === 'security_key' ? 'security key or passkey' : 'device';
}

/** The subject and what happened, per event. */
function wordingOf(n: SecurityNotice): { subject: string; happened: string; advice: string } {
  const org = n.organisation.name;
  const device = text(n.detail.device);
  switch (n.action) {
    case 'device_added':
      return {
        subject: `A ${deviceWord(n.detail)} was added to your ${org} account`,
        happened: `The ${deviceWord(n.detail)} “${device}” was added as a second factor to your account.`,
        advice: NOT_YOU_SIGN_IN,
      };
    case 'device_removed':
      return {
        subject: `A device was removed from your ${org} account`,
        happened: n.byAdministrator
          ? `An administrator removed the device “${device}” from your account.`
          : `The device “${device}” was removed from your account.`,
        advice: n.byAdministrator ? NOT_YOU_ADMIN : NOT_YOU_SIGN_IN,
      };
    case 'two_factor_reset':
      return {
        subject: `Your two-factor authentication at ${org} was reset`,
        happened:
          'An administrator reset your two-factor authentication: your devices and recovery codes were removed, and you were signed out. At your next sign-in you will link a new device.',
        advice: NOT_YOU_ADMIN,
      };
    case 'recovery_code_used': {
      const left = Number(n.detail.left ?? 0);
      return {
        subject: `A recovery code was used for your ${org} account`,
        happened: `A recovery code was used instead of your device. ${left === 1 ? '1 recovery code is' : `${left} recovery codes are`} left. If you lost your device, remove it and link a new one on the Two-factor authentication page.`,
        advice: NOT_YOU_SIGN_IN,
      };
    }
    case 'second_factor_locked':
      return {
        subject: `Your second factor at ${org} is locked after wrong codes`,
        happened: `After ${text(n.detail.failures_in_a_row)} wrong codes in a row, no code is accepted for your account until ${
          typeof n.detail.until === 'string'
            ? formatDateTime(new Date(n.detail.until), n.organisation.timeZone)
            : 'later'
        }.`,
        advice: NOT_YOU_SIGN_IN,
      };
    case 'code_failed':
      return {
        subject: `Your ${org} password was given with a wrong code`,
        happened:
          'Someone gave the right password for your account, then a wrong code. If it was you, nothing needs doing. If it was not, someone knows your password: your second factor stopped them.',
        advice: 'Change your password now, and do not use it anywhere else.',
      };
    case 'password_changed':
      return {
        subject: `Your ${org} password was changed`,
        happened: 'The password of your account was changed, and your other sessions were signed out.',
        advice: NOT_YOU_SIGN_IN,
      };
    case 'password_set_with_link':
      return {
        subject: `A password was set for your ${org} account`,
        happened:
          'A password was set for your account with a set-password link, and your other sessions were signed out. Your two-factor authentication stays as it was.',
        advice: NOT_YOU_ADMIN,
      };
    case 'user_deactivated':
      return {
        subject: `Your ${org} account was deactivated`,
        happened: 'An administrator deactivated your account: you cannot sign in, and you were signed out.',
        advice: NOT_YOU_ADMIN,
      };
    case 'user_reactivated':
      return {
        subject: `Your ${org} account was reactivated`,
        happened: 'An administrator reactivated your account: you can sign in again.',
        advice: NOT_YOU_ADMIN,
      };
  }
}

/** The email telling a person of a change to how they sign in. */
export function securityNoticeMailOf(n: SecurityNotice): RenderedMail {
  const words = wordingOf(n);
  const when = `When: ${formatDateTime(n.at, n.organisation.timeZone)}.`;
  const where = n.client === null ? '' : ` From: ${n.client.ip}, ${n.client.userAgent || 'an unknown browser'}.`;
  const parts = messagePartsOf(
    words.subject,
    `Hello ${n.person.name},`,
    [words.happened, `${when}${where}`, words.advice],
    { label: 'Sign in to Twofold', href: addressOf(n.publicUrl, '/login') },
    `You receive this security notice because it concerns how ${n.person.email} signs in to ${n.organisation.name}. Security notices cannot be turned off.`,
  );
  return {
    kind: 'security_notice',
    to: n.person.email,
    subject: words.subject,
    fromName: n.organisation.name,
    ...parts,
  };
}
