// A PostgreSQL schema of the bench's own, dropped at the end whatever happens.
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { openDatabase } from '../src/store/db.js';
import { onCleanup } from './cleanup.js';

export function benchPostgresUrl(env: NodeJS.ProcessEnv = process.env): string | null {
  return env.TWOFOLD_BENCH_POSTGRES_URL || env.TWOFOLD_TEST_POSTGRES_URL || null;
}

/** The server URL with its password hidden, for the report. */
export function redacted(url: string): string {
  const parsed = new URL(url);
  if (parsed.password !== '') parsed.password = '***';
  return parsed.toString();
}

/** The URL with its connections' search_path set to `schema`, as an operator pins Twofold to one. */
function withSearchPath(url: string, schema: string): string {
  const parsed = new URL(url);
  const options = [parsed.searchParams.get('options'), `-c search_path=${schema}`].filter(Boolean).join(' ');
  parsed.searchParams.set('options', options);
  return parsed.toString();
}

async function onServer(url: string, work: (db: ReturnType<typeof openDatabase>) => Promise<unknown>): Promise<void> {
  const db = openDatabase({ kind: 'postgres', url, poolSize: 1 });
  try {
    await work(db);
  } finally {
    await db.destroy();
  }
}

/** Creates a new schema; returns the URL that uses it. Dropped by the bench's clean-up. */
export async function createBenchSchema(serverUrl: string): Promise<{ schema: string; url: string }> {
  const schema = `twofold_bench_${randomBytes(5).toString('hex')}`;
  await onServer(serverUrl, (db) => sql`create schema ${sql.id(schema)}`.execute(db));
  onCleanup(`drop PostgreSQL schema ${schema}`, () =>
    onServer(serverUrl, (db) => sql`drop schema if exists ${sql.id(schema)} cascade`.execute(db)),
  );
  return { schema, url: withSearchPath(serverUrl, schema) };
}
