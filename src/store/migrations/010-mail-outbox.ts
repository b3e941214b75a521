import type { Kysely } from 'kysely';

// Email, queued in the commit of the event that causes it and sent by whichever instance
// claims it. A message's parts are sealed with the instance key (they carry set-password
// links) and erased once it is sent; the recipient, subject and kind stay for the super
// admins' page. An instance claims a message by a conditional update that sets
// lease_until; one that dies while sending gives it up when the lease ends, and the
// message goes again with the same Message-ID. retry_since is when its tries started
// (when queued, or when a super admin sent it again), from which a day of retries counts.
// Requests for a forgotten-password link are counted per address, account and client for
// an hour, in rows of their own.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('mail_outbox')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('organisation_id', 'text', (c) => c.notNull().references('organisations.id'))
    .addColumn('recipient', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('sealed_body', 'text')
    .addColumn('message_id', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'text', (c) => c.notNull())
    .addColumn('lease_until', 'text')
    .addColumn('last_error', 'text')
    .addColumn('retry_since', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('sent_at', 'text')
    .execute();
  await db.schema.createIndex('mail_outbox_due').on('mail_outbox').columns(['state', 'next_attempt_at']).execute();
  await db.schema
    .createIndex('mail_outbox_by_organisation')
    .on('mail_outbox')
    .columns(['organisation_id', 'state'])
    .execute();
  await db.schema
    .createTable('password_requests')
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('requested_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('password_requests_by_key')
    .on('password_requests')
    .columns(['key', 'requested_at'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('password_requests').execute();
  await db.schema.dropTable('mail_outbox').execute();
}
