// What only PostgreSQL can show: the migrations on an empty schema and again, the schema
// chosen by the URL, single-statement updates under concurrent connections (READ
// COMMITTED), and the `twofold` command and server on a PostgreSQL URL. Every other suite
// runs on PostgreSQL too, in the PostgreSQL pass of `npm test`.
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { test, type TestContext } from 'node:test';
import { sql } from 'kysely';
import { newSecretKeyText } from '../../src/domain/secret-box.js';
import { migrateToLatest, openDatabase, type Db } from '../../src/store/db.js';
import { findOrganisation, insertOrganisation } from '../../src/store/organisations.js';
import { atomically, tenantFor } from '../../src/store/tenant.js';
import { enterThrottles, readThrottleCounts, settleThrottleAttempt } from '../../src/store/throttles.js';
import { findAccountByEmail } from '../../src/store/logins.js';
import { createPostgresSchema, postgresTestUrl, urlWithSearchPath } from '../helpers/databases.js';
import { childEnv, runTwofold } from '../helpers/processes.js';

/** Every migration, in order: what a schema set up to the latest has run. */
const ALL_MIGRATIONS = [
  '001-initial',
  '002-security',
  '003-users-page',
  '004-attempts-in-flight',
  '005-applications',
  '006-oidc',
  '007-sites',
  '008-recovery-codes',
  '009-security-keys',
  '010-mail-outbox',
];

const SERVER = postgresTestUrl();
const skip = SERVER === null ? 'SKIPPED: PostgreSQL runs: TWOFOLD_TEST_POSTGRES_URL is not set' : false;
if (skip !== false) console.log(skip);

const BIN = fileURLToPath(new URL('../../bin/twofold.js', import.meta.url));
const PASSWORD = 'correct horse battery';
const NOW = new Date('2026-11-22T12:00:00.000Z');

function server(): string {
  assert.ok(SERVER !== null);
  return SERVER;
}

/** A new, empty schema, dropped after the test; its URL pins the connections to it. */
async function freshSchema(t: TestContext): Promise<{ schema: string; url: string }> {
  const created = await createPostgresSchema(server());
  t.after(() => created.drop());
  return created;
}

function opened(t: TestContext, url: string, poolSize?: number): Db {
  const db = openDatabase({ kind: 'postgres', url, poolSize });
  t.after(() => db.destroy());
  return db;
}

/**
 * Every table of a database with its columns and whether each may be null, for comparing.
 * SQLite lets a primary key other than INTEGER hold NULL, PostgreSQL does not: a primary
 * key counts as not null on both (Twofold never stores a null id).
 */
async function shapeOf(db: Db, kind: 'sqlite' | 'postgres'): Promise<Record<string, string[]>> {
  const tables = await db.introspection.getTables({ withInternalKyselyTables: true });
  const shape: Record<string, string[]> = {};
  for (const table of tables.sort((a, b) => a.name.localeCompare(b.name))) {
    const primaryKey = new Set(
      kind === 'postgres'
        ? []
        : (
            await sql<{ name: string }>`select name from pragma_table_info(${table.name}) where pk > 0`.execute(db)
          ).rows.map((row) => row.name),
    );
    shape[table.name] = table.columns.map(
      (c) =>
        `${c.name}${c.isNullable && !primaryKey.has(c.name) ? '' : ' not null'}${c.hasDefaultValue ? ' default' : ''}`,
    );
  }
  return shape;
}

async function migrationsRun(db: Db, schema: string): Promise<string[]> {
  const { rows } = await sql<{
    name: string;
  }>`select name from ${sql.table(`${schema}.kysely_migration`)} order by name`.execute(db);
  return rows.map((row) => row.name);
}

