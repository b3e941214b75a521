// Statements built once. Kysely builds a query from immutable nodes and compiles it to SQL on
// every call: for the session lookup that every request makes, about 65 µs of its 120,
// where SQLite itself takes 25. The statements every request and every sign-in run are
// built and compiled once per database dialect, and each call only supplies its values.
import type { CompiledQuery, QueryResult } from 'kysely';
import type { Executor } from './db.js';

interface Compilable<Row> {
  compile(): CompiledQuery<Row>;
}

/** Where each named value goes in the compiled statement's parameters. */
interface Compiled<Row> {
  query: CompiledQuery<Row>;
  /** For each parameter, the name of the value it takes, or null for a constant of the statement. */
  slots: (string | null)[];
}

const MARK = '\u0000twofold-value:';

/**
 * A statement over the values `names`, built by `build` with a marker in place of each: the
 * markers must each reach the compiled statement's parameters exactly once (a value compared,
 * inserted or set; never one that decides the statement's shape, which must not depend on the
 * values). Checked when first built: a statement that breaks the rule throws at once.
 */
export function compiledOnce<Name extends string, Row>(
  names: readonly Name[],
  build: (db: Executor, values: Record<Name, string>) => Compilable<Row>,
): (db: Executor, values: Record<Name, unknown>) => Promise<QueryResult<Row>> {
  // Per dialect: a database and its transactions share their adapter.
  const byAdapter = new WeakMap<object, Compiled<Row>>();
  const compile = (db: Executor): Compiled<Row> => {
    const markers = Object.fromEntries(names.map((name) => [name, `${MARK}${name}`])) as Record<Name, string>;
    const query = build(db, markers).compile();
    const slots = query.parameters.map((value) =>
      typeof value === 'string' && value.startsWith(MARK) ? value.slice(MARK.length) : null,
    );
    for (const name of names) {
      const uses = slots.filter((slot) => slot === name).length;
      if (uses !== 1) throw new Error(`a statement built once takes its value "${name}" ${uses} times, not once`);
    }
    if (query.sql.includes(MARK)) throw new Error('a statement built once has a value in its SQL text');
    return { query, slots };
  };
  return async (db, values) => {
    const adapter = db.getExecutor().adapter;
    let compiled = byAdapter.get(adapter);
    if (compiled === undefined) {
      compiled = compile(db);
      byAdapter.set(adapter, compiled);
    }
    const { query, slots } = compiled;
    const parameters = slots.map((slot, i) => (slot === null ? query.parameters[i] : values[slot as Name]));
    return await db.executeQuery<Row>({ ...query, parameters });
  };
}
