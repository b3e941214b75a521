// The database failing under a running Twofold: it only reads, its disk is full, it
// cannot be reached (a PostgreSQL server that refuses or never answers), or `twofold
// serve` is killed (SIGKILL) in the middle of device confirmations and sign-ins. A person
// gets a page that says what is wrong (503, never 500), the log says it to the operator,
// and no half-written state is left behind. PostgreSQL's restart and crash are in
// postgres-faults.test.ts.
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, openSync, closeSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { sql } from 'kysely';
import { newSecretKeyText, parseSecretKey } from '../../src/domain/secret-box.js';
import { inTransaction, migrateToLatest, openDatabase, type Db } from '../../src/store/db.js';
import { databaseFaultOf, FAULT_ANSWERS } from '../../src/web/database-faults.js';
import { message } from '../../src/web/messages.js';
import {
  buildWorld,
  linkDevice,
  makeOrganisation,
  makeUser,
  PASSWORD,
  type TestWorld,
  testInstance,
  type WorldOptions,
} from '../helpers/app.js';
import { Browser, recoveryCodesOn, textOf, type Page } from '../helpers/browser.js';
import { testDatabaseKind } from '../helpers/databases.js';
import { SmallDisk } from '../helpers/fault-makers.js';
import { crashRounds, seedPeople, signInWithCode, type People } from '../helpers/faults.js';
import { startServerUnder, type RunningServer } from '../helpers/processes.js';
import { reservePort } from '../helpers/ports.js';
import { getWithSession, nextCode, secretShownOn, SESSION_COOKIE, signedIn, tenantOf } from './support.js';

const KIND = testDatabaseKind();
/** Tests of SQLite files and of processes, which do not depend on the run's database: once is enough. */
const onlyInTheSqlitePass = (what: string) => {
  if (KIND === 'sqlite') return false;
  const reason = `SKIPPED: ${what}: it does not use the run's database, and ran in the SQLite pass`;
  console.log(reason);
  return reason;
};

interface ObservedWorld extends TestWorld {
  /** The app's log lines at warn and above, parsed. */
  log(): Record<string, unknown>[];
}

/** The test world, with its log kept; with `db`, the app on that database as it is. */
async function observedWorld(t: TestContext, options: WorldOptions = {}): Promise<ObservedWorld> {
  const lines: string[] = [];
  const world = await buildWorld(t, {
    ...options,
    logger: { level: 'warn', stream: { write: (line) => void lines.push(line) } },
  });
  return { ...world, log: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>) };
}

/** The page a person gets for the fault, with Retry-After only when waiting helps. */
function assertFaultPage(page: Page, fault: keyof typeof FAULT_ANSWERS): void {
  const answer = FAULT_ANSWERS[fault];
  assert.equal(page.status, 503, `expected the ${fault} page, got ${page.status}: ${textOf(page.body)}`);
  assert.ok(textOf(page.body).includes(message(answer.message)), textOf(page.body));
  const retryAfter = page.headers['retry-after'];
  assert.equal(retryAfter, answer.retryAfterSeconds === null ? undefined : String(answer.retryAfterSeconds));
}

/** The log said it, at error level, and held no password. */
function assertLogged(world: ObservedWorld, fault: keyof typeof FAULT_ANSWERS): void {
  const line = world.log().find((entry) => entry.fault === fault);
  assert.ok(line !== undefined, `no log line for ${fault}: ${JSON.stringify(world.log())}`);
  assert.equal(line.level, 50);
  assert.equal(line.msg, FAULT_ANSWERS[fault].log);
  assert.ok(!JSON.stringify(world.log()).includes(PASSWORD));
}

