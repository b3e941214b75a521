import type { Kysely } from 'kysely';

// Which second factors an organisation allows (domain/factor-policy.ts): authenticator
// apps and security keys (the default, as before), keys only, or apps only. And whether an
// application requires phishing-resistant sign-in (a security key or passkey) whatever it
// asks for (domain/sign-in-for-applications.ts); off, as before.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('organisations')
    .addColumn('allowed_factors', 'text', (c) => c.notNull().defaultTo('apps_and_keys'))
    .execute();
  await db.schema
    .alterTable('applications')
    .addColumn('require_phishing_resistant', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('applications').dropColumn('require_phishing_resistant').execute();
  await db.schema.alterTable('organisations').dropColumn('allowed_factors').execute();
}
