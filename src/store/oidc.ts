// The OpenID Connect provider's state (interactions, sessions, grants, codes, tokens) and
// its signing keys, shared by every instance through the database.
import { sql } from 'kysely';
import { compiledOnce } from './compiled.js';
import type { Executor } from './db.js';
import { iso } from './rows.js';

/** What the provider stores of one model instance; the fields it is looked up or revoked by are also columns. */
export interface OidcPayload {
  grantId?: string;
  uid?: string;
  accountId?: string;
  consumed?: number;
  [key: string]: unknown;
}

export interface StoredPayload {
  payload: OidcPayload;
  expiresAt: Date;
}

const PAYLOAD_COLUMNS = ['payload', 'grant_id', 'uid', 'account_id', 'expires_at'] as const;
type PayloadColumn = (typeof PAYLOAD_COLUMNS)[number];

/** The upsert of a payload; `withSession` also (re)sets the Twofold session it stands for. */
function payloadUpsert(withSession: boolean) {
  return compiledOnce(
    ['model', 'id', ...PAYLOAD_COLUMNS, 'twofold_session_id'],
    (db, { model, id, twofold_session_id, ...columns }) =>
      db
        .insertInto('oidc_payloads')
        .values({ model, id, ...columns, twofold_session_id, consumed_at: null })
        .onConflict((oc) =>
          oc.columns(['model', 'id']).doUpdateSet((eb) => {
            const updated = withSession ? [...PAYLOAD_COLUMNS, 'twofold_session_id' as const] : PAYLOAD_COLUMNS;
            return Object.fromEntries(updated.map((column) => [column, eb.ref(`excluded.${column}`)]));
          }),
        ),
  );
}

const upsertWithoutSession = payloadUpsert(false);
const upsertWithSession = payloadUpsert(true);

export async function upsertPayload(
  db: Executor,
  model: string,
  id: string,
  payload: OidcPayload,
  expiresAt: Date,
  twofoldSessionId: string | null,
): Promise<void> {
  const columns: Record<PayloadColumn, string | null> = {
    payload: JSON.stringify(payload),
    grant_id: typeof payload.grantId === 'string' ? payload.grantId : null,
    uid: typeof payload.uid === 'string' ? payload.uid : null,
    account_id: typeof payload.accountId === 'string' ? payload.accountId : null,
    expires_at: iso(expiresAt),
  };
  const upsert = twofoldSessionId === null ? upsertWithoutSession : upsertWithSession;
  await upsert(db, { model, id, ...columns, twofold_session_id: twofoldSessionId });
}

export interface FoundPayload {
  id: string;
  payload: OidcPayload;
  twofoldSessionId: string | null;
}

/** The lookup of a payload that has not expired, by its id or (for sessions) its uid. */
function payloadLookup(by: 'id' | 'uid') {
  return compiledOnce(['model', 'key', 'now'], (db, { model, key, now }) =>
    db
      .selectFrom('oidc_payloads')
      .select(['id', 'payload', 'consumed_at', 'twofold_session_id'])
      .where('model', '=', model)
      .where('expires_at', '>', now)
      .where(by, '=', key),
  );
}

const payloadById = payloadLookup('id');
const payloadByUid = payloadLookup('uid');

/** A payload that has not expired, by its id or (for sessions) its uid. */
export async function findPayload(
  db: Executor,
  model: string,
  by: { id: string } | { uid: string },
  now: Date,
): Promise<FoundPayload | null> {
  const [row] = (
    'id' in by
      ? await payloadById(db, { model, key: by.id, now: iso(now) })
      : await payloadByUid(db, { model, key: by.uid, now: iso(now) })
  ).rows;
  if (row === undefined) return null;
  const payload = JSON.parse(row.payload) as OidcPayload;
  if (row.consumed_at !== null) payload.consumed = Math.floor(new Date(row.consumed_at).getTime() / 1000);
  return { id: row.id, payload, twofoldSessionId: row.twofold_session_id };
}

const consume = compiledOnce(['model', 'id', 'now'], (db, { model, id, now }) =>
  db
    .updateTable('oidc_payloads')
    .set({ consumed_at: now })
    .where('model', '=', model)
    .where('id', '=', id)
    .where('consumed_at', 'is', null),
);

/** Marks a code or token used; false when it already was (a second exchange of one code). */
export async function consumePayload(db: Executor, model: string, id: string, now: Date): Promise<boolean> {
  const result = await consume(db, { model, id, now: iso(now) });
  return result.numAffectedRows === 1n;
}

const destroy = compiledOnce(['model', 'id'], (db, { model, id }) =>
  db.deleteFrom('oidc_payloads').where('model', '=', model).where('id', '=', id),
);