test('a device confirmation cut short by a database failure keeps nothing of it, and can be done again', async (t) => {
  const world = await observedWorld(t);
  const org = await makeOrganisation(world);
  const user = await makeUser(world, org);
  await tenantOf(world, org).users.setSetUpAtNextLogin(user.id, true, world.clock.now());
  const client = new Browser(world.app);
  assert.equal((await client.signIn(user.email, PASSWORD)).location, '/setup');
  await client.get('/setup');
  const path = (await client.post('/setup/devices', { name: 'Phone' })).location ?? '';
  const deviceId = /^\/setup\/devices\/([0-9a-f-]{36})$/.exec(path)?.[1] ?? assert.fail(`named device at ${path}`);
  const { bytes: secret } = secretShownOn(await client.get(path));

  // The database fails at the audit entry of the recovery codes that come with a first
  // device, after the device, its entry and the codes were written, as a crash or a full
  // disk would at that moment.
  const stored = async () => ({
    device: await world.db
      .selectFrom('devices')
      .select(['confirmed_at', 'last_used_step'])
      .where('id', '=', deviceId)
      .executeTakeFirstOrThrow(),
    reset: Number(
      (
        await world.db
          .selectFrom('users')
          .select('set_up_at_next_login')
          .where('id', '=', user.id)
          .executeTakeFirstOrThrow()
      ).set_up_at_next_login,
    ),
    entries: (
      await world.db
        .selectFrom('audit_events')
        .select('id')
        .where('action', 'in', ['device_added', 'recovery_codes_generated'])
        .where('subject_id', '=', user.id)
        .execute()
    ).length,
    codes: await tenantOf(world, org).recoveryCodes.countUnused(user.id),
  });
  await failAuditEntriesOf(world.db, 'recovery_codes_generated');
  const cut = await client.post(path, { code: nextCode(world, secret) });
  assert.ok(cut.status >= 500, `the cut confirmation got ${cut.status}: ${textOf(cut.body)}`);
  assert.deepEqual(await stored(), {
    device: { confirmed_at: null, last_used_step: null },
    reset: 1,
    entries: 0,
    codes: 0,
  });

  await stopFailingAuditEntries(world.db);
  const again = await client.get(path);
  assert.equal(again.status, 200, 'the set-up is still there to finish');
  const done = await client.post(path, { code: nextCode(world, secret) });
  assert.equal(recoveryCodesOn(done)?.continueTo, '/account', textOf(done.body));
  const after = await stored();
  assert.ok(after.device.confirmed_at !== null);
  assert.deepEqual(
    { reset: after.reset, entries: after.entries, codes: after.codes },
    { reset: 0, entries: 2, codes: 10 },
  );
});

/** Makes every insert of an audit entry with `action` fail, on SQLite and PostgreSQL. */
async function failAuditEntriesOf(db: Db, action: string): Promise<void> {
  if (KIND === 'sqlite') {
    await sql`create trigger fail_audit before insert on audit_events when new.action = ${sql.lit(action)}
      begin select raise(abort, 'the database failed'); end`.execute(db);
    return;
  }
  await sql`create function fail_audit() returns trigger language plpgsql as $$
    begin raise exception 'the database failed' using errcode = '58030'; end $$`.execute(db);
  await sql`create trigger fail_audit before insert on audit_events for each row
    when (new.action = ${sql.lit(action)}) execute function fail_audit()`.execute(db);
}

async function stopFailingAuditEntries(db: Db): Promise<void> {
  if (KIND === 'sqlite') await sql`drop trigger fail_audit`.execute(db);
  else await sql`drop trigger fail_audit on audit_events`.execute(db);
}

/** The URL with a server setting added to its connections' options. */
function withServerSetting(url: string, setting: string): string {
  const parsed = new URL(url);
  parsed.searchParams.set('options', [parsed.searchParams.get('options'), `-c ${setting}`].filter(Boolean).join(' '));
  return parsed.toString();
}

