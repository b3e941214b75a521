// Email from the use cases: a message is rendered, its parts sealed with the instance key,
// and queued in the caller's transaction, so it is sent if and only if what caused it is
// committed. The caller wakes the sender once its commit is done (mailQueued).
import { randomUUID } from 'node:crypto';
import { linkMailOf, messageIdOf, setPasswordLinkOf, type LinkMailKind, type RenderedMail } from '../domain/mail.js';
import { isSealedWith, openSecret, sealSecret, type SecretKeyring } from '../domain/secret-box.js';
import type { Db } from '../store/db.js';
import { listSealedBodiesAfter, replaceSealedBodyIfUnchanged, type QueuedMail } from '../store/mail-outbox.js';
import type { Tenant, TenantInTransaction } from '../store/tenant.js';
import { audit, type AuditContext } from './audit.js';
import type { Deps } from './deps.js';

/** The sealed parts of a message, bound to its row. */
export interface MailBody {
  fromName: string;
  text: string;
  html: string;
}

const boundTo = (id: string) => `mail:${id}`;

export function sealMailBody(keys: SecretKeyring, id: string, body: MailBody): string {
  return sealSecret(keys.current, Buffer.from(JSON.stringify(body), 'utf8'), boundTo(id));
}

/** Throws WrongSecretKeyError when no key of the ring opens it. */
export function openMailBody(keys: SecretKeyring, id: string, sealed: string): MailBody {
  return JSON.parse(Buffer.from(openSecret(keys, sealed, boundTo(id))).toString('utf8')) as MailBody;
}

/** Seals and queues a rendered message in the caller's transaction. */
export async function queueMail(deps: Deps, trx: TenantInTransaction, mail: RenderedMail): Promise<void> {
  await queueMails(deps, trx, [mail]);
}

/** Seals and queues rendered messages in the caller's transaction, in as few statements as can hold them. */
export async function queueMails(deps: Deps, trx: TenantInTransaction, mails: readonly RenderedMail[]): Promise<void> {
  const now = deps.now();
  await trx.mailOutbox.queueAll(
    mails.map((mail) => {
      const id = randomUUID();
      return {
        id,
        recipient: mail.to,
        kind: mail.kind,
        subject: mail.subject,
        sealedBody: sealMailBody(deps.secretKey, id, { fromName: mail.fromName, text: mail.text, html: mail.html }),
        messageId: messageIdOf(id, deps.publicUrl),
        now,
      };
    }),
  );
}

/** The message of `kind` carrying a set-password link for `person`, queued in the caller's transaction. */
export async function queueLinkMail(
  deps: Deps,
  trx: TenantInTransaction,
  kind: LinkMailKind,
  person: { name: string; email: string },
  token: string,
  validFor: string,
): Promise<void> {
  const organisation = await trx.organisation.get();
  const mail = linkMailOf(kind, {
    organisationName: organisation.name,
    recipientName: person.name,
    recipientEmail: person.email,
    link: setPasswordLinkOf(deps.publicUrl, token),
    validFor,
  });
  await queueMail(deps, trx, mail);
}

/** What the super admins see of their organisation's messages not sent. */
export function unsentMail(tenant: Tenant): Promise<QueuedMail[]> {
  return tenant.mailOutbox.listUnsent();
}

export type SendAgain = { ok: true; mail: QueuedMail } | { ok: false; reason: 'not_failed' };

/** A failed message is tried again, with a new day of tries. */
export async function sendMailAgain(deps: Deps, tenant: Tenant, context: AuditContext, id: string): Promise<SendAgain> {
  const mail = await tenant.mailOutbox.find(id);
  const now = deps.now();
  if (mail === null || !(await tenant.mailOutbox.sendAgain(id, now))) return { ok: false, reason: 'not_failed' };
  await audit(tenant, now, context, 'email_sent_again', null, {
    kind: mail.kind,
    recipient: mail.recipient,
    message: mail.id,
  });
  deps.mailQueued?.();
  return { ok: true, mail };
}

/**
 * During a key rotation: seals the parts of every message not sent with the current key,
 * each by its own conditional update (a message sent meanwhile has none left to seal).
 */
export async function resealMailBodies(db: Db, keys: SecretKeyring): Promise<{ resealed: number; unreadable: number }> {
  let resealed = 0;
  let unreadable = 0;
  let after: string | null = null;
  for (;;) {
    const batch = await listSealedBodiesAfter(db, after, 100);
    for (const { id, sealedBody } of batch) {
      if (isSealedWith(keys.current, sealedBody)) continue;
      let plain: Uint8Array;
      try {
        plain = openSecret(keys, sealedBody, boundTo(id));
      } catch {
        unreadable++;
        continue;
      }
      if (await replaceSealedBodyIfUnchanged(db, id, sealedBody, sealSecret(keys.current, plain, boundTo(id))))
        resealed++;
    }
    const last = batch.at(-1);
    if (last === undefined || batch.length < 100) break;
    after = last.id;
  }
  return { resealed, unreadable };
}
