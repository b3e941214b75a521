// The outbox: email queued in the commit of the event that causes it. The organisation's
// repository queues and lists its messages; the sender, instance-wide, claims due messages
// with a lease and records how each attempt ended. Every change of state after a claim is
// conditional on the claim (its lease), so an instance whose lease ran out changes nothing.
import { sql } from 'kysely';
import { isMailKind, type MailKind } from '../domain/mail.js';
import type { Executor } from './db.js';
import { dateOrNull, iso } from './rows.js';
import type { MailOutboxTable } from './schema.js';
import type { Selectable } from 'kysely';

export type MailState = 'pending' | 'sending' | 'sent' | 'failed';

/** A message as the super admins' page shows it: never its parts. */
export interface QueuedMail {
  id: string;
  organisationId: string;
  recipient: string;
  kind: MailKind;
  subject: string;
  messageId: string;
  state: MailState;
  attempts: number;
  nextAttemptAt: Date;
  lastError: string | null;
  retrySince: Date;
  createdAt: Date;
  sentAt: Date | null;
}

/** A message claimed for sending: with its sealed parts and the lease that is its claim. */
export interface ClaimedMail extends QueuedMail {
  sealedBody: string;
  leaseUntil: Date;
}

export interface NewMail {
  id: string;
  recipient: string;
  kind: MailKind;
  subject: string;
  sealedBody: string;
  messageId: string;
  now: Date;
}

type Row = Selectable<MailOutboxTable>;

function stateOf(text: string): MailState {
  if (text === 'pending' || text === 'sending' || text === 'sent' || text === 'failed') return text;
  throw new Error(`a queued message has the unknown state ${text}`);
}

function queuedMailFromRow(row: Row): QueuedMail {
  if (!isMailKind(row.kind)) throw new Error(`message ${row.id} has the unknown kind ${row.kind}`);
  return {
    id: row.id,
    organisationId: row.organisation_id,
    recipient: row.recipient,
    kind: row.kind,
    subject: row.subject,
    messageId: row.message_id,
    state: stateOf(row.state),
    attempts: row.attempts,
    nextAttemptAt: new Date(row.next_attempt_at),
    lastError: row.last_error,
    retrySince: new Date(row.retry_since),
    createdAt: new Date(row.created_at),
    sentAt: dateOrNull(row.sent_at),
  };
}

/** 15 columns each: well inside SQLite's 32,766 and PostgreSQL's 65,535 parameters per statement. */
const ROWS_PER_INSERT = 1000;

/** The longest error kept: the start of an SMTP answer says what went wrong. */
const ERROR_MAX_LENGTH = 500;

export function mailOutboxRepository(db: Executor, organisationId: string) {
  /** Several messages, in multi-row inserts: a reminder run queues a page of them at once. */
  async function queueAll(mails: readonly NewMail[]): Promise<void> {
    for (let at = 0; at < mails.length; at += ROWS_PER_INSERT) {
      await db
        .insertInto('mail_outbox')
        .values(
          mails.slice(at, at + ROWS_PER_INSERT).map((mail) => ({
            id: mail.id,
            organisation_id: organisationId,
            recipient: mail.recipient,
            kind: mail.kind,
            subject: mail.subject,
            sealed_body: mail.sealedBody,
            message_id: mail.messageId,
            state: 'pending',
            attempts: 0,
            next_attempt_at: iso(mail.now),
            lease_until: null,
            last_error: null,
            retry_since: iso(mail.now),
            created_at: iso(mail.now),
            sent_at: null,
          })),
        )
        .execute();
    }
  }

  return {
    async queue(mail: NewMail): Promise<void> {
      await queueAll([mail]);
    },

    queueAll,

    /** The messages not sent (failed first, then those still being tried), newest first. */
    async listUnsent(limit = 200): Promise<QueuedMail[]> {
      const rows = await db
        .selectFrom('mail_outbox')
        .selectAll()
        .where('organisation_id', '=', organisationId)
        .where('state', 'in', ['failed', 'pending', 'sending'])
        .orderBy(sql`case when state = 'failed' then 0 else 1 end`)
        .orderBy('created_at', 'desc')
        .orderBy('id')
        .limit(limit)
        .execute();
      return rows.map(queuedMailFromRow);
    },

    async find(id: string): Promise<QueuedMail | null> {
      const row = await db
        .selectFrom('mail_outbox')
        .selectAll()
        .where('organisation_id', '=', organisationId)
        .where('id', '=', id)
        .executeTakeFirst();
      return row === undefined ? null : queuedMailFromRow(row);
    },

    /** A failed message queued again, with a new day of tries; false unless it had failed. */
    async sendAgain(id: string, now: Date): Promise<boolean> {
      const result = await db
        .updateTable('mail_outbox')
        .set({ state: 'pending', attempts: 0, next_attempt_at: iso(now), retry_since: iso(now), lease_until: null })
        .where('organisation_id', '=', organisationId)
        .where('id', '=', id)
        .where('state', '=', 'failed')
        .where('sealed_body', 'is not', null)
        .executeTakeFirst();
      return result.numUpdatedRows === 1n;
    },
  };
}

export type MailOutboxRepository = ReturnType<typeof mailOutboxRepository>;

// The sender's side, instance-wide: any instance sends any organisation's messages.

/** Pending and due, or claimed by an instance whose lease has run out. */
function whereDue(now: Date) {
  return sql<boolean>`((state = 'pending' and next_attempt_at <= ${iso(now)}) or (state = 'sending' and lease_until <= ${iso(now)}))`;
}

