import type { Kysely } from 'kysely';

// The admins' users page lists an organisation's users in email order, a page at a time.
// With this index both databases read them in that order, checking the search from the
// index, instead of sorting them all for every page. It replaces users_by_organisation
// (organisation_id, search_key): a `like '%...%'` search cannot seek in either index, so
// every query that used it is served as well by the new one, and each insert and email or
// name change updates one index fewer.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createIndex('users_by_organisation_email')
    .on('users')
    .columns(['organisation_id', 'email_key', 'search_key'])
    .execute();
  await db.schema.dropIndex('users_by_organisation').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex('users_by_organisation').on('users').columns(['organisation_id', 'search_key']).execute();
  await db.schema.dropIndex('users_by_organisation_email').execute();
}