test(
  'the migrations make on an empty schema the tables they make on SQLite, and a second run changes nothing',
  { skip },
  async (t) => {
    const { schema, url } = await freshSchema(t);
    const db = opened(t, url);
    await migrateToLatest(db);
    const onPostgres = await shapeOf(db, 'postgres');

    const sqlite = openDatabase({ kind: 'sqlite', path: ':memory:' });
    t.after(() => sqlite.destroy());
    await migrateToLatest(sqlite);
    assert.deepEqual(onPostgres, await shapeOf(sqlite, 'sqlite'));
    assert.deepEqual(await migrationsRun(db, schema), ALL_MIGRATIONS);

    await migrateToLatest(db);
    await migrateToLatest(opened(t, url));
    assert.deepEqual(await shapeOf(db, 'postgres'), onPostgres);
    assert.deepEqual(await migrationsRun(db, schema), ALL_MIGRATIONS);
  },
);

test('instances starting at once on the same empty schema migrate it once', { skip }, async (t) => {
  const { schema, url } = await freshSchema(t);
  const instances = Array.from({ length: 4 }, () => opened(t, url));
  await Promise.all(instances.map((db) => migrateToLatest(db)));
  assert.deepEqual(await migrationsRun(instances[0] as Db, schema), ALL_MIGRATIONS);
});

test('each schema of one database has its own tables and its own migration record', { skip }, async (t) => {
  // Kysely's Migrator, unless told its schema, would take the first schema's record for
  // the second's and leave the second without tables.
  const first = await freshSchema(t);
  const second = await freshSchema(t);
  await migrateToLatest(opened(t, first.url));
  const db = opened(t, second.url);
  await migrateToLatest(db);
  assert.deepEqual(await migrationsRun(db, second.schema), ALL_MIGRATIONS);

  await insertOrganisation(db, { id: randomUUID(), name: 'Only in the second', timeZone: 'UTC', now: NOW });
  assert.notEqual(await findOrganisation(db, 'Only in the second'), null);
  assert.equal(await findOrganisation(opened(t, first.url), 'Only in the second'), null);
});

test('a URL whose search_path names no existing schema is refused with the reason', { skip }, async (t) => {
  const db = opened(t, urlWithSearchPath(server(), `twofold_missing_${randomUUID().slice(0, 8)}`));
  await assert.rejects(migrateToLatest(db), /no schema of the PostgreSQL search_path exists/);
});

async function migratedWithUser(t: TestContext, poolSize: number, settings = '') {
  const { url } = await freshSchema(t);
  const db = opened(t, settings === '' ? url : `${url}${encodeURIComponent(` ${settings}`)}`, poolSize);
  await migrateToLatest(db);
  const organisationId = randomUUID();
  const userId = randomUUID();
  const deviceId = randomUUID();
  await insertOrganisation(db, { id: organisationId, name: 'Acme', timeZone: 'UTC', now: NOW });
  const tenant = tenantFor(db, organisationId);
  await tenant.users.insert({
    id: userId,
    email: 'ada@example.com',
    emailKey: 'ada@example.com',
    name: 'Ada',
    role: 'user',
    passwordHash: null,
    now: NOW,
  });
  await tenant.devices.insertUnconfirmed({ id: deviceId, userId, name: 'Phone', sealedSecret: 'sealed', now: NOW });
  return { db, tenant, userId, deviceId };
}

test(
  'of 50 simultaneous uses of one code on PostgreSQL exactly one is accepted, round after round',
  { skip },
  async (t) => {
    const { db, tenant, userId, deviceId } = await migratedWithUser(t, 25);
    // Every connection of the pool open first, so that the updates really run side by side.
    await Promise.all(Array.from({ length: 25 }, () => sql`select pg_sleep(0.05)`.execute(db)));
    const first = 59_000_000;
    assert.ok(await tenant.devices.acceptTimeStep(userId, deviceId, first - 10, NOW, 'enrolment'));
    for (let round = 0; round < 5; round++) {
      const step = first + round;
      const accepted = await Promise.all(
        Array.from({ length: 50 }, () => tenant.devices.acceptTimeStep(userId, deviceId, step, NOW, 'use')),
      );
      assert.equal(
        accepted.filter(Boolean).length,
        1,
        `round ${round}: accepted ${accepted.filter(Boolean).length} times`,
      );
      assert.equal(await tenant.devices.acceptTimeStep(userId, deviceId, step - 1, NOW, 'use'), false);
    }
    const stored = await db
      .selectFrom('devices')
      .select('last_used_step')
      .where('id', '=', deviceId)
      .executeTakeFirst();
    assert.equal(stored?.last_used_step, first + 4);
    assert.equal(await tenant.devices.countConfirmed(userId), 1);
  },
);

