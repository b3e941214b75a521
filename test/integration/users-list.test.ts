// The admins' users list as the store gives it: every page of every kind of search holds
// the users a plain reading of the rules says, in email order, with their confirmed
// devices counted; and the migration that indexes it runs on a database already in use.
// Runs on the run's database (SQLite, or PostgreSQL in the PostgreSQL pass).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test, type TestContext } from 'node:test';
import { Migrator, sql } from 'kysely';
import { emailKey } from '../../src/domain/users.js';
import { migrateToLatest, openDatabase, type Db } from '../../src/store/db.js';
import * as initial from '../../src/store/migrations/001-initial.js';
import * as security from '../../src/store/migrations/002-security.js';
import * as usersPage from '../../src/store/migrations/003-users-page.js';
import * as attemptsInFlight from '../../src/store/migrations/004-attempts-in-flight.js';
import * as applications from '../../src/store/migrations/005-applications.js';
import * as oidc from '../../src/store/migrations/006-oidc.js';
import * as sites from '../../src/store/migrations/007-sites.js';
import * as recoveryCodes from '../../src/store/migrations/008-recovery-codes.js';
import * as securityKeys from '../../src/store/migrations/009-security-keys.js';
import * as mailOutbox from '../../src/store/migrations/010-mail-outbox.js';
import { insertOrganisation } from '../../src/store/organisations.js';
import { tenantFor } from '../../src/store/tenant.js';
import { USERS_PAGE_SIZE } from '../../src/store/users.js';
import { testInstance } from '../helpers/app.js';
import { createPostgresSchema, postgresTestUrl, testDatabaseKind } from '../helpers/databases.js';

const NOW = new Date('2026-11-22T12:00:00.000Z');

interface Seeded {
  id: string;
  name: string;
  email: string;
  confirmedDevices: number;
}

/** A small deterministic generator (mulberry32), so that a failure can be run again as it was. */
function generator(seed: number): (below: number) => number {
  let state = seed;
  return (below) => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 2 ** 32) * below);
  };
}

const FIRST = ['Ann', 'anna', 'Bob', 'Émile', 'zoë', 'Chris', 'O’Brien', 'li', 'Mary-Jo', 'Smith'];
const LAST = ['Smith', 'SMITHSON', 'de la Cruz', '50% off', 'under_score', 'back\\slash', 'Ng', 'Østergaard'];
const LOCAL = ['a', 'ann', 'Ann.Smith', 'b_c', 'z', 'x-ray', 'first+tag', 'AA', '0', '9lives', 'smith'];
const DOMAINS = ['example.com', 'Example.org', 'a.io', 'zeta.example', 'b-c.net'];

/**
 * `count` users of a new organisation with varied names and emails, each with 0 to 3
 * devices of which only the confirmed ones count. Emails get a number to stay unique
 * across organisations; the numbers interleave the two organisations in email order.
 */
async function seedOrganisation(
  db: Db,
  count: number,
  seed: number,
  tag: string,
): Promise<{ id: string; users: Seeded[] }> {
  const organisationId = randomUUID();
  await insertOrganisation(db, { id: organisationId, name: `Org ${tag} ${organisationId}`, timeZone: 'UTC', now: NOW });
  const tenant = tenantFor(db, organisationId);
  const next = generator(seed);
  const pick = <T>(list: readonly T[]): T => list[next(list.length)] as T;
  const users: Seeded[] = [];
  for (let i = 0; i < count; i++) {
    const name = `${pick(FIRST)} ${pick(LAST)}`;
    const email = `${pick(LOCAL)}${2 * i + seed}${tag}@${pick(DOMAINS)}`;
    const id = randomUUID();
    await tenant.users.insert({
      id,
      email,
      emailKey: emailKey(email),
      name,
      role: 'user',
      passwordHash: null,
      now: NOW,
    });
    const devices = next(4);
    let confirmedDevices = 0;
    for (let d = 0; d < devices; d++) {
      const deviceId = randomUUID();
      await tenant.devices.insertUnconfirmed({
        id: deviceId,
        userId: id,
        name: `Phone ${d}`,
        sealedSecret: 'x',
        now: NOW,
      });
      if (next(3) > 0) {
        await tenant.devices.acceptTimeStep(id, deviceId, 59_000_000, NOW, 'enrolment');
        confirmedDevices += 1;
      }
    }
    users.push({ id, name, email, confirmedDevices });
  }
  return { id: organisationId, users };
}

