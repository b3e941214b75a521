// What the fault tests share: people to sign in with, the two things they do against a
// real `twofold serve` (sign in with a code, link a first device), a bounded load of them,
// and the checks that no fault left half-written state behind.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { TestContext } from 'node:test';
import { sql } from 'kysely';
import { hashPassword } from '../../src/domain/passwords.js';
import { sealSecret } from '../../src/domain/secret-box.js';
import { codeAt, newTotpSecret, timeStepAt } from '../../src/domain/totp.js';
import { emailKey } from '../../src/domain/users.js';
import type { Db } from '../../src/store/db.js';
import { insertOrganisation } from '../../src/store/organisations.js';
import { tenantFor } from '../../src/store/tenant.js';
import { secretShownOn } from '../integration/support.js';
import { PASSWORD } from './app.js';
import { Browser, recoveryCodesOn, type Page } from './browser.js';
import { startServer, type RunningServer } from './processes.js';

/** Has a confirmed device: signs in with a code. */
export interface EnrolledPerson {
  id: string;
  email: string;
  secret: Uint8Array;
}

/** Reset by an admin: must link a device at the next sign-in (the /setup steps). */
export interface PersonToSetUp {
  id: string;
  email: string;
}

export interface People {
  organisationId: string;
  enrolled: EnrolledPerson[];
  toSetUp: PersonToSetUp[];
}

/** An organisation with `enrolled` people who have a device and `toSetUp` people who must link one. */
export async function seedPeople(db: Db, key: Buffer, counts: { enrolled: number; toSetUp: number }): Promise<People> {
  const organisationId = randomUUID();
  const now = new Date();
  await insertOrganisation(db, {
    id: organisationId,
    name: `Faults ${organisationId.slice(0, 8)}`,
    timeZone: 'UTC',
    now,
  });
  const tenant = tenantFor(db, organisationId);
  const passwordHash = await hashPassword(PASSWORD);
  const insertPerson = async (label: string) => {
    const id = randomUUID();
    const email = `${label}-${id.slice(0, 8)}@example.com`;
    await tenant.users.insert({ id, email, emailKey: emailKey(email), name: label, role: 'user', passwordHash, now });
    return { id, email };
  };
  const enrolled: EnrolledPerson[] = [];
  for (let i = 0; i < counts.enrolled; i += 1) {
    const person = await insertPerson(`enrolled${i}`);
    const deviceId = randomUUID();
    const secret = newTotpSecret();
    const sealedSecret = sealSecret(key, secret, deviceId);
    await tenant.devices.insertUnconfirmed({ id: deviceId, userId: person.id, name: 'Phone', sealedSecret, now });
    const earlier = new Date(now.getTime() - 10 * 60_000);
    assert.ok(await tenant.devices.acceptTimeStep(person.id, deviceId, timeStepAt(earlier), earlier, 'enrolment'));
    enrolled.push({ ...person, secret });
  }
  const toSetUp: PersonToSetUp[] = [];
  for (let i = 0; i < counts.toSetUp; i += 1) {
    const person = await insertPerson(`reset${i}`);
    await tenant.users.setSetUpAtNextLogin(person.id, true, now);
    toSetUp.push(person);
  }
  return { organisationId, enrolled, toSetUp };
}

/** One HTTP exchange as a load client saw it; `status` null when the connection failed. */
export interface Exchange {
  what: string;
  status: number | null;
  startedAt: number;
  endedAt: number;
  retryAfter: string | null;
  /** The page's text, for answers of 500 and above. */
  text: string;
}

export type Recorder = (exchange: Exchange) => void;

/** Sends one request and records it; null when the connection failed (the server is gone). */
async function exchange(record: Recorder, what: string, send: () => Promise<Page>): Promise<Page | null> {
  const startedAt = Date.now();
  try {
    const page = await send();
    const text = page.status >= 500 ? page.body.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ') : '';
    const retryAfter = page.headers['retry-after'];
    record({
      what,
      status: page.status,
      startedAt,
      endedAt: Date.now(),
      retryAfter: retryAfter === undefined ? null : String(retryAfter),
      text,
    });
    return page;
  } catch {
    record({ what, status: null, startedAt, endedAt: Date.now(), retryAfter: null, text: '' });
    return null;
  }
}

