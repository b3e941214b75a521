// The one way the tests build Twofold: an instance set up as the server sets up its own
// (src/instance.ts), on a database of the test's own, with a frozen clock, and the real app
// on it; and small builders for data.
import { randomUUID } from 'node:crypto';
import type { TestContext } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { hashPassword } from '../../src/domain/passwords.js';
import { keyringOf, sealSecret, type SecretKeyring } from '../../src/domain/secret-box.js';
import { newTotpSecret, timeStepAt } from '../../src/domain/totp.js';
import { emailKey, type Role } from '../../src/domain/users.js';
import { depsOn, instanceOn, type InstanceSettings } from '../../src/instance.js';
import type { Deps } from '../../src/services/deps.js';
import type { MailSender } from '../../src/services/mail-sender.js';
import type { MailSettings } from '../../src/services/mail-transport.js';
import type { DatabaseLocation, Db, StatementObservers } from '../../src/store/db.js';
import { insertOrganisation } from '../../src/store/organisations.js';
import { tenantFor } from '../../src/store/tenant.js';
import { buildApp, type AppOptions } from '../../src/web/app.js';
import { newTestDatabase, sqliteTestDatabase } from './databases.js';
import { reservePort } from './ports.js';
import { SoftAuthenticator } from './soft-authenticator.js';

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

/** What a test may vary in its instance; the rest is as every test has it. */
export interface InstanceOptions {
  /**
   * A SQLite file (":memory:" for a new one in memory) instead of a new database of the
   * run's kind: to read its bytes, or to open it again as a restarted instance does.
   */
  sqlitePath?: string;
  /** Shared with an earlier instance, as a restarted one shares the wall clock. */
  clock?: TestClock;
  /** The test key unless given. */
  secretKey?: SecretKeyring;
  /** Kysely plugins or a log that see every statement, the builders' too. */
  observers?: StatementObservers;
  /** TWOFOLD_PUBLIC_URL: DEFAULT_PUBLIC_URL unless given. */
  publicUrl?: string;
  /** Where email goes (an SMTP server of smtp.ts, or a directory of .eml files); none unless given. */
  mail?: MailSettings;
}

export const DEFAULT_PUBLIC_URL = 'http://127.0.0.1:3000';

export interface TestInstance {
  db: Db;
  deps: Deps;
  clock: TestClock;
  location: DatabaseLocation;
  /** The instance's email sender, never started: a test sends what is due with sendDue(). Null without `mail`. */
  mail: MailSender | null;
  /** Drops a new PostgreSQL schema and closes the connections; closing again does nothing. */
  close(): Promise<void>;
}

/** The instance settings of the tests: the test key unless given, the default session limits. */
export function settingsOf(options: InstanceOptions, clock: TestClock): Omit<InstanceSettings, 'database'> {
  return {
    now: clock.now,
    secretKey: options.secretKey ?? keyringOf(TEST_KEY),
    sessionIdleMinutes: 30,
    sessionAbsoluteHours: 12,
    pendingLoginMinutes: 10,
    publicUrl: options.publicUrl ?? DEFAULT_PUBLIC_URL,
    ...(options.mail !== undefined && { mail: options.mail }),
  };
}

async function openTestInstance(options: InstanceOptions): Promise<TestInstance> {
  const clock = options.clock ?? frozenClock();
  const database =
    options.sqlitePath === undefined
      ? await newTestDatabase(options.observers)
      : sqliteTestDatabase(options.sqlitePath, options.observers);
  // On failure instanceOn closes the connections: `npm test` drops a schema left so at its end.
  const instance = await instanceOn(database.db, settingsOf(options, clock));
  let closed: Promise<void> | null = null;
  const close = async () => {
    try {
      await database.drop();
    } finally {
      await instance.close();
    }
  };
  return {
    db: database.db,
    deps: instance.deps,
    clock,
    location: database.location,
    mail: instance.mail,
    close: () => (closed ??= close()),
  };
}

/** The instance alone, with no app: for tests of the store and the services. Closed after the test. */
export async function testInstance(t: TestContext, options: InstanceOptions = {}): Promise<TestInstance> {
  const instance = await openTestInstance(options);
  t.after(instance.close);
  return instance;
}

