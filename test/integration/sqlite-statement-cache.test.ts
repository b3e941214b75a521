// The SQLite connection prepares each statement once, however often Kysely runs it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import SQLite from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import { withStatementCache } from '../../src/store/db.js';

function countingPrepares(sqlite: SQLite.Database): { prepared: string[] } {
  const seen = { prepared: [] as string[] };
  const prepare = sqlite.prepare.bind(sqlite);
  sqlite.prepare = ((text: string) => {
    seen.prepared.push(text);
    return prepare(text);
  }) as typeof sqlite.prepare;
  return seen;
}

test('a statement run again is not prepared again, and gives the current rows', async () => {
  const sqlite = new SQLite(':memory:');
  const seen = countingPrepares(sqlite);
  const db = new Kysely<{ notes: { id: number; text: string } }>({
    dialect: new SqliteDialect({ database: withStatementCache(sqlite) }),
  });
  try {
    await sql`create table notes (id integer primary key, text text not null)`.execute(db);
    for (const [id, text] of [
      [1, 'one'],
      [2, 'two'],
      [3, 'three'],
    ] as const) {
      await db.insertInto('notes').values({ id, text }).execute();
    }
    const texts = async (above: number) =>
      (await db.selectFrom('notes').select('text').where('id', '>', above).orderBy('id').execute()).map((r) => r.text);
    assert.deepEqual(await texts(0), ['one', 'two', 'three']);
    assert.deepEqual(await texts(1), ['two', 'three']);
    await db.updateTable('notes').set({ text: 'TWO' }).where('id', '=', 2).execute();
    assert.deepEqual(await texts(1), ['TWO', 'three']);
    // create, insert, select, update: four texts, each prepared once.
    assert.equal(seen.prepared.length, 4, seen.prepared.join('\n'));
  } finally {
    await db.destroy();
  }
});

test('a statement still being iterated is not handed out again', async () => {
  const sqlite = new SQLite(':memory:');
  sqlite.exec('create table numbers (n integer); insert into numbers values (1), (2), (3)');
  const database = withStatementCache(sqlite);
  const text = 'select n from numbers order by n';
  const iterating = database.prepare(text).iterate([]);
  assert.deepEqual(iterating.next().value, { n: 1 });
  assert.deepEqual(database.prepare(text).all([]), [{ n: 1 }, { n: 2 }, { n: 3 }]);
  assert.deepEqual([...iterating], [{ n: 2 }, { n: 3 }]);
  database.close();
});