/** A code of the device that a login now or a little later accepts, never the step it used last. */
export function freshCode(secret: Uint8Array, stepsAhead = 0): string {
  return codeAt(secret, new Date(Date.now() + stepsAhead * 30_000));
}

/** Password then code, with a browser pointed at a server; true once signed in. */
export async function signInWithCode(
  browser: Browser,
  person: EnrolledPerson,
  record: Recorder,
  stepsAhead = 0,
): Promise<boolean> {
  if ((await exchange(record, 'GET /login', () => browser.get('/login')))?.status !== 200) return false;
  const password = await exchange(record, 'POST /login', () =>
    browser.post('/login', { email: person.email, password: PASSWORD }),
  );
  if (password?.location !== '/login/code') return false;
  if ((await exchange(record, 'GET /login/code', () => browser.get('/login/code')))?.status !== 200) return false;
  const code = freshCode(person.secret, stepsAhead);
  const done = await exchange(record, 'POST /login/code', () => browser.post('/login/code', { code }));
  return done?.status === 303 && done.location === '/account';
}

export interface LinkedDevice {
  person: PersonToSetUp;
  deviceId: string;
  secret: Uint8Array;
}

/**
 * Password, then the /setup steps: name a device, read its secret, confirm it with a code,
 * which answers with the recovery codes of a first device and a link on to the account.
 * `onSent` hears of the confirmation before its answer; the device when it was confirmed.
 */
export async function linkFirstDevice(
  browser: Browser,
  person: PersonToSetUp,
  record: Recorder,
  onSent: (device: LinkedDevice) => void = () => {},
): Promise<LinkedDevice | null> {
  if ((await exchange(record, 'GET /login', () => browser.get('/login')))?.status !== 200) return null;
  const password = await exchange(record, 'POST /login', () =>
    browser.post('/login', { email: person.email, password: PASSWORD }),
  );
  if (password?.location !== '/setup') return null;
  if ((await exchange(record, 'GET /setup', () => browser.get('/setup')))?.status !== 200) return null;
  const named = await exchange(record, 'POST /setup/devices', () => browser.post('/setup/devices', { name: 'Phone' }));
  const path = named?.location ?? '';
  const deviceId = /^\/setup\/devices\/([0-9a-f-]{36})$/.exec(path)?.[1];
  if (deviceId === undefined) return null;
  const shown = await exchange(record, 'GET /setup/devices/:id', () => browser.get(path));
  if (shown?.status !== 200) return null;
  const { bytes: secret } = secretShownOn(shown);
  const device = { person, deviceId, secret };
  onSent(device);
  const confirmed = await exchange(record, 'POST /setup/devices/:id', () =>
    browser.post(path, { code: freshCode(secret) }),
  );
  if (confirmed === null) return null;
  const given = recoveryCodesOn(confirmed);
  return given?.codes.length === 10 && given.continueTo === '/account' ? device : null;
}

/** Runs `workers` loops of `work` at once until `stop()` says so; each loop ends on its own after `maxRounds`. */
export async function underLoad(
  workers: number,
  stop: () => boolean,
  work: (worker: number) => Promise<void>,
  maxRounds = 1000,
): Promise<void> {
  await Promise.all(
    Array.from({ length: workers }, async (_, worker) => {
      for (let round = 0; round < maxRounds && !stop(); round += 1) await work(worker);
    }),
  );
}

/** Takes one item at a time off a list shared by the workers; null when none is left. */
export function queueOf<T>(items: readonly T[]): () => T | null {
  let next = 0;
  return () => (next < items.length ? (items[next++] ?? null) : null);
}

