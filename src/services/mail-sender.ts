// Each instance's sender: it claims a due message with a lease, sends it, and records the
// outcome; a message whose instance died while sending is claimed again once its lease
// has run out, and goes with the same Message-ID. It looks for due messages when woken
// after a commit that queued one, and every POLL_INTERVAL_MS; a test drives it with
// sendDue() under its frozen clock.
import { afterFailure, SENDING_LEASE_MINUTES } from '../domain/mail.js';
import { claimDueMail, markMailSent, markMailUnsent, type ClaimedMail } from '../store/mail-outbox.js';
import { addMinutes, type Deps } from './deps.js';
import { openMailBody, type MailBody } from './mail.js';
import { mailTransportOf, type MailSettings, type MailTransport, type SendOutcome } from './mail-transport.js';

export const POLL_INTERVAL_MS = 30_000;
/** How long stopping waits for a message being sent; its lease covers the rest. */
const STOP_WAIT_MS = 5_000;

export interface MailLog {
  info(detail: object, message: string): void;
  warn(detail: object, message: string): void;
}

export interface MailRun {
  sent: number;
  retrying: number;
  failed: number;
}

export interface MailSender {
  /** Sends every message due now, one claim at a time. */
  sendDue(): Promise<MailRun>;
  /** Looks for due messages soon, once started. */
  wake(): void;
  /** Looks now, when woken, and every POLL_INTERVAL_MS; what it logs goes to `log`. */
  start(log: MailLog): void;
  stop(): Promise<void>;
}

async function attempt(
  deps: Deps,
  settings: MailSettings,
  transport: MailTransport,
  mail: ClaimedMail,
): Promise<SendOutcome> {
  let body: MailBody;
  try {
    body = openMailBody(deps.secretKey, mail.id, mail.sealedBody);
  } catch {
    return { ok: false, failure: { permanent: true, detail: 'the message cannot be opened with the secret key' } };
  }
  return transport.send({
    messageId: mail.messageId,
    from: { name: body.fromName, address: settings.from },
    to: mail.recipient,
    subject: mail.subject,
    text: body.text,
    html: body.html,
  });
}

export function mailSenderOf(deps: Deps, settings: MailSettings): MailSender {
  const transport = mailTransportOf(settings.transport);
  let log: MailLog | null = null;
  let running: Promise<MailRun> | null = null;
  let again = false;
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;

  async function sendOne(mail: ClaimedMail, run: MailRun): Promise<void> {
    const outcome = await attempt(deps, settings, transport, mail);
    const now = deps.now();
    if (outcome.ok) {
      if (await markMailSent(deps.db, mail, now)) run.sent++;
      return;
    }
    const next = afterFailure(outcome.failure, mail.attempts, mail.retrySince, now);
    const retryAt = next.state === 'pending' ? next.nextAttemptAt : null;
    if (!(await markMailUnsent(deps.db, mail, outcome.failure.detail, retryAt))) return;
    const detail = { mail: mail.id, kind: mail.kind, attempts: mail.attempts, error: outcome.failure.detail };
    if (retryAt === null) {
      run.failed++;
      log?.warn(detail, 'email not sent and not tried again: shown to super admins on /admin/email');
    } else {
      run.retrying++;
      log?.warn({ ...detail, nextAttemptAt: retryAt.toISOString() }, 'email not sent; it will be tried again');
    }
  }

  async function sendDue(): Promise<MailRun> {
    const run: MailRun = { sent: 0, retrying: 0, failed: 0 };
    while (!stopped) {
      const now = deps.now();
      const [mail] = await claimDueMail(deps.db, now, addMinutes(now, SENDING_LEASE_MINUTES), 1);
      if (mail === undefined) break;
      await sendOne(mail, run);
    }
    return run;
  }

  function runInBackground(): void {
    if (stopped) return;
    if (running !== null) {
      again = true;
      return;
    }
    running = sendDue();
    running
      .then(
        (run) => {
          if (run.sent > 0) log?.info(run, 'email sent');
        },
        (error: unknown) => log?.warn({ err: error }, 'the email sender failed; it looks again soon'),
      )
      .finally(() => {
        running = null;
        if (again) {
          again = false;
          runInBackground();
        }
      });
  }

  return {
    sendDue,
    wake: () => {
      if (timer !== null) runInBackground();
    },
    start(to) {
      log = to;
      timer = setInterval(runInBackground, POLL_INTERVAL_MS).unref();
      runInBackground();
    },
    async stop() {
      stopped = true;
      if (timer !== null) clearInterval(timer);
      timer = null;
      const current = running;
      if (current !== null) {
        let wait: NodeJS.Timeout | undefined;
        await Promise.race([
          current.catch(() => undefined),
          new Promise((resolve) => (wait = setTimeout(resolve, STOP_WAIT_MS))),
        ]);
        clearTimeout(wait);
      }
      transport.close();
    },
  };
}
