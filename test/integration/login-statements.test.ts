// How many SQL statements a complete login runs (GET /login, the password, GET /login/code,
// the code), counted as the app runs them, so that a change that adds a query to sign-in
// or to every request's guard is seen. Transaction control (begin, commit) is told apart
// and not counted: whether a step's writes share a commit is decided per database.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import type { LogEvent, RootOperationNode } from 'kysely';
import { buildWorld, linkDevice, makeOrganisation, makeUser, type TestWorld } from '../helpers/app.js';
import { Browser } from '../helpers/browser.js';
import { nextCode } from './support.js';

function kindOf(node: RootOperationNode): string {
  if (node.kind !== 'RawNode') return node.kind.replace(/QueryNode$/, '').toLowerCase();
  const text = node.sqlFragments.join('?').trim().toLowerCase();
  return /^(begin|start transaction|commit|rollback)\b/.test(text) ? 'transaction' : 'raw';
}

/**
 * Records the kind of every statement run while a label is set: through Kysely's log, which
 * sees each statement run, also one built and compiled once (src/store/compiled.ts).
 */
class StatementCounter {
  label: string | null = null;
  readonly seen: { label: string; kind: string }[] = [];

  readonly log = (event: LogEvent): void => {
    if (this.label !== null) this.seen.push({ label: this.label, kind: kindOf(event.query.query) });
  };

  async during<T>(label: string, work: () => Promise<T>): Promise<T> {
    this.label = label;
    try {
      return await work();
    } finally {
      this.label = null;
    }
  }

  /** The statements, not counting begin and commit. */
  statementsOf(label?: string) {
    return this.seen.filter((s) => (label === undefined || s.label === label) && s.kind !== 'transaction');
  }

  countOf(label: string): number {
    return this.statementsOf(label).length;
  }

  kindsOf(label: string): string {
    return this.seen
      .filter((s) => s.label === label)
      .map((s) => s.kind)
      .join(', ');
  }
}

/** The test world, its database counting the statements run while a label is set. */
async function countingWorld(t: TestContext): Promise<{ world: TestWorld; counter: StatementCounter }> {
  const counter = new StatementCounter();
  return { world: await buildWorld(t, { observers: { log: counter.log } }), counter };
}

test('a complete login runs 12 SQL statements: 4 for the password, 1 for the code page, 7 for the code', async (t) => {
  const { world, counter } = await countingWorld(t);
  const org = await makeOrganisation(world);
  const user = await makeUser(world, org);
  const secret = await linkDevice(world, org, user.id);
  const client = new Browser(world.app);

  await counter.during('GET /login', () => client.get('/login'));
  const password = await counter.during('POST /login', () =>
    client.post('/login', { email: user.email, password: user.password }),
  );
  assert.equal(password.location, '/login/code');
  await counter.during('GET /login/code', () => client.get('/login/code'));
  const code = nextCode(world, secret);
  const done = await counter.during('POST /login/code', () => client.post('/login/code', { code }));
  assert.equal(done.location, '/account');

  const steps = ['GET /login', 'POST /login', 'GET /login/code', 'POST /login/code'];
  for (const step of steps) t.diagnostic(`${step}: ${counter.countOf(step)} (${counter.kindsOf(step)})`);
  assert.deepEqual(
    steps.map((step) => counter.countOf(step)),
    [0, 4, 1, 7],
  );
  assert.equal(counter.statementsOf().length, 12);
});

test('a wrong password runs as many statements for an unknown email as for a known one', async (t) => {
  const { world, counter } = await countingWorld(t);
  const org = await makeOrganisation(world);
  const user = await makeUser(world, org);

  await counter.during('known', () => new Browser(world.app).signIn(user.email, 'not the password'));
  await counter.during('unknown', () => new Browser(world.app).signIn('nobody@example.com', 'not the password'));
  t.diagnostic(`known: ${counter.kindsOf('known')}; unknown: ${counter.kindsOf('unknown')}`);
  // The account's row, the attempt counted in flight, its outcome, and the audit row (or
  // for an unknown email its stand-in).
  assert.equal(counter.countOf('known'), 4);
  assert.equal(counter.countOf('unknown'), counter.countOf('known'));
});