/**
 * What the list must show, read plainly: the organisation's users whose name or email
 * contains the search, any case, as typed (no wildcard), in the database's order of
 * email keys, a page of 25 at a time.
 */
async function expectedList(db: Db, organisationId: string, users: Seeded[], search: string) {
  const term = search.trim().toLowerCase();
  const byId = new Map(users.map((user) => [user.id, user]));
  const inEmailOrder = await db
    .selectFrom('users')
    .select('id')
    .where('organisation_id', '=', organisationId)
    .orderBy('email_key')
    .execute();
  return inEmailOrder
    .map((row) => byId.get(row.id))
    .filter((user): user is Seeded => user !== undefined)
    .filter((user) => `${user.name} ${user.email}`.toLowerCase().includes(term));
}

const SEARCHES = [
  '',
  '   ',
  'a',
  'SMITH',
  ' smith ',
  'example',
  '.org',
  '%',
  '50%',
  '_',
  'b_c',
  '\\',
  'é',
  'Ø',
  'first+tag',
  'nobody-has-this',
];

test('every page of every search lists the matching users in email order, with their confirmed devices', async (t) => {
  const database = await testInstance(t);
  const { db } = database;
  const ours = await seedOrganisation(db, 260, 1, 'o');
  // Another organisation's users match the same searches and sit between ours in email order.
  await seedOrganisation(db, 60, 2, 'o');
  const users = tenantFor(db, ours.id).users;

  for (const search of SEARCHES) {
    const expected = await expectedList(db, ours.id, ours.users, search);
    const pages = Math.max(1, Math.ceil(expected.length / USERS_PAGE_SIZE));
    for (let page = 1; page <= pages + 1; page++) {
      const listed = await users.list(search, page);
      const wanted = expected.slice((page - 1) * USERS_PAGE_SIZE, page * USERS_PAGE_SIZE);
      const where = `search ${JSON.stringify(search)}, page ${page}`;
      assert.equal(listed.total, expected.length, where);
      assert.deepEqual(
        listed.rows.map((row) => `${row.user.email} ${row.confirmedDevices}`),
        wanted.map((user) => `${user.email} ${user.confirmedDevices}`),
        where,
      );
    }
  }

  // The searches above are not all trivial: some match everyone, some a few, some no one.
  const counts = await Promise.all(SEARCHES.map(async (s) => (await users.list(s, 1)).total));
  assert.ok(counts.includes(260) && counts.includes(0) && counts.some((n) => n > 25 && n < 260), String(counts));
  assert.ok(ours.users.some((user) => user.confirmedDevices >= 2) && ours.users.some((u) => u.confirmedDevices === 0));
});

test('each listed user is the whole user, as found by id', async (t) => {
  const database = await testInstance(t);
  const { id } = await seedOrganisation(database.db, 40, 3, 'w');
  const users = tenantFor(database.db, id).users;
  for (const page of [1, 2]) {
    for (const row of (await users.list('', page)).rows) assert.deepEqual(row.user, await users.findById(row.user.id));
  }
});

test('a page number below 1 gives the first page, and one past the end an empty page with the total', async (t) => {
  const database = await testInstance(t);
  const { id } = await seedOrganisation(database.db, 30, 4, 'p');
  const users = tenantFor(database.db, id).users;
  const first = await users.list('', 1);
  assert.equal(first.rows.length, USERS_PAGE_SIZE);
  assert.deepEqual(await users.list('', 0), first);
  assert.deepEqual(await users.list('', -3), first);
  assert.equal((await users.list('', 2)).rows.length, 5);
  assert.deepEqual(await users.list('', 3), { rows: [], total: 30 });
});

