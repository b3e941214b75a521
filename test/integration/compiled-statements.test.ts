// Statements built once (src/store/compiled.ts): each call runs with its own values, on the
// database and in its transactions, and a statement that would misplace a value is refused
// when first built. On the run's database (SQLite, or PostgreSQL in its pass).
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { sql, type Kysely } from 'kysely';
import { compiledOnce } from '../../src/store/compiled.js';
import type { Executor } from '../../src/store/db.js';
import { newTestDatabase } from '../helpers/databases.js';

/** A table of its own, outside Twofold's schema: the statements are typed against `unknown` tables. */
async function notesDatabase(t: TestContext): Promise<Executor> {
  const { db, drop } = await newTestDatabase();
  t.after(async () => {
    await drop();
    await db.destroy();
  });
  await sql`create table notes (id text primary key, owner text not null, body text)`.execute(db);
  return db;
}

type Notes = Kysely<{ notes: { id: string; owner: string; body: string | null } }>;
const notes = (db: Executor) => db as unknown as Notes;

const insertNote = compiledOnce(['id', 'owner', 'body'], (db, { id, owner, body }) =>
  notes(db).insertInto('notes').values({ id, owner, body }),
);
const notesOf = compiledOnce(['owner'], (db, { owner }) =>
  notes(db)
    .selectFrom('notes')
    .select(['id', 'body'])
    .where('owner', '=', owner)
    .where('id', '<>', 'hidden')
    .orderBy('id'),
);

test('a statement built once runs with each call’s values, constants kept, in and out of transactions', async (t) => {
  const db = await notesDatabase(t);
  await insertNote(db, { id: 'a', owner: 'ann', body: 'first' });
  await insertNote(db, { id: 'b', owner: 'bob', body: null });
  await insertNote(db, { id: 'hidden', owner: 'ann', body: 'never listed' });
  await db.transaction().execute(async (trx) => {
    await insertNote(trx, { id: 'c', owner: 'ann', body: 'in a transaction' });
    assert.deepEqual(
      (await notesOf(trx, { owner: 'ann' })).rows.map((r) => r.id),
      ['a', 'c'],
    );
  });
  assert.deepEqual((await notesOf(db, { owner: 'ann' })).rows, [
    { id: 'a', body: 'first' },
    { id: 'c', body: 'in a transaction' },
  ]);
  assert.deepEqual((await notesOf(db, { owner: 'bob' })).rows, [{ id: 'b', body: null }]);
  assert.deepEqual((await notesOf(db, { owner: 'nobody' })).rows, []);
});

test('a statement that takes a value twice, or not at all, is refused when first built', async (t) => {
  const db = await notesDatabase(t);
  const twice = compiledOnce(['owner'], (d, { owner }) =>
    notes(d).selectFrom('notes').select('id').where('owner', '=', owner).where('body', '=', owner),
  );
  await assert.rejects(twice(db, { owner: 'ann' }), /takes its value "owner" 2 times, not once/);
  const unused = compiledOnce(['owner'], (d) => notes(d).selectFrom('notes').select('id'));
  await assert.rejects(unused(db, { owner: 'ann' }), /takes its value "owner" 0 times, not once/);
});