/**
 * What must hold after any fault: no session without its user, no device used for a
 * sign-in before it was confirmed, and a device linked at /setup is confirmed together
 * with its audit entry, the end of the reset and its recovery codes (never one without the
 * others), and no one held at /setup has a signed-in session without a confirmed device.
 */
export async function halfWrittenStateIn(db: Db, people: People): Promise<string[]> {
  const problems: string[] = [];
  const orphans = await sql<{ id: string }>`
    select s.id from sessions s left join users u on u.id = s.user_id where u.id is null`.execute(db);
  if (orphans.rows.length > 0) problems.push(`${orphans.rows.length} session(s) without their user`);
  const usedUnconfirmed = await db
    .selectFrom('devices')
    .select('id')
    .where('confirmed_at', 'is', null)
    .where((eb) => eb.or([eb('last_used_step', 'is not', null), eb('last_used_at', 'is not', null)]))
    .execute();
  if (usedUnconfirmed.length > 0) problems.push(`${usedUnconfirmed.length} unconfirmed device(s) that accepted a code`);

  const ids = people.toSetUp.map((person) => person.id);
  if (ids.length === 0) return problems;
  const users = await db.selectFrom('users').select(['id', 'set_up_at_next_login']).where('id', 'in', ids).execute();
  const confirmed = await db
    .selectFrom('devices')
    .select('user_id')
    .where('user_id', 'in', ids)
    .where('confirmed_at', 'is not', null)
    .execute();
  const audited = await db
    .selectFrom('audit_events')
    .select('subject_id')
    .where('action', '=', 'device_added')
    .where('subject_id', 'in', ids)
    .execute();
  const withCodes = await db
    .selectFrom('recovery_codes')
    .select('user_id')
    .distinct()
    .where('user_id', 'in', ids)
    .execute();
  const signedIn = await db
    .selectFrom('sessions')
    .select('user_id')
    .where('user_id', 'in', ids)
    .where('stage', '=', 'signed_in')
    .execute();
  const withDevice = new Set(confirmed.map((row) => row.user_id));
  const withEntry = new Set(audited.map((row) => row.subject_id));
  const codesOf = new Set(withCodes.map((row) => row.user_id));
  for (const user of users) {
    const linked = withDevice.has(user.id);
    if (linked !== withEntry.has(user.id)) {
      problems.push(`user ${user.id}: confirmed device ${linked}, device_added audit entry ${withEntry.has(user.id)}`);
    }
    if (linked && Number(user.set_up_at_next_login) !== 0) problems.push(`user ${user.id}: linked, yet still reset`);
    if (linked !== codesOf.has(user.id))
      problems.push(`user ${user.id}: confirmed device ${linked}, recovery codes ${codesOf.has(user.id)}`);
  }
  for (const { user_id } of signedIn) {
    if (!withDevice.has(user_id)) problems.push(`user ${user_id}: signed in from /setup without a confirmed device`);
  }
  return problems;
}

/** Which of the devices whose confirmation was answered as done are not confirmed in the database. */
export async function lostConfirmations(db: Db, devices: readonly LinkedDevice[]): Promise<string[]> {
  if (devices.length === 0) return [];
  const rows = await db
    .selectFrom('devices')
    .select(['id', 'confirmed_at'])
    .where(
      'id',
      'in',
      devices.map((device) => device.deviceId),
    )
    .execute();
  const confirmed = new Set(rows.filter((row) => row.confirmed_at !== null).map((row) => row.id));
  return devices.filter((device) => !confirmed.has(device.deviceId)).map((device) => device.deviceId);
}