test('a database that only reads: a write gets a clear 503 page, reads go on', async (t) => {
  const database = await testInstance(t);
  const world = await observedWorld(t, { db: database.db, clock: database.clock });
  const org = await makeOrganisation(world);
  const ada = await makeUser(world, org);
  const adaSecret = await linkDevice(world, org, ada.id);
  const bob = await makeUser(world, org);
  const adaBrowser = await signedIn(world, ada.email, adaSecret);
  const token = adaBrowser.cookie(SESSION_COOKIE) ?? assert.fail('no session cookie');

  // SQLite refuses writes with query_only as with a read-only file (SQLITE_READONLY);
  // PostgreSQL with read-only transactions, as on a standby (25006).
  let readOnly: ObservedWorld;
  if (database.location.kind === 'sqlite') {
    await sql`pragma query_only = on`.execute(world.db);
    readOnly = world;
  } else {
    const url = withServerSetting(database.location.url, 'default_transaction_read_only=on');
    const db = openDatabase({ kind: 'postgres', url, poolSize: 2 });
    t.after(() => db.destroy());
    readOnly = await observedWorld(t, { db, clock: world.clock });
  }

  const account = await getWithSession(readOnly, '/account', token);
  assert.equal(account.statusCode, 200, 'a signed-in page still shows');
  assert.ok(textOf(account.body).includes(ada.email));
  const refused = await new Browser(readOnly.app).signIn(bob.email, PASSWORD);
  assertFaultPage(refused, 'read_only');
  assertLogged(readOnly, 'read_only');

  if (database.location.kind === 'sqlite') await sql`pragma query_only = off`.execute(world.db);
  const accepted = await new Browser(world.app).signIn(bob.email, PASSWORD);
  assert.equal(accepted.location, '/account', 'once writable again, the same sign-in works');
});

/**
 * Leaves no room for what Twofold writes. SQLite: the file may not grow, and the pages it
 * has are filled with rows smaller and smaller until not even a small row fits; it then
 * fails as on a full disk (SQLITE_FULL). PostgreSQL: its disk cannot be filled from here
 * (see postgres-faults.test.ts for its faults), so a trigger answers as PostgreSQL does
 * when it cannot extend a file (53100). Returns what makes room again.
 */
async function fillUpDatabase(db: Db, organisationId: string): Promise<() => Promise<void>> {
  if (KIND === 'postgres') {
    await sql`create function disk_full() returns trigger language plpgsql as $$
      begin raise exception 'could not extend file: No space left on device' using errcode = '53100'; end $$`.execute(
      db,
    );
    await sql`create trigger disk_full before insert or update on login_throttles
      for each row execute function disk_full()`.execute(db);
    return async () => void (await sql`drop trigger disk_full on login_throttles`.execute(db));
  }
  const { rows } = await sql<{ page_count: number }>`pragma page_count`.execute(db);
  await sql`pragma max_page_count = ${sql.lit(rows[0]?.page_count ?? 0)}`.execute(db);
  let filler = 0;
  for (const size of [2000, 200, 20, 1]) {
    for (;;) {
      try {
        await db
          .insertInto('audit_events')
          .values({
            id: `filler-${(filler += 1)}`,
            organisation_id: organisationId,
            at: new Date().toISOString(),
            action: 'filler',
            actor_id: null,
            actor_email: null,
            subject_id: null,
            subject_email: null,
            ip: null,
            user_agent: null,
            detail: 'x'.repeat(size),
          })
          .execute();
      } catch (error) {
        assert.equal((error as { code?: string }).code, 'SQLITE_FULL');
        break;
      }
    }
  }
  return async () => void (await db.deleteFrom('audit_events').where('action', '=', 'filler').execute());
}

test('a full database: a write gets a clear 503 page, reads go on, and writes work again once there is room', async (t) => {
  const world = await observedWorld(t);
  const org = await makeOrganisation(world);
  const ada = await makeUser(world, org);
  const bob = await makeUser(world, org);
  const token = (await signedIn(world, ada.email)).cookie(SESSION_COOKIE) ?? assert.fail('no session cookie');

  const makeRoom = await fillUpDatabase(world.db, org);
  const refused = await new Browser(world.app).signIn(bob.email, PASSWORD);
  assertFaultPage(refused, 'disk_full');
  assertLogged(world, 'disk_full');
  const account = await getWithSession(world, '/account', token);
  assert.equal(account.statusCode, 200, 'a signed-in page still shows');

  await makeRoom();
  const accepted = await new Browser(world.app).signIn(bob.email, PASSWORD);
  assert.equal(accepted.location, '/account', 'with room again, the same sign-in works');
  if (KIND === 'sqlite') {
    const check = await sql<{ integrity_check: string }>`pragma integrity_check`.execute(world.db);
    assert.deepEqual(check.rows, [{ integrity_check: 'ok' }]);
  }
});

