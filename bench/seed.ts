// Bench data, written straight into the database through Kysely with multi-row inserts in
// one transaction (100,000 users take seconds, not minutes). Rows are built with the
// app's own search key, email key and secret box, under the key the server is given, so
// the server reads them as if people had been created and had linked their phones.
import { randomUUID } from 'node:crypto';
import { hashPassword } from '../src/domain/passwords.js';
import { sealSecret } from '../src/domain/secret-box.js';
import { newTotpSecret, timeStepAt } from '../src/domain/totp.js';
import { emailKey, type Role } from '../src/domain/users.js';
import type { Db, Executor } from '../src/store/db.js';
import { insertOrganisation } from '../src/store/organisations.js';
import { searchKeyOf } from '../src/store/rows.js';
import { createApplication } from '../src/services/applications.js';
import { addSite } from '../src/services/sites.js';
import type { Deps } from '../src/services/deps.js';
import { atomically, tenantFor } from '../src/store/tenant.js';
import type { Insertable } from 'kysely';
import type { BenchApplication } from './phases/oidc.js';
import type { DevicesTable, UsersTable } from '../src/store/schema.js';

export const BENCH_PASSWORD = 'bench password, long enough';
/** Well inside SQLite's 32,766 and PostgreSQL's 65,535 bound parameters per statement. */
const ROWS_PER_INSERT = 1000;

export interface BenchUser {
  id: string;
  email: string;
  /** The TOTP secret of the user's one confirmed device, or null without one. */
  secret: Uint8Array | null;
  deviceId: string | null;
}

export interface UserBatch {
  organisationId: string;
  count: number;
  /** `${prefix}${i}@...`: unique across batches. */
  prefix: string;
  role?: Role;
  withDevice: (i: number) => boolean;
  /** Every nth user is required to use 2FA with a personal deadline, so the users page has all kinds. */
  requiredEvery?: number;
}

export async function createOrganisation(db: Executor, name: string, now: Date): Promise<string> {
  const id = randomUUID();
  await insertOrganisation(db, { id, name, timeZone: 'UTC', now });
  return id;
}

/**
 * The application the OpenID Connect sign-ins are for, registered as the Applications page
 * registers one, requiring 2FA. Its redirect address is never visited: the bench reads the
 * code off the redirect.
 */
export async function registerBenchApplication(deps: Deps, organisationId: string): Promise<BenchApplication> {
  const redirectUri = 'http://localhost/bench/callback';
  const created = await createApplication(
    deps,
    tenantFor(deps.db, organisationId),
    { actor: null, client: null },
    { name: 'Bench application', redirectUris: [redirectUri], postLogoutRedirectUris: [], requireTwoFactor: true },
  );
  if (!created.ok) throw new Error(`the bench application was refused: ${JSON.stringify(created.problems)}`);
  return { clientId: created.application.id, clientSecret: created.clientSecret, redirectUri };
}

/** The protected site the forward-auth checks ask about, registered as the Applications page registers one, requiring 2FA. */
export async function registerBenchSite(deps: Deps, organisationId: string, host: string): Promise<void> {
  const added = await addSite(
    deps,
    tenantFor(deps.db, organisationId),
    { actor: null, client: null },
    {
      host,
      requireTwoFactor: true,
    },
  );
  if (!added.ok) throw new Error(`the bench site was refused: ${added.problem}`);
}

/** A signed-in session of `userId`, a second factor given, as the code step leaves one; returns its token. */
export function signedInSession(db: Db, organisationId: string, userId: string): Promise<string> {
  const now = new Date();
  const expiresAt = new Date(now.getTime() + 8 * 60 * 60_000);
  const client = { ip: '127.0.0.1', userAgent: 'twofold-bench' };
  return atomically(db, organisationId, (tenant) =>
    tenant.sessions.create(userId, 'signed_in', now, expiresAt, client, {
      verifiedAt: now,
      secondFactorAt: now,
      secondFactorMethod: 'otp',
    }),
  );
}

/** One argon2id hash shared by every bench user: each verification still costs the full price. */
export function benchPasswordHash(): Promise<string> {
  return hashPassword(BENCH_PASSWORD);
}

export async function insertInChunks<T>(rows: T[], insert: (chunk: T[]) => Promise<unknown>): Promise<void> {
  for (let at = 0; at < rows.length; at += ROWS_PER_INSERT) await insert(rows.slice(at, at + ROWS_PER_INSERT));
}

export async function seedUsers(
  db: Db,
  key: Buffer,
  passwordHash: string,
  batch: UserBatch,
  now: Date,
): Promise<BenchUser[]> {
  const at = now.toISOString();
  const linkedAt = new Date(now.getTime() - 10 * 60_000);
  const deadline = new Date(now.getTime() + 14 * 24 * 3600_000).toISOString();
  // Insertable: columns that may be null are left to their defaults, so new ones need no change here.
  const users: Insertable<UsersTable>[] = [];
  const devices: Insertable<DevicesTable>[] = [];
  const seeded: BenchUser[] = [];
  for (let i = 0; i < batch.count; i += 1) {
    const id = randomUUID();
    const number = String(i).padStart(6, '0');
    const email = `${batch.prefix}${number}@bench.example`;
    const name = `${batch.prefix} ${number}`;
    const required = batch.requiredEvery !== undefined && i % batch.requiredEvery === 0;
    users.push({
      id,
      organisation_id: batch.organisationId,
      email,
      email_key: emailKey(email),
      name,
      search_key: searchKeyOf(name, email),
      role: batch.role ?? 'user',
      status: 'active',
      password_hash: passwordHash,
      require_2fa: required ? 1 : 0,
      personal_deadline: required ? deadline : null,
      set_up_at_next_login: 0,
      created_at: at,
      updated_at: at,
      code_failures: 0,
      code_failed_at: null,
      code_locked_until: null,
      code_next_try_at: null,
      notices_seen_at: null,
    });
    let secret: Uint8Array | null = null;
    let deviceId: string | null = null;
    if (batch.withDevice(i)) {
      secret = newTotpSecret();
      deviceId = randomUUID();
      devices.push({
        id: deviceId,
        organisation_id: batch.organisationId,
        user_id: id,
        name: 'Bench phone',
        sealed_secret: sealSecret(key, secret, deviceId),
        created_at: linkedAt.toISOString(),
        confirmed_at: linkedAt.toISOString(),
        last_used_at: null,
        last_used_step: timeStepAt(linkedAt),
      });
    }
    seeded.push({ id, email, secret, deviceId });
  }
  await db.transaction().execute(async (trx) => {
    await insertInChunks(users, (chunk) => trx.insertInto('users').values(chunk).execute());
    await insertInChunks(devices, (chunk) => trx.insertInto('devices').values(chunk).execute());
  });
  return seeded;
}