/**
 * Claims up to `limit` due messages until `leaseUntil`. Each claim is one conditional update,
 * which on PostgreSQL waits for a concurrent claim of the same row and then finds it no
 * longer due: two instances never claim the same message.
 */
export async function claimDueMail(db: Executor, now: Date, leaseUntil: Date, limit: number): Promise<ClaimedMail[]> {
  // Two walks along mail_outbox_due, each in order: one query with both kinds (an OR) sorted
  // every due row to find the first, which with a backlog of 100,000 reminders held the
  // event loop for tens of milliseconds per message. Claims given up by a dead instance
  // first: they were due before anything still pending.
  const dueOf = (state: 'sending' | 'pending', n: number) =>
    db
      .selectFrom('mail_outbox')
      .select('id')
      .where('state', '=', state)
      .where(state === 'sending' ? 'lease_until' : 'next_attempt_at', '<=', iso(now))
      .orderBy('next_attempt_at')
      .limit(n)
      .execute();
  const abandoned = await dueOf('sending', limit);
  const due =
    abandoned.length < limit ? [...abandoned, ...(await dueOf('pending', limit - abandoned.length))] : abandoned;
  const claimed: ClaimedMail[] = [];
  for (const { id } of due) {
    const row = await db
      .updateTable('mail_outbox')
      .set((eb) => ({ state: 'sending', lease_until: iso(leaseUntil), attempts: eb('attempts', '+', 1) }))
      .where('id', '=', id)
      .where(whereDue(now))
      .returningAll()
      .executeTakeFirst();
    if (row === undefined || row.sealed_body === null) continue;
    claimed.push({ ...queuedMailFromRow(row), sealedBody: row.sealed_body, leaseUntil });
  }
  return claimed;
}

function ownClaim(mail: ClaimedMail) {
  return sql<boolean>`(id = ${mail.id} and state = 'sending' and lease_until = ${iso(mail.leaseUntil)} and attempts = ${mail.attempts})`;
}

/** Sent: its parts are erased. False when the claim was lost meanwhile. */
export async function markMailSent(db: Executor, mail: ClaimedMail, now: Date): Promise<boolean> {
  const result = await db
    .updateTable('mail_outbox')
    .set({ state: 'sent', sealed_body: null, sent_at: iso(now), lease_until: null, last_error: null })
    .where(ownClaim(mail))
    .executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

/** Not sent this time: tried again at `nextAttemptAt`, or failed for good when it is null. */
export async function markMailUnsent(
  db: Executor,
  mail: ClaimedMail,
  error: string,
  nextAttemptAt: Date | null,
): Promise<boolean> {
  const result = await db
    .updateTable('mail_outbox')
    .set({
      state: nextAttemptAt === null ? 'failed' : 'pending',
      ...(nextAttemptAt !== null && { next_attempt_at: iso(nextAttemptAt) }),
      lease_until: null,
      last_error: error.slice(0, ERROR_MAX_LENGTH),
    })
    .where(ownClaim(mail))
    .executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

// Housekeeping: messages sent or failed long ago (pending and sending ones are never
// deleted). A message's last try was due at next_attempt_at: it was sent or failed at that
// try or after it, so for a sent message next_attempt_at < before follows from sent_at <
// before; it is written out so that the delete walks mail_outbox_due (state,
// next_attempt_at) from its oldest row, on SQLite and PostgreSQL alike.
function doneWithBefore(state: 'sent' | 'failed', before: Date) {
  const at = iso(before);
  return state === 'sent'
    ? sql<boolean>`(state = 'sent' and next_attempt_at < ${at} and sent_at < ${at})`
    : sql<boolean>`(state = 'failed' and next_attempt_at < ${at})`;
}

/**
 * Deletes up to `limit` messages, oldest first: sent before `before`, or failed at a try
 * due before it. The condition is checked again on each row deleted, so that a failed
 * message sent again meanwhile (pending now) stays. Returns how many were deleted.
 */
export async function deleteMailDoneWith(
  db: Executor,
  state: 'sent' | 'failed',
  before: Date,
  limit: number,
): Promise<number> {
  const result = await db
    .deleteFrom('mail_outbox')
    .where(
      'id',
      'in',
      db
        .selectFrom('mail_outbox')
        .select('id')
        .where(doneWithBefore(state, before))
        .orderBy('next_attempt_at')
        .limit(limit),
    )
    .where(doneWithBefore(state, before))
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

// For a key rotation: every sealed body still held (pending, sending or failed).

export interface SealedBody {
  id: string;
  sealedBody: string;
}

export async function listSealedBodiesAfter(
  db: Executor,
  afterId: string | null,
  limit: number,
): Promise<SealedBody[]> {
  let query = db
    .selectFrom('mail_outbox')
    .select(['id', 'sealed_body'])
    .where('sealed_body', 'is not', null)
    .orderBy('id')
    .limit(limit);
  if (afterId !== null) query = query.where('id', '>', afterId);
  const rows = await query.execute();
  return rows.flatMap((row) => (row.sealed_body === null ? [] : [{ id: row.id, sealedBody: row.sealed_body }]));
}

/** Replaces a sealed body only if it is still `expected` (and so not sent meanwhile). */
export async function replaceSealedBodyIfUnchanged(
  db: Executor,
  id: string,
  expected: string,
  replacement: string,
): Promise<boolean> {
  const result = await db
    .updateTable('mail_outbox')
    .set({ sealed_body: replacement })
    .where('id', '=', id)
    .where('sealed_body', '=', expected)
    .executeTakeFirst();
  return result.numUpdatedRows === 1n;
}