test('a transaction that meets a full disk fails with the error of the disk, and leaves nothing behind', async (t) => {
  const world = await observedWorld(t);
  const org = await makeOrganisation(world);
  await fillUpDatabase(world.db, org);
  const failure = await inTransaction(world.db, async (trx) => {
    await trx.updateTable('organisations').set({ name: 'Renamed' }).where('id', '=', org).execute();
    // More than the room left in any page the table has.
    for (let row = 0; row < 50; row += 1) {
      await trx
        .insertInto('login_throttles')
        .values({ key: `${row}-${'x'.repeat(500)}`, failures: 1, last_failure_at: '', blocked_until: '', checking: 0 })
        .execute();
    }
  }).then(
    () => assert.fail('the transaction went through on a full disk'),
    (error: unknown) => error,
  );
  // Not "cannot rollback - no transaction is active": SQLite may have rolled back by itself.
  assert.equal(databaseFaultOf(failure), 'disk_full', String(failure));
  const kept = await world.db.selectFrom('organisations').select('name').where('id', '=', org).executeTakeFirst();
  assert.notEqual(kept?.name, 'Renamed');
});

/** Resolves with the promise's value, or fails the test when it takes longer than `ms`. */
async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<{ value: T; took: number }> {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  try {
    return { value: await Promise.race([promise, late]), took: Date.now() - started };
  } finally {
    clearTimeout(timer);
  }
}

