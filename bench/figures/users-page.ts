// 5: the users page of an organisation of 100,000 users, on SQLite and on PostgreSQL.
import { join } from 'node:path';
import { sql } from 'kysely';
import { openInstance } from '../../src/instance.js';
import type { Db } from '../../src/store/db.js';
import { usersPageLatencies } from '../phases/users-page.js';
import { benchPostgresUrl, createBenchSchema, redacted } from '../postgres.js';
import type { ServerProcess } from '../processes.js';
import { judged, skipped } from '../report.js';
import { createOrganisation, seedUsers, type BenchUser } from '../seed.js';
import { phaseServers } from '../servers.js';
import { benchConfig, BIG_ORGANISATION, PAGE_BOUNDS, SECRET_KEY, say, serverOptionsOf, type Run } from '../settings.js';
import { secondsSince } from '../stats.js';

export interface BigOrganisation {
  adminEmail: string;
  users: BenchUser[];
}

/** A super admin (signed in with a password alone) and 100,000 users, half with a device. */
export async function seedBigOrganisation(db: Db, run: Run): Promise<BigOrganisation> {
  const organisationId = await createOrganisation(db, 'Bench 100k', run.now);
  const [admin] = await seedUsers(
    db,
    SECRET_KEY,
    run.passwordHash,
    { organisationId, count: 1, prefix: 'admin', role: 'super_admin', withDevice: () => false },
    run.now,
  );
  if (admin === undefined) throw new Error('no admin was seeded');
  const users = await seedUsers(
    db,
    SECRET_KEY,
    run.passwordHash,
    { organisationId, count: BIG_ORGANISATION, prefix: 'person', withDevice: (i) => i % 2 === 0, requiredEvery: 10 },
    run.now,
  );
  return { adminEmail: admin.email, users };
}

/** 5: the first page, a search over names and emails, and a late page, one request at a time. */
export async function measureUsersPage(
  run: Run,
  database: string,
  server: ServerProcess,
  big: BigOrganisation,
): Promise<void> {
  const total = big.users.length + 1;
  const search = '04217';
  const matching = big.users.filter((user) => user.email.includes(search)).length;
  const latePage = Math.ceil(total / 25) - 1;
  const pages = await usersPageLatencies(
    server,
    big.adminEmail,
    [
      { name: 'page 1', path: '/admin/users', shows: `${total} users` },
      { name: `search "${search}"`, path: `/admin/users?q=${search}`, shows: `${matching} users matching` },
      { name: `page ${latePage}`, path: `/admin/users?page=${latePage}`, shows: `${total} users` },
    ],
    PAGE_BOUNDS,
  );
  run.raw[`usersPage${database}`] = pages;
  for (const page of pages) {
    say(`    ${page.name}: p50 ${page.p50} ms, p99 ${page.p99} ms (n=${page.n})`);
    run.rows.push(
      judged(
        `Users page p99, 100k users, ${database}: ${page.name}`,
        page.p99,
        ' ms',
        { below: 100 },
        `GET ${page.path}, one at a time: p50 ${page.p50} ms, max ${page.max} ms, n=${page.n}`,
      ),
    );
  }
}

/** On PostgreSQL when a server is configured; otherwise a SKIPPED row that says why. */
export async function measurePostgres(run: Run): Promise<void> {
  const serverUrl = benchPostgresUrl();
  if (serverUrl === null) {
    say('\n[5] Users page on PostgreSQL: SKIPPED (set TWOFOLD_BENCH_POSTGRES_URL or TWOFOLD_TEST_POSTGRES_URL)');
    run.rows.push(
      skipped(
        'Users page p99, 100k users, PostgreSQL',
        '< 100 ms',
        'SKIPPED: no TWOFOLD_BENCH_POSTGRES_URL or TWOFOLD_TEST_POSTGRES_URL',
      ),
    );
    return;
  }
  say(`\n[5] Users page of 100,000 users, PostgreSQL at ${redacted(serverUrl)}`);
  const { schema, url } = await createBenchSchema(serverUrl);
  const dataDir = join(run.dir, 'pg-data');
  const instance = await openInstance(benchConfig(dataDir, url));
  const { db } = instance.deps;
  let big: BigOrganisation;
  try {
    const started = performance.now();
    big = await seedBigOrganisation(db, run);
    // Autovacuum would have analysed a table this size long ago; a bulk load has not waited for it.
    await sql`analyze`.execute(db);
    say(`    seeded schema ${schema} in ${secondsSince(started)} s`);
  } finally {
    await instance.close();
  }
  const servers = phaseServers(
    {
      dataDir,
      secretKeyHex: SECRET_KEY.toString('hex'),
      databaseUrl: url,
      ...serverOptionsOf(run.whatIf),
    },
    run.profileRoot === null ? null : join(run.profileRoot, 'postgres'),
  );
  await measureUsersPage(run, 'PostgreSQL', await servers.forPhase('users-page'), big);
  run.raw.postgresPeakRss = await servers.finish();
}
