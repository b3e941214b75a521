// The database a test runs against. `npm test` runs the suites on SQLite in memory, then,
// when TWOFOLD_TEST_POSTGRES_URL is set, again with TWOFOLD_TEST_DATABASE=postgres: there
// every test database is a schema of its own, made for it and dropped after. Setting it
// up (migrations, the key) is the instance's work: see testInstance in app.ts.
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { openDatabase, type DatabaseLocation, type Db, type StatementObservers } from '../../src/store/db.js';

export type TestDatabaseKind = 'sqlite' | 'postgres';

/** Which database this run of the suites uses. */
export function testDatabaseKind(env: NodeJS.ProcessEnv = process.env): TestDatabaseKind {
  const kind = env.TWOFOLD_TEST_DATABASE || 'sqlite';
  if (kind === 'sqlite') return 'sqlite';
  if (kind !== 'postgres') throw new Error(`TWOFOLD_TEST_DATABASE must be sqlite or postgres, not "${kind}"`);
  if (!env.TWOFOLD_TEST_POSTGRES_URL) throw new Error('TWOFOLD_TEST_DATABASE=postgres needs TWOFOLD_TEST_POSTGRES_URL');
  return 'postgres';
}

/** The PostgreSQL server the suites may use, or null when none is configured. */
export function postgresTestUrl(env: NodeJS.ProcessEnv = process.env): string | null {
  return env.TWOFOLD_TEST_POSTGRES_URL || null;
}

/**
 * A new schema name. It starts with the run's prefix so that `npm test` can drop, at the
 * end, whatever a crashed test of that run left behind.
 */
export function newSchemaName(env: NodeJS.ProcessEnv = process.env): string {
  const run = (env.TWOFOLD_TEST_RUN_ID ?? `p${process.pid}`).replace(/[^a-z0-9]/gi, '').toLowerCase();
  return `${SCHEMA_PREFIX}${run}_${randomBytes(6).toString('hex')}`;
}

export const SCHEMA_PREFIX = 'twofold_test_';

/** The URL with its connections' search_path set to `schema`, as an operator pins Twofold to one schema. */
export function urlWithSearchPath(url: string, schema: string): string {
  const parsed = new URL(url);
  const options = [parsed.searchParams.get('options'), `-c search_path=${schema}`].filter(Boolean).join(' ');
  parsed.searchParams.delete('options');
  const rest = parsed.searchParams.toString();
  parsed.search = `${rest === '' ? '' : `${rest}&`}options=${encodeURIComponent(options)}`;
  return parsed.toString();
}

/** Creates a schema on the server at `url`; returns its URL and a way to drop it. */
export async function createPostgresSchema(
  url: string,
  schema = newSchemaName(),
): Promise<{ schema: string; url: string; drop(): Promise<void> }> {
  const admin = openDatabase({ kind: 'postgres', url, poolSize: 1 });
  try {
    await sql`create schema ${sql.id(schema)}`.execute(admin);
  } finally {
    await admin.destroy();
  }
  return {
    schema,
    url: urlWithSearchPath(url, schema),
    drop: async () => {
      const again = openDatabase({ kind: 'postgres', url, poolSize: 1 });
      try {
        await dropSchema(again, schema);
      } finally {
        await again.destroy();
      }
    },
  };
}

/**
 * Drops a test's schema and all in it. Under a full run PostgreSQL has now and then chosen
 * the drop as the victim of a deadlock ("deadlock detected" in a teardown, with other
 * tests' statements running): as for any deadlock victim, the remedy is to run it again.
 */
async function dropSchema(db: Db, schema: string): Promise<void> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(db);
      return;
    } catch (error) {
      const code = typeof error === 'object' && error !== null && 'code' in error ? error.code : undefined;
      if (code !== '40P01' || attempt >= 5) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
    }
  }
}

/** A test's database, open and not yet set up. */
export interface TestDatabase {
  db: Db;
  location: DatabaseLocation;
  /** Drops what was made for the test (a PostgreSQL schema) over its own connections: before closing them. */
  drop(): Promise<void>;
}

/** A SQLite file (or ":memory:"), whatever the run's kind; nothing to drop. */
export function sqliteTestDatabase(path: string, observers: StatementObservers = {}): TestDatabase {
  const location: DatabaseLocation = { kind: 'sqlite', path };
  return { db: openDatabase(location, observers), location, drop: () => Promise.resolve() };
}

/** A new, empty database of this run's kind. */
export async function newTestDatabase(observers: StatementObservers = {}): Promise<TestDatabase> {
  if (testDatabaseKind() === 'sqlite') return sqliteTestDatabase(':memory:', observers);
  const server = postgresTestUrl();
  if (server === null) throw new Error('a PostgreSQL test database needs TWOFOLD_TEST_POSTGRES_URL');
  const schema = newSchemaName();
  const location: DatabaseLocation = { kind: 'postgres', url: urlWithSearchPath(server, schema) };
  const db = openDatabase(location, observers);
  // The schema is made and dropped over the test's own connections: the search_path may
  // name a schema that does not exist yet.
  try {
    await sql`create schema ${sql.id(schema)}`.execute(db);
  } catch (error) {
    await db.destroy();
    throw error;
  }
  return {
    db,
    location,
    drop: () => dropSchema(db, schema),
  };
}