export async function destroyPayload(db: Executor, model: string, id: string): Promise<void> {
  await destroy(db, { model, id });
}

/** Everything issued under one grant: its codes, access and refresh tokens, and the grant itself. */
export async function destroyByGrant(db: Executor, grantId: string): Promise<void> {
  await db.deleteFrom('oidc_payloads').where('grant_id', '=', grantId).execute();
  await db.deleteFrom('oidc_payloads').where('model', '=', 'Grant').where('id', '=', grantId).execute();
}

/** Everything applications hold for a person: sessions, grants, codes and tokens. */
export async function destroyAllOfAccount(db: Executor, accountId: string): Promise<void> {
  const grants = await db
    .selectFrom('oidc_payloads')
    .select('id')
    .where('model', '=', 'Grant')
    .where('account_id', '=', accountId)
    .execute();
  for (const { id } of grants) await destroyByGrant(db, id);
  await db.deleteFrom('oidc_payloads').where('account_id', '=', accountId).execute();
}

/** The provider's sessions that stand for these Twofold sessions (given by their stored ids). */
export async function destroyOfTwofoldSessions(db: Executor, twofoldSessionIds: readonly string[]): Promise<void> {
  if (twofoldSessionIds.length === 0) return;
  await db.deleteFrom('oidc_payloads').where('twofold_session_id', 'in', twofoldSessionIds).execute();
}

/** Deletes what expired; returns how many. */
export async function deleteExpiredPayloads(db: Executor, now: Date): Promise<number> {
  const result = await db.deleteFrom('oidc_payloads').where('expires_at', '<=', iso(now)).executeTakeFirst();
  return Number(result.numDeletedRows);
}

export interface SigningKeyRow {
  kid: string;
  alg: string;
  sealedPrivateJwk: string;
  createdAt: Date;
  retiredAt: Date | null;
}

/** The current keys and those retired after `retiredSince`, newest first. */
export async function listSigningKeys(db: Executor, retiredSince: Date): Promise<SigningKeyRow[]> {
  const rows = await db
    .selectFrom('oidc_signing_keys')
    .selectAll()
    .where((eb) => eb.or([eb('retired_at', 'is', null), eb('retired_at', '>', iso(retiredSince))]))
    .orderBy('created_at', 'desc')
    .orderBy('kid')
    .execute();
  return rows.map((row) => ({
    kid: row.kid,
    alg: row.alg,
    sealedPrivateJwk: row.sealed_private_jwk,
    createdAt: new Date(row.created_at),
    retiredAt: row.retired_at === null ? null : new Date(row.retired_at),
  }));
}

/** Adds a key; a key id already there (another instance made the first key at the same moment) is kept. */
export async function insertSigningKey(
  db: Executor,
  key: { kid: string; alg: string; sealedPrivateJwk: string },
  now: Date,
): Promise<void> {
  await db
    .insertInto('oidc_signing_keys')
    .values({
      kid: key.kid,
      alg: key.alg,
      sealed_private_jwk: key.sealedPrivateJwk,
      created_at: iso(now),
      retired_at: null,
    })
    .onConflict((oc) => oc.column('kid').doNothing())
    .execute();
}

/** Retires the current keys of one algorithm. */
export async function retireSigningKeys(db: Executor, alg: string, now: Date): Promise<void> {
  await db
    .updateTable('oidc_signing_keys')
    .set({ retired_at: iso(now) })
    .where('alg', '=', alg)
    .where('retired_at', 'is', null)
    .execute();
}

export async function deleteSigningKeysRetiredBefore(db: Executor, before: Date): Promise<number> {
  const result = await db
    .deleteFrom('oidc_signing_keys')
    .where('retired_at', 'is not', null)
    .where('retired_at', '<=', iso(before))
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

export async function replaceSealedSigningKey(db: Executor, kid: string, sealedPrivateJwk: string): Promise<void> {
  await db
    .updateTable('oidc_signing_keys')
    .set({ sealed_private_jwk: sealedPrivateJwk })
    .where('kid', '=', kid)
    .execute();
}

/** Changes whenever a key is added or retired: instances reload their key set when it does. */
export async function signingKeysVersion(db: Executor): Promise<string> {
  const row = await db
    .selectFrom('oidc_signing_keys')
    .select([
      sql<number>`count(*)`.as('count'),
      sql<string | null>`max(created_at)`.as('created'),
      sql<string | null>`max(retired_at)`.as('retired'),
    ])
    .executeTakeFirst();
  return `${row?.count ?? 0}/${row?.created ?? ''}/${row?.retired ?? ''}`;
}