export interface WorldOptions extends InstanceOptions {
  /**
   * An open database the app is to use as it is, without setting it up: the test's
   * database under other settings (read only), or one that cannot be reached. The caller
   * closes it; the other database options do not apply.
   */
  db?: Db;
  secureCookies?: boolean;
  /** TWOFOLD_COOKIE_DOMAIN; none unless given. */
  cookieDomain?: string;
  logger?: AppOptions['logger'];
  metrics?: boolean;
}

export interface TestWorld {
  app: FastifyInstance;
  db: Db;
  deps: Deps;
  clock: TestClock;
  /** The instance's email sender, never started: the test sends what is due with sendDue(). Null without `mail`. */
  mail: MailSender | null;
  /** Closes the app, then its instance; closing again does nothing. Done after the test anyway. */
  close(): Promise<void>;
}

/**
 * The real app on an instance of its own (see InstanceOptions), with the test key, the
 * default session limits and a frozen clock unless told otherwise; closed after the test.
 */
export async function buildWorld(t: TestContext, options: WorldOptions = {}): Promise<TestWorld> {
  const clock = options.clock ?? frozenClock();
  const instance =
    options.db === undefined
      ? await openTestInstance({ ...options, clock })
      : {
          db: options.db,
          deps: depsOn(options.db, settingsOf(options, clock)),
          mail: null,
          close: () => Promise.resolve(),
        };
  let app: FastifyInstance;
  try {
    app = await buildApp({
      deps: instance.deps,
      publicUrl: options.publicUrl ?? DEFAULT_PUBLIC_URL,
      secureCookies: options.secureCookies ?? false,
      cookieDomain: options.cookieDomain ?? null,
      trustProxy: false,
      logger: options.logger ?? false,
      metrics: options.metrics,
    });
  } catch (error) {
    await instance.close();
    throw error;
  }
  let closed: Promise<void> | null = null;
  const close = async () => {
    try {
      await app.close();
    } finally {
      await instance.close();
    }
  };
  const world: TestWorld = {
    app,
    db: instance.db,
    deps: instance.deps,
    clock,
    mail: instance.mail,
    close: () => (closed ??= close()),
  };
  t.after(world.close);
  return world;
}

export interface ServedWorld extends TestWorld {
  /** http://127.0.0.1:PORT, where it listens; its links point there too. */
  baseUrl: string;
}

/**
 * Like buildWorld, but listening on a port of its own, with links that point at where it
 * listens. `hostName: 'localhost'` names it so in its public URL (still listening on
 * 127.0.0.1): browsers refuse WebAuthn on an IP address, and a key's relying party is that name.
 */
export async function serveWorld(
  t: TestContext,
  options: Omit<WorldOptions, 'publicUrl'> & { hostName?: '127.0.0.1' | 'localhost' } = {},
): Promise<ServedWorld> {
  // The app prints links with its public URL, so it must know its port before it is built.
  const port = await reservePort();
  const baseUrl = `http://${options.hostName ?? '127.0.0.1'}:${port}`;
  const world = await buildWorld(t, { ...options, publicUrl: baseUrl });
  await world.app.listen({ host: '127.0.0.1', port });
  return { ...world, baseUrl };
}

/**
 * What the builders below write with: a database set up with the test key, and the clock
 * that dates the rows. A world, or the test's own connections to a database that real
 * `twofold serve` processes share (several-instances.ts).
 */
export type Seedable = Pick<TestWorld, 'db' | 'clock'>;

export async function makeOrganisation(
  world: Seedable,
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
  world: Seedable,
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
  world: Seedable,
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

/** A security key linked to the person, as linking one leaves it; returns the key, to sign with. */
export async function linkSecurityKey(
  world: Seedable,
  organisationId: string,
  userId: string,
  name = 'YubiKey',
): Promise<SoftAuthenticator> {
  const key = new SoftAuthenticator();
  const id = randomUUID();
  const linked = await tenantFor(world.db, organisationId).devices.insertSecurityKey({
    id,
    userId,
    name,
    sealedPublicKey: sealSecret(TEST_KEY, key.coseKey(), id),
    credentialId: key.id,
    signCount: 0,
    transports: ['usb'],
    backedUp: false,
    now: world.clock.now(),
  });
  if (!linked) throw new Error('the key was not linked');
  return key;
}
