// The emails Twofold sends: what each says (a plain-text part and an HTML part, every value
// escaped), who it is from, why the person receives it; and how a refused or failed
// sending is retried. Pure: the services queue what these functions return.
import { html } from './html.js';

export const MAIL_KINDS = [
  'invitation',
  'password_link',
  'forgotten_password',
  'reminder',
  'deadline_summary',
  'security_notice',
] as const;
export type MailKind = (typeof MAIL_KINDS)[number];

/** The kinds that carry a set-password link. */
export const LINK_MAIL_KINDS = ['invitation', 'password_link', 'forgotten_password'] as const;
export type LinkMailKind = (typeof LINK_MAIL_KINDS)[number];

export function isMailKind(value: string): value is MailKind {
  return (MAIL_KINDS as readonly string[]).includes(value);
}

/** What the super admins' page calls each kind. */
export const MAIL_KIND_LABELS: Record<MailKind, string> = {
  invitation: 'Invitation',
  password_link: 'Set-password link from an administrator',
  forgotten_password: 'Forgotten password link',
  reminder: 'Reminder to set up two-factor authentication',
  deadline_summary: 'Summary before the start date, to super admins',
  security_notice: 'Security notice',
};

/** A message as queued: the subject in the clear, the parts sealed until it is sent. */
export interface RenderedMail {
  kind: MailKind;
  to: string;
  subject: string;
  /** The sender's display name: the organisation's. */
  fromName: string;
  text: string;
  html: string;
}

export interface LinkMail {
  organisationName: string;
  recipientName: string;
  recipientEmail: string;
  /** The whole link, built from the public URL (setPasswordLinkOf). */
  link: string;
  /** How long the link works, in words ("7 days", "30 minutes"). */
  validFor: string;
}

/** An address of Twofold's, built from its public URL. */
export function addressOf(publicUrl: string, path: string): string {
  return `${publicUrl.replace(/\/+$/, '')}${path}`;
}

/**
 * The plain-text and HTML parts of a message made of a greeting, paragraphs, one link and
 * the closing line that says why the person receives it; every value escaped in HTML.
 */
export function messagePartsOf(
  subject: string,
  greeting: string,
  paragraphs: readonly string[],
  link: { label: string; href: string },
  why: string,
): { text: string; html: string } {
  const text = [
    greeting,
    '',
    ...paragraphs.flatMap((p) => [p, '']),
    `${link.label}: ${link.href}`,
    '',
    '-- ',
    why,
    '',
  ].join('\n');
  const body = html`<!doctype html>
<html lang="en">
  <head><meta charset="utf-8" /><title>${subject}</title></head>
  <body>
    <p>${greeting}</p>
    ${paragraphs.map((p) => html`<p>${p}</p>`)}
    <p><a href="${link.href}">${link.label}</a></p>
    <p>If the link does not work, copy this address into your browser: ${link.href}</p>
    <hr />
    <p><small>${why}</small></p>
  </body>
</html>
`;
  return { text, html: body.text };
}

export function setPasswordLinkOf(publicUrl: string, token: string): string {
  return addressOf(publicUrl, `/set-password/${encodeURIComponent(token)}`);
}

interface Wording {
  subject: string;
  opening: string;
  action: string;
  why: string;
}

function wordingOf(kind: LinkMailKind, mail: LinkMail): Wording {
  const org = mail.organisationName;
  switch (kind) {
    case 'invitation':
      return {
        subject: `Set your password for ${org}`,
        opening: `An administrator of ${org} has created an account for you on Twofold, where ${org} signs in with two-factor authentication.`,
        action: 'Choose your password',
        why: `You receive this email because an administrator of ${org} added ${mail.recipientEmail} as a user.`,
      };
    case 'password_link':
      return {
        subject: `A new password link for ${org}`,
        opening: `An administrator of ${org} has sent you a link to set a new password.`,
        action: 'Set a new password',
        why: `You receive this email because an administrator of ${org} asked for a new password link for ${mail.recipientEmail}. If you did not expect it, tell them.`,
      };
    case 'forgotten_password':
      return {
        subject: `Set a new password for ${org}`,
        opening: `Someone, hopefully you, said they forgot the password of ${mail.recipientEmail} at ${org}.`,
        action: 'Set a new password',
        why: `You receive this email because "Forgot your password?" was used with ${mail.recipientEmail}. If it was not you, ignore it: your password stays as it is.`,
      };
  }
}