test(
  'PostgreSQL that refuses connections, or takes them and never answers: a 503 page soon, /readyz 503',
  { skip: onlyInTheSqlitePass('PostgreSQL that cannot be reached'), timeout: 120_000 },
  async (t) => {
    // A listener that accepts and never answers: a hung server, or a network that drops packets.
    const held = new Set<Socket>();
    const silent = createServer((socket) => void held.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    t.after(() => {
      for (const socket of held) socket.destroy();
      silent.close();
    });
    const silentPort = (silent.address() as { port: number }).port;
    const servers = { refusing: await reservePort(), silent: silentPort };

    for (const [how, port] of Object.entries(servers)) {
      // One connection: of the requests sent at once, the others wait for it in the pool's queue.
      const db = openDatabase({ kind: 'postgres', url: `postgres://twofold@127.0.0.1:${port}/twofold`, poolSize: 1 });
      t.after(() => db.destroy());
      const world = await observedWorld(t, { db });
      // Generous bounds: the connection timeout is 5 s; without one, a silent server holds a request forever.
      const [ready, signIn, page] = await Promise.all([
        within(10_000, `${how}: /readyz`, world.app.inject({ url: '/readyz' })),
        within(10_000, `${how}: sign-in`, new Browser(world.app).signIn('someone@example.com', PASSWORD)),
        within(10_000, `${how}: a page with a session cookie`, getWithSession(world, '/account', 'a')),
      ]);
      assert.equal(ready.value.statusCode, 503);
      assertFaultPage(signIn.value, 'unreachable');
      assert.equal(page.value.statusCode, 503);
      assertLogged(world, 'unreachable');
      t.diagnostic(`${how}: /readyz in ${ready.took} ms, sign-in in ${signIn.took} ms, page in ${page.took} ms`);
    }
  },
);

/** A migrated SQLite file with people in it, in a new temporary directory. */
async function seededFile(t: TestContext, key: Buffer, counts: { enrolled: number; toSetUp: number }) {
  const dir = mkdtempSync(join(tmpdir(), 'twofold-faults-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'twofold.db');
  const db = openDatabase({ kind: 'sqlite', path });
  try {
    await migrateToLatest(db);
    return { dir, path, people: await seedPeople(db, key, counts) };
  } finally {
    await db.destroy();
  }
}

function newKey(): { text: string; key: Buffer } {
  const text = newSecretKeyText();
  return { text, key: parseSecretKey(text) ?? assert.fail('a new key does not parse') };
}

async function integrityOf(db: Db): Promise<string[]> {
  const check = await sql<{ integrity_check: string }>`pragma integrity_check`.execute(db);
  const keys = await sql<Record<string, unknown>>`pragma foreign_key_check`.execute(db);
  const problems = check.rows.map((row) => row.integrity_check).filter((line) => line !== 'ok');
  if (keys.rows.length > 0) problems.push(`${keys.rows.length} rows break a foreign key`);
  return problems;
}

test(
  'twofold serve on SQLite killed (SIGKILL) during device confirmations and sign-ins: no half-written state, nothing confirmed lost',
  { skip: onlyInTheSqlitePass('SIGKILL on SQLite'), timeout: 240_000 },
  async (t) => {
    const { text, key } = newKey();
    const { path, people } = await seededFile(t, key, { enrolled: 150, toSetUp: 100 });
    await crashRounds(t, {
      env: { DATABASE_URL: path, TWOFOLD_SECRET_KEY: text, TWOFOLD_LOG_LEVEL: 'warn' },
      people,
      rounds: 3,
      // Opening the file after the kill runs SQLite's recovery from its write-ahead log.
      openDb: () => openDatabase({ kind: 'sqlite', path }),
      checkStorage: integrityOf,
    });
  },
);

/** Writes to `path` until the disk has no room left; returns how much it wrote. */
function fillUp(path: string): number {
  const fd = openSync(path, 'w');
  let written = 0;
  try {
    for (const size of [1 << 20, 1 << 16, 1 << 12, 1 << 9, 1]) {
      const chunk = Buffer.alloc(size, 1);
      for (;;) {
        try {
          written += writeSync(fd, chunk);
        } catch (error) {
          if ((error as { code?: string }).code !== 'ENOSPC') throw error;
          break;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
  return written;
}

const BETTER_SQLITE3 = createRequire(import.meta.url).resolve('better-sqlite3');

/**
 * SQLite's own check of the database on the small disk, from a read-only connection in
 * its namespace: SQLite resolves symbolic links, so /proc/PID/root/... would lead it here.
 */
async function integrityOnDisk(disk: SmallDisk): Promise<string[]> {
  const script = `const SQLite = require(${JSON.stringify(BETTER_SQLITE3)});
    const db = new SQLite(process.argv[1], { readonly: true, fileMustExist: true });
    console.log(JSON.stringify(db.pragma('integrity_check').map((row) => row.integrity_check)));`;
  const result = await disk.run(process.execPath, ['-e', script, `${disk.dir}/twofold.db`]);
  assert.equal(result.code, 0, result.output);
  return JSON.parse(result.output) as string[];
}

/** A small disk with a copy of a seeded database, or a reason to skip. */
async function smallDiskWith(t: TestContext, key: Buffer, counts: { enrolled: number; toSetUp: number }) {
  const disk = await SmallDisk.create(4);
  if (!(disk instanceof SmallDisk)) return { skip: disk.skip } as const;
  t.after(() => disk.close());
  const seeded = await seededFile(t, key, counts);
  copyFileSync(seeded.path, disk.outside('twofold.db'));
  return { disk, people: seeded.people } as const;
}

function serverOn(disk: SmallDisk, keyText: string) {
  return startServerUnder(disk.enter, {
    DATABASE_URL: `${disk.dir}/twofold.db`,
    TWOFOLD_SECRET_KEY: keyText,
    TWOFOLD_LOG_LEVEL: 'warn',
  });
}

const ignore = () => {};

/** Waits for the server's log line about the fault: its output comes through a pipe, after the answer. */
async function loggedBy(server: RunningServer, fault: keyof typeof FAULT_ANSWERS): Promise<void> {
  const deadline = Date.now() + 5_000;
  const said = () =>
    server.output().includes(`"fault":"${fault}"`) && server.output().includes(FAULT_ANSWERS[fault].log);
  while (!said() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  assert.ok(said(), `no log line for ${fault} in: ${server.output()}`);
  assert.ok(!server.output().includes(PASSWORD), 'a password in the log');
}

function enrolledOf(people: People, index: number) {
  return people.enrolled[index] ?? assert.fail(`no enrolled person ${index}`);
}

test(
  'twofold serve on a full disk: a write gets a clear 503 page, reads go on, and writes work again once there is room',
  { skip: onlyInTheSqlitePass('a full disk'), timeout: 180_000 },
  async (t) => {
    const { text, key } = newKey();
    const made = await smallDiskWith(t, key, { enrolled: 3, toSetUp: 0 });
    if ('skip' in made) {
      console.log(`SKIPPED: a full disk: ${made.skip}`);
      return t.skip(made.skip);
    }
    const { disk, people } = made;
    const server = await serverOn(disk, text);
    t.after(() => server.stop(2_000));
    const ada = new Browser(server.url);
    assert.ok(await signInWithCode(ada, enrolledOf(people, 0), ignore));

    const filled = fillUp(disk.outside('filler'));
    // A sign-in writes (its throttle counters, its session): the first whose write needs
    // room the disk does not have fails.
    const answers: Page[] = [];
    while (answers.length < 10 && answers.at(-1)?.status !== 503) {
      const bob = new Browser(server.url);
      await bob.get('/login');
      answers.push(await bob.post('/login', { email: enrolledOf(people, 1).email, password: PASSWORD }));
    }
    const statuses = answers.map((page) => page.status).join(' ');
    t.diagnostic(`filled ${filled} bytes; sign-ins on the full disk: ${statuses}`);
    assert.ok(
      answers.every((page) => page.status === 303 || page.status === 503),
      `answers: ${statuses}`,
    );
    assertFaultPage(answers.at(-1) ?? assert.fail('no answer'), 'disk_full');
    await loggedBy(server, 'disk_full');

    const account = await ada.get('/account');
    assert.equal(account.status, 200, 'a signed-in page still shows');
    assert.deepEqual(await integrityOnDisk(disk), ['ok'], 'the database on the full disk');

    unlinkSync(disk.outside('filler'));
    assert.ok(await signInWithCode(new Browser(server.url), enrolledOf(people, 2), ignore), 'room again');
    assert.deepEqual(await integrityOnDisk(disk), ['ok']);
    assert.equal(server.child.exitCode, null, 'the server ran on throughout');
    assert.deepEqual(await server.stop(10_000), { code: 0, signal: null });
  },
);

test(
  'twofold serve on a read-only disk: it starts, reads go on, and a write gets a clear 503 page',
  { skip: onlyInTheSqlitePass('a read-only disk'), timeout: 180_000 },
  async (t) => {
    const { text, key } = newKey();
    const made = await smallDiskWith(t, key, { enrolled: 3, toSetUp: 0 });
    if ('skip' in made) {
      console.log(`SKIPPED: a read-only disk: ${made.skip}`);
      return t.skip(made.skip);
    }
    const { disk, people } = made;
    const first = await serverOn(disk, text);
    t.after(() => first.stop(2_000));
    const ada = new Browser(first.url);
    assert.ok(await signInWithCode(ada, enrolledOf(people, 0), ignore));
    // A crash, then the disk comes back read-only (as after an I/O error): SQLite reads a
    // write-ahead-log database on a read-only disk only with the log files the crash left.
    first.child.kill('SIGKILL');
    await first.stop(0);
    await disk.remount('ro');

    const server = await serverOn(disk, text);
    t.after(() => server.stop(2_000));
    // The same browser, with the session from the first server, at the new one's address.
    const account = await ada.get(`${server.url}/account`);
    assert.equal(account.status, 200, 'the session made before is read from the read-only disk');
    const bob = new Browser(server.url);
    await bob.get('/login');
    const refused = await bob.post('/login', { email: enrolledOf(people, 1).email, password: PASSWORD });
    assertFaultPage(refused, 'read_only');
    await loggedBy(server, 'read_only');
    assert.deepEqual(await integrityOnDisk(disk), ['ok']);
    assert.deepEqual(await server.stop(10_000), { code: 0, signal: null });

    await disk.remount('rw');
    const again = await serverOn(disk, text);
    t.after(() => again.stop(2_000));
    assert.ok(await signInWithCode(new Browser(again.url), enrolledOf(people, 2), ignore), 'writable again');
    assert.deepEqual(await integrityOnDisk(disk), ['ok']);
  },
);
