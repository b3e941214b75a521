// Kysely for the embedded SQLite default or for PostgreSQL, chosen by the database URL.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import {
  DEFAULT_MIGRATION_LOCK_TABLE,
  DEFAULT_MIGRATION_TABLE,
  Kysely,
  Migrator,
  PostgresDialect,
  SqliteDialect,
  SqliteDriver,
  sql,
  type DatabaseConnection,
  type DatabaseIntrospector,
  type Driver,
  type DatabaseMetadata,
  type KyselyConfig,
  type Migration,
  type SchemaMetadata,
  type SqliteDatabase,
  type TableMetadata,
  type Transaction,
} from 'kysely';
import pg from 'pg';
import * as initial from './migrations/001-initial.js';
import * as security from './migrations/002-security.js';
import * as usersPage from './migrations/003-users-page.js';
import * as attemptsInFlight from './migrations/004-attempts-in-flight.js';
import * as applications from './migrations/005-applications.js';
import * as oidc from './migrations/006-oidc.js';
import * as sites from './migrations/007-sites.js';
import * as recoveryCodes from './migrations/008-recovery-codes.js';
import * as securityKeys from './migrations/009-security-keys.js';
import * as mailOutbox from './migrations/010-mail-outbox.js';
import * as reminders from './migrations/012-reminders.js';
import * as factorPolicy from './migrations/011-factor-policy.js';
import * as oidcPartialIndexes from './migrations/013-oidc-partial-indexes.js';
import type { Database } from './schema.js';

export type Db = Kysely<Database>;
export type Executor = Kysely<Database> | Transaction<Database>;

export const DEFAULT_POOL_SIZE = 10;

/** `poolSize`: the most connections one instance opens to PostgreSQL. */
export type DatabaseLocation = { kind: 'sqlite'; path: string } | { kind: 'postgres'; url: string; poolSize?: number };

