// How a message leaves: through an SMTP server (TWOFOLD_SMTP_URL), or, on the embedded
// default, as an .eml file in the data directory's outbox/. Either way the outcome is a
// value, with what the SMTP server answered when it refused.
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport/index.js';
import { isPermanentRefusal, type SendFailure } from '../domain/mail.js';

export type MailTransportSetting = { kind: 'smtp'; url: string } | { kind: 'files'; dir: string };

export interface MailSettings {
  /** TWOFOLD_MAIL_FROM: the sender's address; the organisation's name is its display name. */
  from: string;
  transport: MailTransportSetting;
}

export interface OutgoingMail {
  messageId: string;
  from: { name: string; address: string };
  to: string;
  subject: string;
  text: string;
  html: string;
}

export type SendOutcome = { ok: true } | { ok: false; failure: SendFailure };

export interface MailTransport {
  send(mail: OutgoingMail): Promise<SendOutcome>;
  close(): void;
}

/** How long an SMTP server may take to connect, greet, or answer any command. */
export const SMTP_TIMEOUT_MS = 60_000;

function failureOf(error: unknown): SendFailure {
  const { responseCode, response, code, message } = (error ?? {}) as {
    responseCode?: unknown;
    response?: unknown;
    code?: unknown;
    message?: unknown;
  };
  const status = typeof responseCode === 'number' ? responseCode : null;
  const said = typeof response === 'string' ? response : typeof message === 'string' ? message : String(error);
  const detail = [typeof code === 'string' ? code : null, said].filter((part) => part !== null).join(': ');
  return { permanent: isPermanentRefusal(status), detail };
}

function mailOptionsOf(mail: OutgoingMail) {
  return {
    messageId: mail.messageId,
    from: { name: mail.from.name, address: mail.from.address },
    to: mail.to,
    subject: mail.subject,
    text: mail.text,
    html: mail.html,
  };
}

function smtpTransport(url: string): MailTransport {
  const transporter = nodemailer.createTransport({
    url,
    connectionTimeout: SMTP_TIMEOUT_MS,
    greetingTimeout: SMTP_TIMEOUT_MS,
    socketTimeout: SMTP_TIMEOUT_MS,
    // Never a log of the conversation: it holds the message.
    logger: false,
    debug: false,
  } as SMTPTransport.Options);
  return {
    async send(mail) {
      try {
        await transporter.sendMail(mailOptionsOf(mail));
        return { ok: true };
      } catch (error) {
        return { ok: false, failure: failureOf(error) };
      }
    },
    close: () => transporter.close(),
  };
}

/** Written whole under a temporary name, then renamed: a reader never sees half a message. */
function filesTransport(dir: string): MailTransport {
  const builder = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  return {
    async send(mail) {
      try {
        const info = await builder.sendMail(mailOptionsOf(mail));
        await mkdir(dir, { recursive: true, mode: 0o700 });
        const name = mail.messageId.replace(/[^A-Za-z0-9.@-]/g, '');
        const path = join(dir, `${name}.eml`);
        await writeFile(`${path}.tmp`, info.message as Buffer, { mode: 0o600 });
        await rename(`${path}.tmp`, path);
        return { ok: true };
      } catch (error) {
        return { ok: false, failure: failureOf(error) };
      }
    },
    close: () => builder.close(),
  };
}

export function mailTransportOf(setting: MailTransportSetting): MailTransport {
  return setting.kind === 'smtp' ? smtpTransport(setting.url) : filesTransport(setting.dir);
}

/** Where messages go, for the start-up line: the SMTP server's host and port, never its credentials. */
export function describeMailTransport(setting: MailTransportSetting): string {
  if (setting.kind === 'files') {
    return `Email: no SMTP server set (TWOFOLD_SMTP_URL); messages are written as .eml files to ${setting.dir}`;
  }
  const url = new URL(setting.url);
  return `Email: sent through ${url.protocol}//${url.host}`;
}
