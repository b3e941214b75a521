import type { Kysely } from 'kysely';

// Sites behind a reverse proxy that asks Twofold whether a person may in (forward auth),
// each of one organisation. A forwarded request names only its host, so a host is
// registered once in the whole instance.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('sites')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('organisation_id', 'text', (c) => c.notNull().references('organisations.id'))
    .addColumn('host', 'text', (c) => c.notNull())
    .addColumn('require_2fa', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('sites_by_host').on('sites').column('host').unique().execute();
  await db.schema.createIndex('sites_by_organisation').on('sites').columns(['organisation_id', 'host']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('sites').execute();
}