export function databaseLocationOf(url: string, poolSize = DEFAULT_POOL_SIZE): DatabaseLocation {
  if (/^postgres(ql)?:\/\//.test(url)) return { kind: 'postgres', url, poolSize };
  return { kind: 'sqlite', path: url.replace(/^sqlite:/, '') };
}

interface ColumnRow {
  table: string;
  kind: string;
  schema: string;
  column: string;
  type: string;
  type_schema: string;
  not_null: boolean;
  has_default: boolean;
  auto_incrementing: boolean;
}

/**
 * Kysely's PostgreSQL introspection, which its Migrator uses to see whether its own tables
 * exist, reads every schema of the database and calls functions on their names: slow on a
 * shared database, and failing when another schema is dropped meanwhile. Twofold's looks
 * at its own schema only.
 */
class OwnSchemaIntrospector implements DatabaseIntrospector {
  constructor(private readonly db: Kysely<unknown>) {}

  async getSchemas(): Promise<SchemaMetadata[]> {
    const { rows } = await sql<SchemaMetadata>`select nspname as name from pg_catalog.pg_namespace`.execute(this.db);
    return rows;
  }

  async getTables(options = { withInternalKyselyTables: false }): Promise<TableMetadata[]> {
    const { rows } = await sql<ColumnRow>`
      select c.relname as table, c.relkind as kind, ns.nspname as schema, a.attname as column,
        t.typname as type, tns.nspname as type_schema, a.attnotnull as not_null, a.atthasdef as has_default,
        (a.attidentity <> '' or coalesce(pg_get_expr(d.adbin, d.adrelid) like 'nextval(%', false)) as auto_incrementing
      from pg_catalog.pg_class c
        join pg_catalog.pg_namespace ns on ns.oid = c.relnamespace
        join pg_catalog.pg_attribute a on a.attrelid = c.oid
        join pg_catalog.pg_type t on t.oid = a.atttypid
        join pg_catalog.pg_namespace tns on tns.oid = t.typnamespace
        left join pg_catalog.pg_attrdef d on d.adrelid = c.oid and d.adnum = a.attnum
      where ns.nspname = current_schema() and c.relkind in ('r', 'v', 'p') and a.attnum > 0 and not a.attisdropped
      order by c.relname, a.attnum`.execute(this.db);
    const internal = [DEFAULT_MIGRATION_TABLE, DEFAULT_MIGRATION_LOCK_TABLE];
    const tables = new Map<string, TableMetadata>();
    for (const row of rows) {
      if (!options.withInternalKyselyTables && internal.includes(row.table)) continue;
      let table = tables.get(row.table);
      if (table === undefined) {
        table = { name: row.table, isView: row.kind === 'v', schema: row.schema, columns: [] };
        tables.set(row.table, table);
      }
      table.columns.push({
        name: row.column,
        dataType: row.type,
        dataTypeSchema: row.type_schema,
        isNullable: !row.not_null,
        hasDefaultValue: row.has_default,
        isAutoIncrementing: row.auto_incrementing,
      });
    }
    return [...tables.values()];
  }

  async getMetadata(options?: { withInternalKyselyTables: boolean }): Promise<DatabaseMetadata> {
    return { tables: await this.getTables(options) };
  }
}

class PostgresInOneSchemaDialect extends PostgresDialect {
  override createIntrospector(db: Kysely<unknown>): DatabaseIntrospector {
    return new OwnSchemaIntrospector(db);
  }
}

/** The databases openDatabase opened on PostgreSQL, which migrate in their own schema. */
const onPostgres = new WeakSet<Db>();
/** Their pools, for the metrics. */
const pools = new WeakMap<Db, pg.Pool>();

/** How a database's connections are used: a PostgreSQL pool's counts, or SQLite's one connection. */
export type ConnectionUse =
  { kind: 'postgres'; open: number; idle: number; waiting: number } | { kind: 'sqlite'; open: 1 };

export function connectionUseOf(db: Db): ConnectionUse {
  const pool = pools.get(db);
  if (pool === undefined) return { kind: 'sqlite', open: 1 };
  return { kind: 'postgres', open: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount };
}

/** Who else sees each statement: Kysely's log and plugins, for the tests and the bench that count them. */
export type StatementObservers = Pick<KyselyConfig, 'log' | 'plugins'>;

export function openDatabase(location: DatabaseLocation, observers: StatementObservers = {}): Db {
  if (location.kind === 'postgres') {
    const pool = new pg.Pool({
      connectionString: location.url,
      max: location.poolSize ?? DEFAULT_POOL_SIZE,
      // How long a query waits for a connection, new or from the pool, before it fails (the
      // page then says the database cannot be reached). Without it a server that hangs, or
      // that drops packets, would hold every request forever. No query_timeout: it gives up
      // on a query the server may still run, on a connection that goes back to the pool.
      connectionTimeoutMillis: 5_000,
    });
    // A connection lost while idle (a server restart, a network cut) is dropped by the pool
    // and the next query opens another; unheard, the event would end the process.
    pool.on('error', () => {});
    // Lost while a request holds it, the connection also tells its client, which the pool
    // no longer listens to then; the request's query fails, and the pool drops the
    // connection when it comes back.
    pool.on('connect', (client) => client.on('error', () => {}));
    const db = new Kysely<Database>({ ...observers, dialect: new PostgresInOneSchemaDialect({ pool }) });
    onPostgres.add(db);
    pools.set(db, pool);
    return db;
  }
  if (location.path !== ':memory:') mkdirSync(dirname(location.path), { recursive: true });
  const sqlite = new SQLite(location.path);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  return new Kysely<Database>({ ...observers, dialect: new SqliteWithItsOwnRollbacks(sqlite) });
}

/**
 * After some errors (a full disk, an I/O error, an interrupt) SQLite rolls the whole
 * transaction back by itself. Kysely's ROLLBACK would then fail in its turn ("no
 * transaction is active") and its error would replace the one that says what happened:
 * so a rollback is sent only while a transaction is open.
 */
class SqliteDriverForItsOwnRollbacks extends SqliteDriver {
  constructor(private readonly sqlite: SQLite.Database) {
    super({ database: withStatementCache(sqlite) });
  }

  override async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    if (this.sqlite.inTransaction) await super.rollbackTransaction(connection);
  }
}

class SqliteWithItsOwnRollbacks extends SqliteDialect {
  constructor(private readonly sqlite: SQLite.Database) {
    super({ database: sqlite });
  }

  override createDriver(): Driver {
    return new SqliteDriverForItsOwnRollbacks(this.sqlite);
  }
}

/** More distinct statements than Twofold has; past it the cache starts again. */
const STATEMENT_CACHE_SIZE = 500;