const TWO_FACTOR_KEPT =
  'Setting a password does not change your two-factor authentication: you still give your second factor when you sign in.';

/** The message of one kind that carries a set-password link. */
export function linkMailOf(kind: LinkMailKind, mail: LinkMail): RenderedMail {
  const words = wordingOf(kind, mail);
  const lasts = `The link works once, for ${mail.validFor}.`;
  const text = [
    `Hello ${mail.recipientName},`,
    '',
    words.opening,
    '',
    `${words.action}: ${mail.link}`,
    '',
    `${lasts} ${TWO_FACTOR_KEPT}`,
    '',
    '-- ',
    words.why,
    '',
  ].join('\n');
  const body = html`<!doctype html>
<html lang="en">
  <head><meta charset="utf-8" /><title>${words.subject}</title></head>
  <body>
    <p>Hello ${mail.recipientName},</p>
    <p>${words.opening}</p>
    <p><a href="${mail.link}">${words.action}</a></p>
    <p>${lasts} ${TWO_FACTOR_KEPT}</p>
    <p>If the button does not work, copy this address into your browser: ${mail.link}</p>
    <hr />
    <p><small>${words.why}</small></p>
  </body>
</html>
`;
  return {
    kind,
    to: mail.recipientEmail,
    subject: words.subject,
    fromName: mail.organisationName,
    text,
    html: body.text,
  };
}

/** A Message-ID of Twofold's for a queued message: stable across every attempt to send it. */
export function messageIdOf(id: string, publicUrl: string): string {
  return `<${id}@${new URL(publicUrl).hostname}>`;
}

// Retrying: a temporary failure waits 1, 2, 4, 8 … minutes, at most 2 hours between tries,
// and the message is tried for at least a day before it is marked failed.
export const FIRST_RETRY_MINUTES = 1;
export const LONGEST_RETRY_MINUTES = 120;
export const RETRY_FOR_MINUTES = 24 * 60;
/** How long a claim on a message lasts: an instance that dies while sending gives it up then. */
export const SENDING_LEASE_MINUTES = 2;

// How long the outbox keeps a message that is done with (housekeeping deletes it after).
// Nothing in Twofold reads a sent message: /admin/email lists only those not sent. Its row
// (recipient, subject, kind, Message-ID, when it was sent; its parts are erased) only lets
// an operator answer "I never got it" by matching the Message-ID in the SMTP server's log:
// a week covers the longest link a message carries (an invitation's 7 days), after which
// the answer is a new link anyway; a record of who was sent what is not kept longer.
// A failed message is kept, with its sealed parts, while a super admin may still press Send
// again on /admin/email: 30 days from its last try gives one who looks once a month the
// chance, whereas by then every link in it has expired and a notice or reminder is stale,
// so the page stops filling with failures nobody will send and the parts stop being kept.
export const SENT_MAIL_KEPT_DAYS = 7;
export const FAILED_MAIL_KEPT_DAYS = 30;

/** The wait after the `attempts`th failed attempt (1 for the first). */
export function retryDelayMinutes(attempts: number): number {
  return Math.min(LONGEST_RETRY_MINUTES, FIRST_RETRY_MINUTES * 2 ** Math.max(0, Math.min(attempts - 1, 30)));
}

/** A failed attempt: whether it is worth trying again, and what the super admins read. */
export interface SendFailure {
  permanent: boolean;
  detail: string;
}

/**
 * An SMTP answer of 5xx refuses the message for good (an unknown mailbox, a refused sender),
 * except 535, a refused login, which an administrator can fix; 4xx answers and connections
 * that fail or time out are temporary.
 */
export function isPermanentRefusal(responseCode: number | null): boolean {
  return responseCode !== null && responseCode >= 500 && responseCode < 600 && responseCode !== 535;
}

export type AfterFailure = { state: 'failed' } | { state: 'pending'; nextAttemptAt: Date };

/** What becomes of a message after an attempt that failed, from when its tries started. */
export function afterFailure(failure: SendFailure, attempts: number, triesSince: Date, now: Date): AfterFailure {
  if (failure.permanent) return { state: 'failed' };
  if (now.getTime() - triesSince.getTime() >= RETRY_FOR_MINUTES * 60_000) return { state: 'failed' };
  return { state: 'pending', nextAttemptAt: new Date(now.getTime() + retryDelayMinutes(attempts) * 60_000) };
}
