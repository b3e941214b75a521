// The keys that sign ID tokens: made once, on first use, by whichever instance gets there
// first; stored sealed with the instance key and shared by every instance. Rotating adds a
// new key of each algorithm and retires the old ones, which stay published for a day, well
// past the life of anything they signed.
import { generateKeyPairSync, randomBytes, type JsonWebKey } from 'node:crypto';
import { ID_TOKEN_SIGNING_ALGS, type IdTokenSigningAlg } from '../domain/applications.js';
import { isSealedWith, openSecret, sealSecret, type SecretKeyring } from '../domain/secret-box.js';
import { inOneCommit, type Db } from '../store/db.js';
import {
  deleteSigningKeysRetiredBefore,
  insertSigningKey,
  listSigningKeys,
  replaceSealedSigningKey,
  retireSigningKeys,
  signingKeysVersion,
} from '../store/oidc.js';
import type { Deps } from './deps.js';

/** How long a retired key stays published: longer than any ID token or access token lives. */
export const RETIRED_KEY_PUBLISHED_HOURS = 24;

export interface SigningJwk extends JsonWebKey {
  kid: string;
  alg: IdTokenSigningAlg;
  use: 'sig';
}

function boundTo(kid: string): string {
  return `oidc signing key ${kid}`;
}

function newPrivateJwk(alg: IdTokenSigningAlg): JsonWebKey {
  const { privateKey } =
    alg === 'RS256'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return privateKey.export({ format: 'jwk' });
}

function sealedKey(keys: SecretKeyring, alg: IdTokenSigningAlg, kid: string) {
  return {
    kid,
    alg,
    sealedPrivateJwk: sealSecret(keys.current, Buffer.from(JSON.stringify(newPrivateJwk(alg)), 'utf8'), boundTo(kid)),
  };
}

function retiredSince(now: Date): Date {
  return new Date(now.getTime() - RETIRED_KEY_PUBLISHED_HOURS * 3_600_000);
}

export interface SigningKeys {
  /** Changes when a key is added or retired. */
  version: string;
  /** The current key of each algorithm first (the one that signs), then the retired ones still published. */
  jwks: SigningJwk[];
}

/**
 * The signing keys, making the first key of an algorithm that has none. Two instances
 * starting at once both try the same first key id, and one of them wins.
 */
export async function signingKeys(deps: Deps): Promise<SigningKeys> {
  const now = deps.now();
  let rows = await listSigningKeys(deps.db, retiredSince(now));
  const missing = ID_TOKEN_SIGNING_ALGS.filter((alg) => !rows.some((row) => row.alg === alg && row.retiredAt === null));
  if (missing.length > 0) {
    for (const alg of missing) {
      await insertSigningKey(deps.db, sealedKey(deps.secretKey, alg, `${alg.toLowerCase()}-first`), now);
    }
    rows = await listSigningKeys(deps.db, retiredSince(now));
  }
  const version = await signingKeysVersion(deps.db);
  const ordered = [...rows.filter((row) => row.retiredAt === null), ...rows.filter((row) => row.retiredAt !== null)];
  return {
    version,
    jwks: ordered.map((row) => {
      const jwk = JSON.parse(
        Buffer.from(openSecret(deps.secretKey, row.sealedPrivateJwk, boundTo(row.kid))).toString('utf8'),
      ) as JsonWebKey;
      return { ...jwk, kid: row.kid, alg: row.alg as IdTokenSigningAlg, use: 'sig' };
    }),
  };
}

export function signingKeysVersionOf(db: Db): Promise<string> {
  return signingKeysVersion(db);
}

export interface KeyRotation {
  added: string[];
  retired: number;
  deleted: number;
}

/** Adds a new key of each algorithm and retires the current ones, in one commit; deletes keys retired over a day ago. */
export async function rotateSigningKeys(deps: Deps): Promise<KeyRotation> {
  const now = deps.now();
  return inOneCommit(deps.db, async (trx) => {
    const before = await listSigningKeys(trx, now);
    const added: string[] = [];
    for (const alg of ID_TOKEN_SIGNING_ALGS) {
      await retireSigningKeys(trx, alg, now);
      const kid = `${alg.toLowerCase()}-${randomBytes(9).toString('base64url')}`;
      await insertSigningKey(trx, sealedKey(deps.secretKey, alg, kid), now);
      added.push(kid);
    }
    const deleted = await deleteSigningKeysRetiredBefore(trx, retiredSince(now));
    return { added, retired: before.filter((row) => row.retiredAt === null).length, deleted };
  });
}

/** During a key rotation: seals every signing key with the current key. Returns how many could not be opened. */
export async function resealSigningKeys(
  db: Db,
  keys: SecretKeyring,
): Promise<{ resealed: number; unreadable: number }> {
  const rows = await listSigningKeys(db, new Date(0));
  let resealed = 0;
  let unreadable = 0;
  for (const row of rows) {
    if (isSealedWith(keys.current, row.sealedPrivateJwk)) continue;
    let plain: Uint8Array;
    try {
      plain = openSecret(keys, row.sealedPrivateJwk, boundTo(row.kid));
    } catch {
      unreadable++;
      continue;
    }
    await replaceSealedSigningKey(db, row.kid, sealSecret(keys.current, plain, boundTo(row.kid)));
    resealed++;
  }
  return { resealed, unreadable };
}
