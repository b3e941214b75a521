import type { Kysely } from 'kysely';

// Security keys and passkeys (WebAuthn) are devices like authenticator apps, so that every
// rule on devices (enrolled, last device, reset, reactivation) holds for them as it is.
// A device's kind says which; a key's sealed_secret holds its credential public key,
// sealed like an app's secret, so that whoever can write to the database cannot put a
// public key of their own in its place. Its credential id is unique in the instance; its
// signature counter goes only up (0 for passkeys that keep none); backed_up is what the
// authenticator last said (a synced passkey). The challenges handed out for creating and
// using keys are single-use and short-lived. A session says which kind of second factor
// it was given (RFC 8176 method: otp, hwk or swk), for what applications are told.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('devices')
    .addColumn('kind', 'text', (c) => c.notNull().defaultTo('totp'))
    .execute();
  await db.schema.alterTable('devices').addColumn('credential_id', 'text').execute();
  await db.schema.alterTable('devices').addColumn('sign_count', 'bigint').execute();
  await db.schema.alterTable('devices').addColumn('transports', 'text').execute();
  await db.schema.alterTable('devices').addColumn('backed_up', 'integer').execute();
  await db.schema.createIndex('devices_by_credential_id').on('devices').column('credential_id').unique().execute();
  await db.schema.alterTable('sessions').addColumn('second_factor_method', 'text').execute();
  await db.schema
    .createTable('webauthn_challenges')
    .addColumn('challenge', 'text', (c) => c.primaryKey())
    .addColumn('organisation_id', 'text', (c) => c.notNull().references('organisations.id'))
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id'))
    .addColumn('purpose', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('webauthn_challenges_by_user')
    .on('webauthn_challenges')
    .columns(['organisation_id', 'user_id', 'purpose'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('webauthn_challenges').execute();
  await db.schema.alterTable('sessions').dropColumn('second_factor_method').execute();
  await db.schema.dropIndex('devices_by_credential_id').execute();
  for (const column of ['backed_up', 'transports', 'sign_count', 'credential_id', 'kind']) {
    await db.schema.alterTable('devices').dropColumn(column).execute();
  }
}
