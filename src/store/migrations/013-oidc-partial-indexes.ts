import { sql, type Kysely } from 'kysely';

// The provider's state is written about eight times per sign-in to an application, and each
// write updated five secondary indexes of oidc_payloads. Four of them index columns that most
// rows leave empty (an interaction has no grant, account or session yet; only a provider
// session has a uid or a Twofold session): they now index only the rows that have a value,
// which every lookup by them implies (`column = value`). The expiry index stays whole: every
// row expires.
const SPARSE_COLUMNS = ['grant_id', 'uid', 'account_id', 'twofold_session_id'] as const;

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const column of SPARSE_COLUMNS) {
    await db.schema.dropIndex(`oidc_payloads_by_${column}`).execute();
    await db.schema
      .createIndex(`oidc_payloads_by_${column}`)
      .on('oidc_payloads')
      .column(column)
      .where(sql.ref(column), 'is not', null)
      .execute();
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const column of SPARSE_COLUMNS) {
    await db.schema.dropIndex(`oidc_payloads_by_${column}`).execute();
    await db.schema.createIndex(`oidc_payloads_by_${column}`).on('oidc_payloads').column(column).execute();
  }
}