test('simultaneous codes of different steps leave the latest one stored, never an earlier one', { skip }, async (t) => {
  const { db, tenant, userId, deviceId } = await migratedWithUser(t, 25);
  const first = 59_000_000;
  assert.ok(await tenant.devices.acceptTimeStep(userId, deviceId, first - 10, NOW, 'enrolment'));
  const steps = Array.from({ length: 50 }, (_, i) => first + ((i * 17) % 50));
  const accepted = await Promise.all(
    steps.map((step) => tenant.devices.acceptTimeStep(userId, deviceId, step, NOW, 'use')),
  );
  assert.ok(accepted.includes(true));
  const stored = await db.selectFrom('devices').select('last_used_step').where('id', '=', deviceId).executeTakeFirst();
  assert.equal(stored?.last_used_step, first + 49);
});

test(
  'a transaction runs as if alone: of two simultaneous removals of the last two required devices, one is refused',
  { skip },
  async (t) => {
    // Under READ COMMITTED both removals would count two devices and both go ahead.
    for (let round = 0; round < 5; round++) {
      const { db, tenant, userId } = await migratedWithUser(t, 5);
      await tenant.users.setTwoFactorRequirement(userId, true, null, NOW);
      const second = randomUUID();
      await tenant.devices.insertUnconfirmed({ id: second, userId, name: 'Tablet', sealedSecret: 'sealed', now: NOW });
      const devices = await tenant.devices.listForUser(userId);
      for (const device of devices)
        await tenant.devices.acceptTimeStep(userId, device.id, 59_000_000, NOW, 'enrolment');
      const removeLastOrRefuse = (deviceId: string) =>
        atomically(db, tenant.organisationId, async (trx) => {
          if ((await trx.devices.countConfirmed(userId)) < 2) return false;
          return trx.devices.remove(userId, deviceId);
        });
      const removed = await Promise.all(devices.map((device) => removeLastOrRefuse(device.id)));
      assert.deepEqual(
        removed.filter(Boolean).length,
        1,
        `round ${round}: ${removed.filter(Boolean).length} of the two removals went ahead`,
      );
      assert.equal(await tenant.devices.countConfirmed(userId), 1);
    }
  },
);

