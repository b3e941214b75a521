import type { Kysely } from 'kysely';

// Signing people in to an organisation's applications with OpenID Connect.
// - oidc_payloads: every piece of the provider's state (interactions, sessions, grants,
//   authorization codes, access and refresh tokens), one row per model and id, with the
//   columns it is looked up or revoked by, so that several instances share it.
// - oidc_signing_keys: the ID-token signing keys, generated once, sealed with the instance
//   key; a retired key stays published until the tokens it signed have expired.
// - sessions.second_factor_at: when a second factor was last given in the session, for
//   the `amr` and `acr` an application is told.
// - applications.id_token_signing_alg: RS256 (what every client supports) or ES256.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('oidc_payloads')
    .addColumn('model', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('grant_id', 'text')
    .addColumn('uid', 'text')
    .addColumn('account_id', 'text')
    .addColumn('twofold_session_id', 'text')
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .addColumn('consumed_at', 'text')
    .addPrimaryKeyConstraint('oidc_payloads_pk', ['model', 'id'])
    .execute();
  for (const column of ['grant_id', 'uid', 'account_id', 'twofold_session_id', 'expires_at'] as const) {
    await db.schema.createIndex(`oidc_payloads_by_${column}`).on('oidc_payloads').column(column).execute();
  }
  await db.schema
    .createTable('oidc_signing_keys')
    .addColumn('kid', 'text', (c) => c.primaryKey())
    .addColumn('alg', 'text', (c) => c.notNull())
    .addColumn('sealed_private_jwk', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('retired_at', 'text')
    .execute();
  await db.schema.alterTable('sessions').addColumn('second_factor_at', 'text').execute();
  await db.schema
    .alterTable('applications')
    .addColumn('id_token_signing_alg', 'text', (c) => c.notNull().defaultTo('RS256'))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('applications').dropColumn('id_token_signing_alg').execute();
  await db.schema.alterTable('sessions').dropColumn('second_factor_at').execute();
  await db.schema.dropTable('oidc_signing_keys').execute();
  await db.schema.dropTable('oidc_payloads').execute();
}