/** "3 x 303 POST /login, 2 x 503 GET /account": for diagnostics. */
export function summarise(exchanges: readonly Exchange[]): string {
  const counts = new Map<string, number>();
  for (const { what, status } of exchanges) {
    const key = `${status ?? 'no answer'} ${what}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts]
    .sort()
    .map(([key, n]) => `${n} x ${key}`)
    .join(', ');
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface CrashRounds {
  /** The environment of `twofold serve`: DATABASE_URL, TWOFOLD_SECRET_KEY. */
  env: Record<string, string>;
  people: People;
  rounds: number;
  /** A new connection to the database, to look at it after each crash; destroyed after. */
  openDb: () => Db;
  /** Checks of the database's own, run after each crash (SQLite's integrity_check). */
  checkStorage?: (db: Db) => Promise<string[]>;
}

/**
 * Rounds of: `twofold serve` under a load of sign-ins with a code and first devices
 * linked at /setup, killed with SIGKILL at a random moment once a device was linked in
 * the round; then the database is checked for half-written state and lost confirmations,
 * and the server started again on it. Ends with a sign-in, on the last restarted server,
 * with a device confirmed just before a kill.
 */
export async function crashRounds(t: TestContext, options: CrashRounds): Promise<void> {
  const { people } = options;
  const nextEnrolled = queueOf(people.enrolled);
  const nextToSetUp = queueOf(people.toSetUp);
  const linked: LinkedDevice[] = [];
  let server: RunningServer = await startServer(options.env);
  t.after(() => server.stop(2_000));
  for (let round = 1; round <= options.rounds; round += 1) {
    const exchanges: Exchange[] = [];
    const record: Recorder = (exchange) => void exchanges.push(exchange);
    const linkedBefore = linked.length;
    let killed = false;
    const base = server.url;
    const load = underLoad(
      6,
      () => killed,
      async (worker) => {
        const browser = new Browser(base);
        const toSetUp = worker % 2 === 0 ? nextToSetUp() : null;
        const enrolled = toSetUp === null ? nextEnrolled() : null;
        if (toSetUp !== null) {
          const device = await linkFirstDevice(browser, toSetUp, record);
          if (device !== null) linked.push(device);
        } else if (enrolled !== null) await signInWithCode(browser, enrolled, record);
        else await sleep(20);
      },
    );
    const deadline = Date.now() + 30_000;
    while (linked.length === linkedBefore && Date.now() < deadline) await sleep(20);
    assert.ok(
      linked.length > linkedBefore,
      `round ${round}: no device was linked within 30 s: ${summarise(exchanges)}`,
    );
    await sleep(Math.random() * 1_000);
    server.child.kill('SIGKILL');
    const exit = await server.stop(0);
    killed = true;
    await load;
    assert.equal(exit.signal, 'SIGKILL', `round ${round}: the server had exited by itself: ${server.output()}`);

    const failed = exchanges.filter((e) => e.status !== null && e.status >= 500);
    assert.deepEqual(failed, [], `round ${round}: answers of 500 or above`);
    const db = options.openDb();
    try {
      const problems = [...(await halfWrittenStateIn(db, people)), ...((await options.checkStorage?.(db)) ?? [])];
      assert.deepEqual(problems, [], `round ${round}: the database after the kill`);
      assert.deepEqual(await lostConfirmations(db, linked), [], `round ${round}: confirmed devices lost`);
      // A sign-in cut by the kill between counting its password attempt and taking it back
      // leaves it counted against its address; all from 127.0.0.1, a few rounds of them
      // would throttle the next round's sign-ins.
      await db.deleteFrom('login_throttles').execute();
    } finally {
      await db.destroy();
    }
    t.diagnostic(
      `round ${round}: killed after ${exchanges.length} requests, ${linked.length - linkedBefore} device(s) linked; ` +
        summarise(exchanges.filter((e) => e.what.startsWith('POST'))),
    );
    server = await startServer(options.env);
  }

  const last = linked.at(-1);
  assert.ok(last !== undefined);
  const record: Recorder = () => {};
  const signedIn = await signInWithCode(
    new Browser(server.url),
    { id: last.person.id, email: last.person.email, secret: last.secret },
    record,
    1,
  );
  assert.ok(signedIn, 'a sign-in after the restart, with a device confirmed before the kill');
}
