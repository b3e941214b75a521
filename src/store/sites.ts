// The protected sites of one organisation, and the one lookup a forwarded request needs:
// the site of a host, in whichever organisation registered it.
import type { Selectable } from 'kysely';
import type { Site } from '../domain/sites.js';
import type { Executor } from './db.js';
import { iso } from './rows.js';
import type { SitesTable } from './schema.js';

function siteFromRow(row: Selectable<SitesTable>): Site {
  return {
    id: row.id,
    organisationId: row.organisation_id,
    host: row.host,
    requireTwoFactor: row.require_2fa === 1,
    createdAt: new Date(row.created_at),
  };
}

export interface NewSite {
  id: string;
  host: string;
  requireTwoFactor: boolean;
  now: Date;
}

export function sitesRepository(db: Executor, organisationId: string) {
  return {
    /** False when the host is already registered, here or in another organisation. */
    async insert(site: NewSite): Promise<boolean> {
      const now = iso(site.now);
      const result = await db
        .insertInto('sites')
        .values({
          id: site.id,
          organisation_id: organisationId,
          host: site.host,
          require_2fa: site.requireTwoFactor ? 1 : 0,
          created_at: now,
          updated_at: now,
        })
        .onConflict((conflict) => conflict.column('host').doNothing())
        .executeTakeFirst();
      return (result.numInsertedOrUpdatedRows ?? 0n) > 0n;
    },

    async list(): Promise<Site[]> {
      const rows = await db
        .selectFrom('sites')
        .selectAll()
        .where('organisation_id', '=', organisationId)
        .orderBy('host')
        .execute();
      return rows.map(siteFromRow);
    },

    async find(id: string): Promise<Site | null> {
      const row = await db
        .selectFrom('sites')
        .selectAll()
        .where('organisation_id', '=', organisationId)
        .where('id', '=', id)
        .executeTakeFirst();
      return row === undefined ? null : siteFromRow(row);
    },

    async findByHost(host: string): Promise<Site | null> {
      const row = await db
        .selectFrom('sites')
        .selectAll()
        .where('organisation_id', '=', organisationId)
        .where('host', '=', host)
        .executeTakeFirst();
      return row === undefined ? null : siteFromRow(row);
    },

    async remove(id: string): Promise<boolean> {
      const result = await db
        .deleteFrom('sites')
        .where('organisation_id', '=', organisationId)
        .where('id', '=', id)
        .executeTakeFirst();
      return result.numDeletedRows > 0n;
    },
  };
}

/** The site of a host, in any organisation: all a forwarded request says is its host. */
export async function findSiteByHost(db: Executor, host: string): Promise<Site | null> {
  const row = await db.selectFrom('sites').selectAll().where('host', '=', host).executeTakeFirst();
  return row === undefined ? null : siteFromRow(row);
}
