import type { Kysely } from 'kysely';

// Second-factor lockout, password throttles, session details for step-up and the
// sessions page, and the audit log. SQLite adds one column per ALTER TABLE.
export async function up(db: Kysely<unknown>): Promise<void> {
  const addToUsers = [
    ['code_failures', 'integer'],
    ['code_failed_at', 'text'],
    ['code_locked_until', 'text'],
    ['code_next_try_at', 'text'],
    ['notices_seen_at', 'text'],
  ] as const;
  for (const [name, type] of addToUsers) {
    await db.schema
      .alterTable('users')
      .addColumn(name, type, (c) => (type === 'integer' ? c.notNull().defaultTo(0) : c))
      .execute();
  }
  for (const name of ['ip', 'user_agent', 'verified_at']) {
    await db.schema.alterTable('sessions').addColumn(name, 'text').execute();
  }

  await db.schema
    .createTable('login_throttles')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('failures', 'integer', (c) => c.notNull())
    .addColumn('last_failure_at', 'text', (c) => c.notNull())
    .addColumn('blocked_until', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('audit_events')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('organisation_id', 'text', (c) => c.notNull().references('organisations.id'))
    .addColumn('at', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('actor_id', 'text')
    .addColumn('actor_email', 'text')
    .addColumn('subject_id', 'text')
    .addColumn('subject_email', 'text')
    .addColumn('ip', 'text')
    .addColumn('user_agent', 'text')
    .addColumn('detail', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('audit_by_organisation').on('audit_events').columns(['organisation_id', 'at']).execute();
  await db.schema.createIndex('audit_by_subject').on('audit_events').columns(['subject_id', 'at']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('audit_events').execute();
  await db.schema.dropTable('login_throttles').execute();
  for (const name of ['ip', 'user_agent', 'verified_at'])
    await db.schema.alterTable('sessions').dropColumn(name).execute();
  for (const name of ['code_failures', 'code_failed_at', 'code_locked_until', 'code_next_try_at', 'notices_seen_at']) {
    await db.schema.alterTable('users').dropColumn(name).execute();
  }
}