/**
 * Kysely prepares every statement it runs, and SQLite parses and plans it each time: a
 * sixth of a sign-in's time on the event loop. Twofold runs the same few dozen statements
 * again and again, so each is prepared once. A statement still being iterated is busy;
 * another is prepared beside it.
 */
export function withStatementCache(sqlite: SQLite.Database): SqliteDatabase {
  const statements = new Map<string, SQLite.Statement>();
  return {
    close: () => sqlite.close(),
    prepare(text) {
      const cached = statements.get(text);
      if (cached !== undefined && !cached.busy) return cached;
      if (statements.size >= STATEMENT_CACHE_SIZE) statements.clear();
      const statement = sqlite.prepare(text);
      statements.set(text, statement);
      return statement;
    },
  };
}

/** Every migration by name, in the order they run. */
export const MIGRATIONS: Readonly<Record<string, Migration>> = {
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
  '011-factor-policy': factorPolicy,
  '012-reminders': reminders,
  '013-oidc-partial-indexes': oidcPartialIndexes,
};

/** PostgreSQL aborted a transaction that conflicted with a concurrent one: running it again is the remedy. */
function isSerializationFailure(error: unknown): boolean {
  const code = typeof error === 'object' && error !== null && 'code' in error ? error.code : undefined;
  return code === '40001' || code === '40P01';
}

const TRANSACTION_ATTEMPTS = 10;

/**
 * Runs `work` in a transaction that behaves as on SQLite, where transactions run one at a
 * time: on PostgreSQL it is SERIALIZABLE (READ COMMITTED would let two transactions each
 * check a rule, such as "not the last device", and both act on it), and run again when
 * PostgreSQL aborts it for a conflict with a concurrent one. `work` may therefore run more
 * than once: it must only use the database and return what it found.
 */
export async function inTransaction<T>(db: Db, work: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
  if (!onPostgres.has(db)) return db.transaction().execute(work);
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.transaction().setIsolationLevel('serializable').execute(work);
    } catch (error) {
      if (attempt >= TRANSACTION_ATTEMPTS || !isSerializationFailure(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * attempt));
    }
  }
}

/**
 * Runs the writes of one step, made once what they depend on has been checked, in one
 * commit: all of them or, after a crash or a failing write, none (a device confirmed
 * with its audit entry). On PostgreSQL, where each commit waits for its WAL flush, that
 * is also one flush. READ COMMITTED: each write that guards something (a code's time step
 * accepted once) is one conditional statement that holds by itself, and concurrent
 * sign-ins then wait for a row instead of being aborted and run again. SQLite runs one
 * transaction at a time; with WAL and synchronous=NORMAL its commit costs next to nothing.
 */
export function inOneCommit<T>(db: Db, work: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
  const transaction = db.transaction();
  return (onPostgres.has(db) ? transaction.setIsolationLevel('read committed') : transaction).execute(work);
}

/**
 * On PostgreSQL, the schema Twofold's tables go in: the first existing one of the
 * connection's search_path ("public" unless the URL sets `options=-c search_path=...`).
 */
async function postgresSchemaOf(db: Db): Promise<string> {
  const { rows } = await sql<{ schema: string | null }>`select current_schema() as schema`.execute(db);
  const schema = rows[0]?.schema ?? null;
  if (schema === null) {
    throw new Error('no schema of the PostgreSQL search_path exists: create the schema the database URL names first');
  }
  return schema;
}

/**
 * Runs the migrations not yet run, and gives their names. On PostgreSQL, instances
 * starting at once take turns under an advisory lock, and the pending migrations run in
 * one transaction.
 */
export async function migrateToLatest(db: Db): Promise<string[]> {
  // Unless told its schema, Kysely's Migrator takes a kysely_migration table in ANY schema
  // of the database for its own, and then fails to find it in the current one.
  const migrator = new Migrator({
    db,
    provider: { getMigrations: () => Promise.resolve(MIGRATIONS) },
    migrationTableSchema: onPostgres.has(db) ? await postgresSchemaOf(db) : undefined,
  });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error !== undefined || failed !== undefined) {
    throw new Error(`database migration ${failed?.migrationName ?? ''} failed: ${String(error)}`);
  }
  return (results ?? []).map((result) => result.migrationName);
}
