// The applications of one organisation. Only the SHA-256 of a client secret is stored.
import { createHash } from 'node:crypto';
import {
  isIdTokenSigningAlg,
  type Application,
  type ApplicationSettings,
  type IdTokenSigningAlg,
} from '../domain/applications.js';
import { compiledOnce } from './compiled.js';
import type { Executor } from './db.js';
import { iso } from './rows.js';
import type { Selectable } from 'kysely';
import type { ApplicationsTable } from './schema.js';

export function hashClientSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

function listOf(json: string): string[] {
  const parsed: unknown = JSON.parse(json);
  if (!Array.isArray(parsed) || !parsed.every((item) => typeof item === 'string'))
    throw new Error('an application holds a redirect list that is not a list of addresses');
  return parsed;
}

function applicationFromRow(row: Selectable<ApplicationsTable>): Application {
  return {
    id: row.id,
    organisationId: row.organisation_id,
    name: row.name,
    redirectUris: listOf(row.redirect_uris),
    postLogoutRedirectUris: listOf(row.post_logout_redirect_uris),
    requireTwoFactor: row.require_2fa === 1,
    requirePhishingResistant: row.require_phishing_resistant === 1,
    idTokenSigningAlg: isIdTokenSigningAlg(row.id_token_signing_alg) ? row.id_token_signing_alg : 'RS256',
    secretSetAt: new Date(row.secret_set_at),
    createdAt: new Date(row.created_at),
  };
}

export interface NewApplication {
  id: string;
  name: string;
  redirectUris: readonly string[];
  postLogoutRedirectUris: readonly string[];
  requireTwoFactor: boolean;
  /** Off unless given. */
  requirePhishingResistant?: boolean;
  idTokenSigningAlg?: IdTokenSigningAlg;
  secret: string;
  now: Date;
}

export function applicationsRepository(db: Executor, organisationId: string) {
  return {
    async insert(application: NewApplication): Promise<void> {
      const now = iso(application.now);
      await db
        .insertInto('applications')
        .values({
          id: application.id,
          organisation_id: organisationId,
          name: application.name,
          redirect_uris: JSON.stringify(application.redirectUris),
          post_logout_redirect_uris: JSON.stringify(application.postLogoutRedirectUris),
          require_2fa: application.requireTwoFactor ? 1 : 0,
          require_phishing_resistant: application.requirePhishingResistant === true ? 1 : 0,
          id_token_signing_alg: application.idTokenSigningAlg ?? 'RS256',
          secret_hash: hashClientSecret(application.secret),
          secret_set_at: now,
          created_at: now,
          updated_at: now,
        })
        .execute();
    },

    async list(): Promise<Application[]> {
      const rows = await db
        .selectFrom('applications')
        .selectAll()
        .where('organisation_id', '=', organisationId)
        .orderBy('name')
        .orderBy('id')
        .execute();
      return rows.map(applicationFromRow);
    },

    async find(id: string): Promise<Application | null> {
      const row = await db
        .selectFrom('applications')
        .selectAll()
        .where('organisation_id', '=', organisationId)
        .where('id', '=', id)
        .executeTakeFirst();
      return row === undefined ? null : applicationFromRow(row);
    },

    /** Replaces what a super admin chose; the client_id and the secret stay. False if there is no such application. */
    async update(id: string, settings: ApplicationSettings, now: Date): Promise<boolean> {
      const result = await db
        .updateTable('applications')
        .set({
          name: settings.name,
          redirect_uris: JSON.stringify(settings.redirectUris),
          post_logout_redirect_uris: JSON.stringify(settings.postLogoutRedirectUris),
          require_2fa: settings.requireTwoFactor ? 1 : 0,
          require_phishing_resistant: settings.requirePhishingResistant ? 1 : 0,
          id_token_signing_alg: settings.idTokenSigningAlg,
          updated_at: iso(now),
        })
        .where('organisation_id', '=', organisationId)
        .where('id', '=', id)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },

    /** Replaces the secret; the old one stops working at once. False if there is no such application. */
    async replaceSecret(id: string, secret: string, now: Date): Promise<boolean> {
      const result = await db
        .updateTable('applications')
        .set({ secret_hash: hashClientSecret(secret), secret_set_at: iso(now), updated_at: iso(now) })
        .where('organisation_id', '=', organisationId)
        .where('id', '=', id)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },

    async remove(id: string): Promise<boolean> {
      const result = await db
        .deleteFrom('applications')
        .where('organisation_id', '=', organisationId)
        .where('id', '=', id)
        .executeTakeFirst();
      return result.numDeletedRows > 0n;
    },
  };
}

/**
 * An application by its client_id in any organisation, with its secret's hash: what the
 * OpenID Connect provider knows of a client before anyone is signed in.
 */
const clientById = compiledOnce(['clientId'], (db, { clientId }) =>
  db.selectFrom('applications').selectAll().where('id', '=', clientId),
);

export async function findClientById(
  db: Executor,
  clientId: string,
): Promise<{ application: Application; secretHash: string } | null> {
  const [row] = (await clientById(db, { clientId })).rows;
  return row === undefined ? null : { application: applicationFromRow(row), secretHash: row.secret_hash };
}