test(
  'simultaneous password attempts on PostgreSQL: no more enter than the room, and one claims the try',
  { skip },
  async (t) => {
    const { url } = await freshSchema(t);
    const db = opened(t, url, 20);
    await migrateToLatest(db);
    const inFlightBefore = new Date(NOW.getTime() - 60_000);
    const read = async (now: Date) =>
      (
        await readThrottleCounts(db, ['ip:x'], now, {
          failuresBefore: new Date(now.getTime() - 60_000),
          inFlightBefore,
        })
      ).get('ip:x');
    assert.deepEqual(await read(NOW), { failures: 0, checking: 0, blockedUntil: NOW });
    // 30 at once, with room for 20: exactly 20 enter.
    const entered = await Promise.all(
      Array.from({ length: 30 }, () =>
        enterThrottles(db, [{ key: 'ip:x', freeFailures: 20 }], [], NOW, inFlightBefore),
      ),
    );
    assert.equal(entered.filter((keys) => keys.has('ip:x')).length, 20);
    assert.equal((await read(NOW))?.checking, 20);
    // All 20 wrong, settled at once: each counted once.
    const settlement = { all: ['ip:x'], failed: ['ip:x'], cleared: [], waitEnded: [] };
    await Promise.all(Array.from({ length: 20 }, () => settleThrottleAttempt(db, settlement, NOW)));
    assert.deepEqual(await read(NOW), { failures: 20, checking: 0, blockedUntil: NOW });
    // No room left: of 30 claiming the one try at once, exactly one gets it and sets the wait.
    const next = new Date(NOW.getTime() + 1000);
    const claimed = await Promise.all(
      Array.from({ length: 30 }, () => enterThrottles(db, [], [{ key: 'ip:x', nextTryAt: next }], NOW, inFlightBefore)),
    );
    assert.equal(claimed.filter((keys) => keys.has('ip:x')).length, 1);
    assert.deepEqual(await read(NOW), { failures: 20, checking: 1, blockedUntil: next });
    // A day later the failures are forgotten, and a minute later so is an attempt left in flight.
    const later = new Date(NOW.getTime() + 3_600_000);
    assert.deepEqual(
      await readThrottleCounts(db, ['ip:x'], later, {
        failuresBefore: new Date(later.getTime() - 60_000),
        inFlightBefore: new Date(later.getTime() - 60_000),
      }).then((counts) => counts.get('ip:x')),
      { failures: 0, checking: 0, blockedUntil: next },
    );
  },
);

test('a transaction on PostgreSQL sees its own writes and leaves nothing when it fails', { skip }, async (t) => {
  const { db, tenant, userId } = await migratedWithUser(t, 5);
  const organisationId = tenant.organisationId;
  await assert.rejects(
    atomically(db, organisationId, async (trx) => {
      await trx.devices.removeAllForUser(userId);
      assert.equal(await trx.devices.countConfirmed(userId), 0);
      assert.equal((await trx.devices.listForUser(userId)).length, 0);
      throw new Error('changed my mind');
    }),
    /changed my mind/,
  );
  assert.equal((await tenant.devices.listForUser(userId)).length, 1);
  const listing = await tenant.users.list('ADA', 1);
  assert.equal(listing.total, 1);
  assert.equal(typeof listing.total, 'number');
  assert.equal(listing.rows[0]?.confirmedDevices, 0);
});

test(
  'a search for "%", "_" or "\\" matches them literally, whatever standard_conforming_strings says',
  { skip },
  async (t) => {
    const { db, tenant } = await migratedWithUser(t, 5, '-c standard_conforming_strings=off');
    const setting = await sql<{
      value: string;
    }>`select current_setting('standard_conforming_strings') as value`.execute(db);
    assert.equal(setting.rows[0]?.value, 'off');
    for (const [name, email] of [
      ['100% Bob', 'bob@example.com'],
      ['Carol_C', 'carol@example.com'],
      ['Back\\slash', 'dan@example.com'],
    ] as const) {
      await tenant.users.insert({
        id: randomUUID(),
        email,
        emailKey: email,
        name,
        role: 'user',
        passwordHash: null,
        now: NOW,
      });
    }
    const names = async (search: string) => (await tenant.users.list(search, 1)).rows.map((row) => row.user.name);
    assert.deepEqual(await names('%'), ['100% Bob']);
    assert.deepEqual(await names('_'), ['Carol_C']);
    assert.deepEqual(await names('\\'), ['Back\\slash']);
    assert.equal((await names('')).length, 4);
    await tenant.audit.record(
      {
        action: 'user_created',
        actor: { id: randomUUID(), email: '100%_b\\ob@example.com' },
        subject: null,
        client: null,
        detail: {},
      },
      NOW,
    );
    const search = (email: string) =>
      tenant.audit.list({ action: null, email, from: null, until: null }, 1).then((page) => page.total);
    assert.equal(await search('0%_b\\o'), 1);
    assert.equal(await search('0%b'), 0);
  },
);

