import type { Kysely } from 'kysely';

// Reminders before a two-factor deadline. An organisation's schedule (see
// domain/reminders.ts; null is the default one), and each reminder sent: one row per person,
// deadline and slot, whose primary key makes a second sending of the same reminder, by
// another instance or after a restart, insert nothing. A summary to a super admin is a row
// of theirs with a slot of its own.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('organisations').addColumn('reminder_schedule', 'text').execute();
  await db.schema
    .createTable('reminders_sent')
    .addColumn('organisation_id', 'text', (c) => c.notNull().references('organisations.id'))
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id'))
    .addColumn('deadline_at', 'text', (c) => c.notNull())
    .addColumn('slot', 'text', (c) => c.notNull())
    .addColumn('sent_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('reminders_sent_pk', ['organisation_id', 'user_id', 'deadline_at', 'slot'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('reminders_sent').execute();
  await db.schema.alterTable('organisations').dropColumn('reminder_schedule').execute();
}
