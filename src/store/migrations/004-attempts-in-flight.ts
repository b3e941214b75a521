import { sql, type Kysely } from 'kysely';

// Attempts are told apart as checked (failures) and being checked (in flight), so that
// many right passwords from one address, or copies of one right code, are not taken for
// guesses: those beyond the free allowance wait for the ones in flight instead of being
// refused. A count of attempts in flight that a crash left behind is forgotten a minute
// after the last attempt (`*_checking_at`).
//
// Wrong codes are a person's, not a device's: the per-device count goes. And a device's
// "last used" is the last sign-in or confirmation of identity with it, not its linking:
// a device whose last use is the moment it was confirmed was never used since.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('users')
    .addColumn('code_checking', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.alterTable('users').addColumn('code_checking_at', 'text').execute();
  await db.schema
    .alterTable('login_throttles')
    .addColumn('checking', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.alterTable('login_throttles').addColumn('checking_at', 'text').execute();
  await db.schema.alterTable('devices').dropColumn('failed_attempts').execute();
  await sql`update devices set last_used_at = null where last_used_at = confirmed_at`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`update devices set last_used_at = confirmed_at where last_used_at is null`.execute(db);
  await db.schema
    .alterTable('devices')
    .addColumn('failed_attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.alterTable('login_throttles').dropColumn('checking_at').execute();
  await db.schema.alterTable('login_throttles').dropColumn('checking').execute();
  await db.schema.alterTable('users').dropColumn('code_checking_at').execute();
  await db.schema.alterTable('users').dropColumn('code_checking').execute();
}