/** A database of its own with no table yet, of the run's kind: a SQLite one in memory or a new PostgreSQL schema. */
async function emptyDatabase(t: TestContext): Promise<{ db: Db; schema: string | undefined }> {
  if (testDatabaseKind() === 'sqlite') {
    const db = openDatabase({ kind: 'sqlite', path: ':memory:' });
    t.after(() => db.destroy());
    return { db, schema: undefined };
  }
  const server = postgresTestUrl();
  assert.ok(server !== null);
  const created = await createPostgresSchema(server);
  t.after(() => created.drop());
  const db = openDatabase({ kind: 'postgres', url: created.url, poolSize: 2 });
  t.after(() => db.destroy());
  return { db, schema: created.schema };
}

/** The users table's own indexes (not those of its primary key and unique columns), each with its columns. */
async function usersIndexes(db: Db): Promise<string[]> {
  if (testDatabaseKind() === 'sqlite') {
    const { rows } = await sql<{ name: string }>`
      select name from sqlite_master where type = 'index' and tbl_name = 'users' and sql is not null`.execute(db);
    const described: string[] = [];
    for (const { name } of rows) {
      const columns = await sql<{ name: string }>`select name from pragma_index_info(${name}) order by seqno`.execute(
        db,
      );
      described.push(`${name} (${columns.rows.map((column) => column.name).join(', ')})`);
    }
    return described.sort();
  }
  // Plain catalog columns only, filtered to this schema before anything is read: a view
  // such as pg_indexes calls pg_get_indexdef, which opens every index it meets, and fails
  // when another test drops its schema at that moment.
  const { rows } = await sql<{ name: string; columns: string }>`
    select i.relname as name,
      (select string_agg(a.attname, ', ' order by k.ordinality)
         from unnest(x.indkey::int2[]) with ordinality as k(attnum, ordinality)
         join pg_catalog.pg_attribute a on a.attrelid = t.oid and a.attnum = k.attnum) as columns
    from pg_catalog.pg_index x
      join pg_catalog.pg_class i on i.oid = x.indexrelid
      join pg_catalog.pg_class t on t.oid = x.indrelid
    where t.relnamespace = (select oid from pg_catalog.pg_namespace where nspname = current_schema())
      and i.relnamespace = t.relnamespace and t.relname = 'users' and not x.indisunique`.execute(db);
  return rows.map((row) => `${row.name} (${row.columns})`).sort();
}

test('the users page migration indexes a database already in use, and its down puts the old index back', async (t) => {
  const { db, schema } = await emptyDatabase(t);
  const before = new Migrator({
    db,
    provider: { getMigrations: () => Promise.resolve({ '001-initial': initial, '002-security': security }) },
    migrationTableSchema: schema,
  });
  const { error } = await before.migrateToLatest();
  assert.equal(error, undefined);
  assert.deepEqual(await usersIndexes(db), ['users_by_organisation (organisation_id, search_key)']);
  const { id, users } = await seedOrganisation(db, 30, 5, 'm');

  await migrateToLatest(db);
  assert.deepEqual(await usersIndexes(db), ['users_by_organisation_email (organisation_id, email_key, search_key)']);
  const listed = await tenantFor(db, id).users.list('', 2);
  assert.equal(listed.total, 30);
  assert.deepEqual(
    listed.rows.map((row) => row.user.email),
    (await expectedList(db, id, users, '')).slice(25).map((user) => user.email),
  );

  // Down and up again as the Migrator runs them, with every migration known.
  const all = new Migrator({
    db,
    provider: {
      getMigrations: () =>
        Promise.resolve({
          '001-initial': initial,
          '002-security': security,
          '003-users-page': usersPage,
          '004-attempts-in-flight': attemptsInFlight,
          '005-applications': applications,
          '006-oidc': oidc,
          '007-sites': sites,
          '008-recovery-codes': recoveryCodes,
          '009-security-keys': securityKeys,
          '010-mail-outbox': mailOutbox,
        }),
    },
    migrationTableSchema: schema,
  });
  assert.equal((await all.migrateTo('002-security')).error, undefined);
  assert.deepEqual(await usersIndexes(db), ['users_by_organisation (organisation_id, search_key)']);
  assert.equal((await all.migrateToLatest()).error, undefined);
  assert.deepEqual(await usersIndexes(db), ['users_by_organisation_email (organisation_id, email_key, search_key)']);
});
