// The other second factors, seeded as their own use cases would leave them: a security key
// or passkey per user (a software authenticator that signs as a real one, its public key
// sealed under the server's key), and a set of recovery codes per user (salted hashes).
// And what the code step is sent for each: the key's answer to the page's challenge, a
// recovery code.
import { randomUUID } from 'node:crypto';
import type { PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import type { Insertable } from 'kysely';
import { newRecoveryCode, RECOVERY_CODES_PER_SET, storedFormOf } from '../../src/domain/recovery-codes.js';
import { sealSecret } from '../../src/domain/secret-box.js';
import type { Db } from '../../src/store/db.js';
import type { DevicesTable, RecoveryCodesTable } from '../../src/store/schema.js';
import { keyOptionsIn, SoftAuthenticator } from '../../test/helpers/soft-authenticator.js';
import { cookieNamesFor } from '../../src/web/respond.js';
import { clientFor, csrfTokenIn } from '../http.js';
import type { ServerProcess } from '../processes.js';
import { insertInChunks, type BenchUser } from '../seed.js';
import { inParallel } from '../stats.js';
import { pendingLogins } from './code-step.js';
import type { SecondFactorForm } from './logins.js';

/** Links a new security key to each of `users` (who have no other device); returns each user's key. */
export async function seedSecurityKeys(
  db: Db,
  key: Buffer,
  organisationId: string,
  users: BenchUser[],
  now: Date,
): Promise<Map<string, SoftAuthenticator>> {
  const keys = new Map<string, SoftAuthenticator>();
  const rows: Insertable<DevicesTable>[] = [];
  const linkedAt = new Date(now.getTime() - 10 * 60_000).toISOString();
  for (const user of users) {
    const authenticator = new SoftAuthenticator();
    const id = randomUUID();
    keys.set(user.id, authenticator);
    rows.push({
      id,
      organisation_id: organisationId,
      user_id: user.id,
      kind: 'webauthn',
      name: 'Bench key',
      sealed_secret: sealSecret(key, authenticator.coseKey(), id),
      credential_id: authenticator.id,
      sign_count: 0,
      transports: 'usb',
      backed_up: 0,
      created_at: linkedAt,
      confirmed_at: linkedAt,
      last_used_at: null,
      last_used_step: null,
    });
  }
  await db
    .transaction()
    .execute((trx) => insertInChunks(rows, (chunk) => trx.insertInto('devices').values(chunk).execute()));
  return keys;
}

/** The code step answered by the user's key, for the server at `origin`. */
export function byKey(keys: Map<string, SoftAuthenticator>, origin: string): SecondFactorForm {
  return (user, codePage) => {
    const key = keys.get(user.id);
    if (key === undefined) throw new Error(`${user.email} has no key`);
    const options = keyOptionsIn<PublicKeyCredentialRequestOptionsJSON>(codePage);
    if (options === null) throw new Error('no key options on the code step');
    return { with: 'key', answer: JSON.stringify(key.get(options, { origin })) };
  };
}

/** A new set of recovery codes for each of `users`; returns each user's codes. */
export async function seedRecoveryCodes(
  db: Db,
  organisationId: string,
  users: BenchUser[],
  now: Date,
): Promise<Map<string, string[]>> {
  const codes = new Map<string, string[]>();
  const rows: Insertable<RecoveryCodesTable>[] = [];
  for (const user of users) {
    const set = Array.from({ length: RECOVERY_CODES_PER_SET }, newRecoveryCode);
    codes.set(user.id, set);
    for (const code of set) {
      const stored = storedFormOf(code);
      rows.push({
        id: randomUUID(),
        organisation_id: organisationId,
        user_id: user.id,
        salt: stored.salt,
        hash: stored.hash,
        created_at: now.toISOString(),
        used_at: null,
      });
    }
  }
  await db
    .transaction()
    .execute((trx) => insertInChunks(rows, (chunk) => trx.insertInto('recovery_codes').values(chunk).execute()));
  return codes;
}

/** One stretch of recovery-code steps: how many were sent, how many got another answer than expected. */
export interface RecoveryCodeRound {
  requests: number;
  failures: number;
  firstFailure: string | null;
}

/**
 * The recovery-code step (POST /login/code, `with=recovery`) on a pending login of each of
 * `users`, made first, `concurrency` at a time: each with one of its own codes (`right`,
 * which must sign in), or with a well-formed code of no one's (which must be refused, 400).
 * One attempt per user, so no wait after wrong attempts comes into it.
 */
export async function recoveryCodeRound(
  server: ServerProcess,
  db: Db,
  organisationId: string,
  users: BenchUser[],
  codes: Map<string, string[]>,
  right: boolean,
  concurrency: number,
): Promise<RecoveryCodeRound> {
  const client = clientFor(server.url);
  try {
    // One browser's CSRF cookie and token serve every post: the token is not tied to the session.
    const browser = client.browser();
    const csrf = csrfTokenIn((await browser.get('/login')).body);
    const csrfCookies = [...browser.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    const sessionCookie = cookieNamesFor(false).session;
    const tokens = await pendingLogins(db, organisationId, users);
    let at = 0;
    let failures = 0;
    let firstFailure: string | null = null;
    await inParallel(
      concurrency,
      () => at >= users.length,
      async () => {
        const i = at;
        at += 1;
        const user = users[i];
        const token = tokens[i];
        if (user === undefined || token === undefined) return false;
        const code = right ? codes.get(user.id)?.[0] : newRecoveryCode();
        if (code === undefined) throw new Error(`${user.email} has no recovery codes`);
        const answer = await client.send(
          'POST',
          '/login/code',
          { cookie: `${csrfCookies}; ${sessionCookie}=${token}` },
          { _csrf: csrf, with: 'recovery', code },
        );
        const expected = right ? answer.status === 303 && answer.location === '/account' : answer.status === 400;
        if (!expected) {
          failures += 1;
          firstFailure ??= `${answer.status} ${answer.location ?? ''} ${answer.body.replace(/\s+/g, ' ').slice(0, 200)}`;
        }
        return true;
      },
    );
    return { requests: at > users.length ? users.length : at, failures, firstFailure };
  } finally {
    client.close();
  }
}
