// Builds the real app on a real database with a frozen clock, and small builders for data.
import { randomUUID } from 'node:crypto';
import type { TestContext } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { hashPassword } from '../../src/domain/passwords.js';
import { keyringOf, sealSecret, type SecretKeyring } from '../../src/domain/secret-box.js';
import { newTotpSecret, timeStepAt } from '../../src/domain/totp.js';
import { emailKey, type Role } from '../../src/domain/users.js';
import type { Deps } from '../../src/services/deps.js';
import { migrateToLatest, openDatabase, type DatabaseLocation, type Db } from '../../src/store/db.js';
import { insertOrganisation } from '../../src/store/organisations.js';
import { tenantFor } from '../../src/store/tenant.js';
import { buildApp, type AppOptions } from '../../src/web/app.js';
import { openTestDatabase } from './databases.js';

export const TEST_KEY = Buffer.alloc(32, 7);
export const START = new Date('2026-11-22T12:00:00.000Z');

export interface TestClock {
  now: () => Date;
  set(at: Date): void;
  advanceMinutes(minutes: number): void;
}

export function frozenClock(start = START): TestClock {
  let current = new Date(start);
  return {
    now: () => new Date(current),
    set: (at) => {
      current = new Date(at);
    },
    advanceMinutes: (minutes) => {
      current = new Date(current.getTime() + minutes * 60_000);
    },
  };
}

export interface TestWorld {
  app: FastifyInstance;
  db: Db;
  deps: Deps;
  clock: TestClock;
}

/**
 * The app on a database of its own: SQLite in memory, or in the PostgreSQL pass of
 * `npm test` a new schema (see databases.ts); or on `location` when given.
 */
export async function buildWorld(t: TestContext, location?: DatabaseLocation): Promise<TestWorld> {
  const database = location === undefined ? await openTestDatabase() : await openMigrated(location);
  const { db } = database;
  const { app, deps, clock } = await testAppOn(db);
  t.after(async () => {
    await app.close();
    await database.close();
  });
  return { app, db, deps, clock };
}

/** What tests vary in the app they build; the rest is as every test world has it. */
export interface TestAppOptions {
  clock?: TestClock;
  secretKey?: SecretKeyring;
  publicUrl?: string;
  secureCookies?: boolean;
  logger?: AppOptions['logger'];
  metrics?: boolean;
}

/**
 * The real app on `db`, which the caller closes, with the test key, the default session
 * limits and a frozen clock unless told otherwise. The caller closes the app too.
 */
export async function testAppOn(
  db: Db,
  options: TestAppOptions = {},
): Promise<{ app: FastifyInstance; deps: Deps; clock: TestClock }> {
  const clock = options.clock ?? frozenClock();
  const deps: Deps = {
    db,
    now: clock.now,
    secretKey: options.secretKey ?? keyringOf(TEST_KEY),
    sessionLimits: { idleMinutes: 30, absoluteHours: 12, pendingMinutes: 10 },
  };
  const app = await buildApp({
    deps,
    publicUrl: options.publicUrl ?? 'http://127.0.0.1:3000',
    secureCookies: options.secureCookies ?? false,
    trustProxy: false,
    logger: options.logger ?? false,
    metrics: options.metrics,
  });
  return { app, deps, clock };
}

async function openMigrated(location: DatabaseLocation): Promise<{ db: Db; close(): Promise<void> }> {
  const db = openDatabase(location);
  await migrateToLatest(db);
  return { db, close: () => db.destroy() };
}

export async function makeOrganisation(
  world: TestWorld,
  name = `Org ${randomUUID().slice(0, 8)}`,
  timeZone = 'UTC',
): Promise<string> {
  const id = randomUUID();
  await insertOrganisation(world.db, { id, name, timeZone, now: world.clock.now() });
  return id;
}

export const PASSWORD = 'correct horse battery';
let cachedHash: Promise<string> | null = null;

export async function makeUser(
  world: TestWorld,
  organisationId: string,
  options: { email?: string; role?: Role; name?: string; password?: string } = {},
): Promise<{ id: string; email: string; password: string }> {
  const id = randomUUID();
  const email = options.email ?? `${id.slice(0, 8)}@example.com`;
  const password = options.password ?? PASSWORD;
  const passwordHash =
    password === PASSWORD ? await (cachedHash ??= hashPassword(PASSWORD)) : await hashPassword(password);
  await tenantFor(world.db, organisationId).users.insert({
    id,
    email,
    emailKey: emailKey(email),
    name: options.name ?? email.split('@')[0] ?? email,
    role: options.role ?? 'user',
    passwordHash,
    now: world.clock.now(),
  });
  return { id, email, password };
}

/** A confirmed device, as if linked a while ago; returns its secret for computing codes. */
export async function linkDevice(
  world: TestWorld,
  organisationId: string,
  userId: string,
  name = 'Phone',
): Promise<Uint8Array> {
  const deviceId = randomUUID();
  const secret = newTotpSecret();
  const devices = tenantFor(world.db, organisationId).devices;
  await devices.insertUnconfirmed({
    id: deviceId,
    userId,
    name,
    sealedSecret: sealSecret(TEST_KEY, secret, deviceId),
    now: world.clock.now(),
  });
  const earlier = new Date(world.clock.now().getTime() - 10 * 60_000);
  await devices.acceptTimeStep(userId, deviceId, timeStepAt(earlier), earlier, 'enrolment');
  return secret;
}
