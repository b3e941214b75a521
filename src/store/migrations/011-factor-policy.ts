import type { Kysely } from 'kysely';

// Which second factors an organisation allows (domain/factor-policy.ts): authenticator
// apps and security keys (the default, as before), keys only, or apps only.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('organisations')
    .addColumn('allowed_factors', 'text', (c) => c.notNull().defaultTo('apps_and_keys'))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('organisations').dropColumn('allowed_factors').execute();
}