/** `twofold serve` on a free port; resolves with its URL once it listens. */
function serve(
  t: TestContext,
  env: Record<string, string>,
): Promise<{ url: string; child: ChildProcessWithoutNullStreams }> {
  const child = spawn(process.execPath, [BIN, 'serve'], {
    env: childEnv({ PORT: '0', TWOFOLD_LOG_LEVEL: 'info', ...env }),
  });
  t.after(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`the server did not start: ${output}`)), 60_000);
    const read = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const listening = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (listening?.[1]) {
        clearTimeout(timer);
        resolve({ url: listening[1], child });
      }
    };
    child.stdout.on('data', read);
    child.stderr.on('data', read);
    child.on('close', (code) => {
      clearTimeout(timer);
      reject(new Error(`the server exited with ${code}: ${output}`));
    });
  });
}

test('twofold creates an organisation and serves it on a PostgreSQL URL', { skip, timeout: 240_000 }, async (t) => {
  const { url } = await freshSchema(t);
  const key = newSecretKeyText();
  const env = { DATABASE_URL: url, TWOFOLD_SECRET_KEY: key };

  const withoutKey = await runTwofold(['org', 'create', '--name', 'Acme', '--admin-email', 'ada@example.com'], {
    DATABASE_URL: url,
  });
  assert.equal(withoutKey.code, 1, withoutKey.stderr);
  assert.match(withoutKey.stderr, /TWOFOLD_SECRET_KEY is required with PostgreSQL/);

  // Two releases' worth of `twofold migrate` at once: one runs the migrations, the other waits its turn and finds none.
  const migrations = await Promise.all([runTwofold(['migrate'], env), runTwofold(['migrate'], env)]);
  for (const run of migrations) assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(migrations.map((run) => (run.stdout.startsWith('Ran ') ? 'ran' : run.stdout.trim())).sort(), [
    'The database is up to date: no migration to run.',
    'ran',
  ]);
  assert.match(migrations.find((run) => run.stdout.startsWith('Ran '))?.stdout ?? '', /: 001-initial, 002-security/);

  const badPool = await runTwofold(['org', 'create', '--name', 'Acme', '--admin-email', 'ada@example.com'], {
    ...env,
    TWOFOLD_DATABASE_POOL_SIZE: '0',
  });
  assert.equal(badPool.code, 1, badPool.stderr);
  assert.match(badPool.stderr, /TWOFOLD_DATABASE_POOL_SIZE must be a whole number from 1 to 100, not "0"/);

  const created = await runTwofold(
    ['org', 'create', '--name', 'Acme', '--admin-email', 'Ada@Example.com', '--admin-name', 'Ada'],
    env,
    `${PASSWORD}\n`,
  );
  assert.equal(created.code, 0, created.stderr);
  assert.match(created.stdout, /Created the organisation Acme\./);

  const db = opened(t, url);
  const organisation = await findOrganisation(db, 'acme');
  assert.equal(organisation?.name, 'Acme');
  assert.equal((await findAccountByEmail(db, 'ada@example.com'))?.user.role, 'super_admin');

  const again = await runTwofold(
    ['org', 'create', '--name', 'ACME', '--admin-email', 'bob@example.com'],
    env,
    `${PASSWORD}\n`,
  );
  assert.notEqual(again.code, 0);
  assert.match(again.stderr, /already exists/);

  const otherKey = await runTwofold(['user', 'reset-2fa', '--email', 'ada@example.com'], {
    ...env,
    TWOFOLD_SECRET_KEY: newSecretKeyText(),
  });
  assert.equal(otherKey.code, 1, otherKey.stderr);
  assert.match(otherKey.stderr, /TWOFOLD_SECRET_KEY is not the key/);

  const running = await serve(t, { ...env, TWOFOLD_DATABASE_POOL_SIZE: '3' });
  const page = await fetch(`${running.url}/login`);
  assert.equal(page.status, 200);
  assert.match(await page.text(), /Sign in/);
  const exited = new Promise<number | null>((resolve) => running.child.on('close', resolve));
  running.child.kill('SIGTERM');
  assert.equal(await exited, 0);
});
