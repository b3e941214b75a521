// PostgreSQL failing under a running `twofold serve`, on a cluster of the test's own (the
// shared test server is never stopped): restarted under load, cleanly and by a crash,
// Twofold answers 503 at once while it is down, and carries on by itself once it is back,
// with no confirmed device lost; and `twofold serve` killed (SIGKILL) in the middle of
// device confirmations and sign-ins leaves no half-written state. Skipped without the
// PostgreSQL server binaries; the shared server's URL is not needed.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import pg from 'pg';
import { newSecretKeyText, parseSecretKey } from '../../src/domain/secret-box.js';
import { migrateToLatest, openDatabase } from '../../src/store/db.js';
import { FAULT_ANSWERS } from '../../src/web/database-faults.js';
import { message } from '../../src/web/messages.js';
import { PrivateCluster } from '../helpers/fault-makers.js';
import {
  crashRounds,
  halfWrittenStateIn,
  linkFirstDevice,
  lostConfirmations,
  queueOf,
  seedPeople,
  signInWithCode,
  summarise,
  underLoad,
  type Exchange,
  type LinkedDevice,
  type People,
  type Recorder,
} from '../helpers/faults.js';
import { Browser } from '../helpers/browser.js';
import { startServer } from '../helpers/processes.js';

const made = await PrivateCluster.create();
const cluster = made instanceof PrivateCluster ? made : null;
const skip = cluster === null ? `SKIPPED: PostgreSQL faults: ${'skip' in made ? made.skip : ''}` : false;
if (skip !== false) console.log(skip);
after(() => cluster?.destroy());

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A new database of the private cluster, migrated, with people in it. */
async function seededDatabase(name: string, key: Buffer, counts: { enrolled: number; toSetUp: number }) {
  assert.ok(cluster !== null);
  const admin = new pg.Client({ connectionString: cluster.url });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = cluster.url.replace(/\/postgres$/, `/${name}`);
  const db = openDatabase({ kind: 'postgres', url, poolSize: 2 });
  try {
    await migrateToLatest(db);
    return { url, people: await seedPeople(db, key, counts) };
  } finally {
    await db.destroy();
  }
}

function newKey(): { text: string; key: Buffer } {
  const text = newSecretKeyText();
  return { text, key: parseSecretKey(text) ?? assert.fail('a new key does not parse') };
}

async function readyz(base: string): Promise<{ status: number | null; took: number }> {
  const started = Date.now();
  const status = await fetch(`${base}/readyz`).then(
    (response) => response.status,
    () => null,
  );
  return { status, took: Date.now() - started };
}

/** What the database holds that it should not, after the faults. */
async function problemsIn(url: string, people: People, linked: readonly LinkedDevice[]): Promise<string[]> {
  const db = openDatabase({ kind: 'postgres', url, poolSize: 2 });
  try {
    const lost = await lostConfirmations(db, linked);
    return [...(await halfWrittenStateIn(db, people)), ...lost.map((id) => `confirmed device ${id} lost`)];
  } finally {
    await db.destroy();
  }
}

test(
  'PostgreSQL restarted under load, cleanly then by a crash: 503 at once while down, back by itself, nothing confirmed lost',
  { skip, timeout: 240_000 },
  async (t) => {
    assert.ok(cluster !== null);
    const { text, key } = newKey();
    const { url, people } = await seededDatabase('restart', key, { enrolled: 240, toSetUp: 160 });
    const server = await startServer({ DATABASE_URL: url, TWOFOLD_SECRET_KEY: text, TWOFOLD_LOG_LEVEL: 'warn' });
    t.after(() => server.stop(2_000));
    const [reserved, ...enrolled] = people.enrolled;
    assert.ok(reserved !== undefined);
    const nextEnrolled = queueOf(enrolled);
    const nextToSetUp = queueOf(people.toSetUp);

    const exchanges: Exchange[] = [];
    const record: Recorder = (exchange) => void exchanges.push(exchange);
    const linked: LinkedDevice[] = [];
    // Signed in before the faults: their pages are read again and again throughout.
    const readers = await Promise.all(
      Array.from({ length: 4 }, async () => {
        const browser = new Browser(server.url);
        assert.ok(await signInWithCode(browser, nextEnrolled() ?? assert.fail('no one left'), record));
        return browser;
      }),
    );
    let stopped = false;
    const load = underLoad(
      8,
      () => stopped,
      async (worker) => {
        const reader = readers[worker % 4];
        if (worker < 4 && reader !== undefined) {
          const started = Date.now();
          const page = await reader.get('/account').catch(() => null);
          record({
            what: 'GET /account',
            status: page?.status ?? null,
            startedAt: started,
            endedAt: Date.now(),
            retryAfter: page?.headers['retry-after'] === undefined ? null : String(page.headers['retry-after']),
            text: page !== null && page.status >= 500 ? page.body.replace(/<[^>]+>/g, ' ') : '',
          });
          await sleep(50);
          return;
        }
        const browser = new Browser(server.url);
        const toSetUp = worker % 2 === 0 ? nextToSetUp() : null;
        const person = toSetUp === null ? nextEnrolled() : null;
        let done = false;
        if (toSetUp !== null) {
          const device = await linkFirstDevice(browser, toSetUp, record);
          if (device !== null) linked.push(device);
          done = device !== null;
        } else if (person !== null) done = await signInWithCode(browser, person, record);
        // While PostgreSQL is down every sign-in fails at once: no need to use up everyone.
        if (!done) await sleep(250);
      },
    );

    const outages: { mode: string; downAt: number; upFrom: number; backAt: number }[] = [];
    const readyWhileDown: { status: number | null; took: number }[] = [];
    try {
      await sleep(1_500);
      for (const mode of ['fast', 'immediate'] as const) {
        const stop = await cluster.stop(mode);
        assert.equal(stop.code, 0, stop.output);
        const downAt = Date.now();
        for (let probe = 0; probe < 3; probe += 1) {
          readyWhileDown.push(await readyz(server.url));
          await sleep(400);
        }
        const upFrom = Date.now();
        const start = await cluster.start();
        assert.equal(start.code, 0, start.output);
        let back = await readyz(server.url);
        const deadline = Date.now() + 20_000;
        while (back.status !== 200 && Date.now() < deadline) {
          await sleep(100);
          back = await readyz(server.url);
        }
        assert.equal(back.status, 200, `/readyz after PostgreSQL's ${mode} restart: ${server.output().slice(-3000)}`);
        outages.push({ mode, downAt, upFrom, backAt: Date.now() });
        await sleep(1_500);
      }
    } finally {
      stopped = true;
      await load;
    }

    for (const outage of outages) {
      const during = exchanges.filter((e) => e.startedAt >= outage.downAt && e.endedAt <= outage.upFrom);
      const after = exchanges.filter((e) => e.startedAt >= outage.backAt && e.status !== null && e.status < 500);
      t.diagnostic(
        `${outage.mode} restart: down ${outage.upFrom - outage.downAt} ms, ready again ${outage.backAt - outage.upFrom} ms after the start; ` +
          `while down: ${summarise(during)}; after: ${after.length} answers below 500`,
      );
      // The sign-in form needs no database; everything else does.
      const needsDatabase = during.filter((e) => e.what !== 'GET /login');
      assert.ok(needsDatabase.length > 0, `${outage.mode}: no request while PostgreSQL was down`);
      for (const e of needsDatabase)
        assert.equal(e.status, 503, `${outage.mode}, while down: ${e.what} got ${e.status}`);
      assert.ok(
        after.some((e) => e.what === 'GET /account' && e.status === 200),
        `${outage.mode}: pages after it`,
      );
    }
    const failed = exchanges.filter((e) => e.status === null || (e.status >= 500 && e.status !== 503));
    assert.deepEqual(failed, [], 'an answer other than 503 at or above 500, or none');
    for (const e of exchanges.filter((each) => each.status === 503)) {
      assert.ok(e.text.includes(message(FAULT_ANSWERS.unreachable.message)), `${e.what}: ${e.text}`);
      assert.equal(e.retryAfter, '5');
      assert.ok(e.endedAt - e.startedAt < 10_000, `${e.what} took ${e.endedAt - e.startedAt} ms to say 503`);
    }
    t.diagnostic(`/readyz while down: ${readyWhileDown.map((r) => `${r.status} in ${r.took} ms`).join(', ')}`);
    for (const r of readyWhileDown) {
      assert.equal(r.status, 503);
      assert.ok(r.took < 10_000);
    }

    assert.equal(server.child.exitCode, null, 'Twofold ran on throughout, never restarted');
    assert.ok(linked.length > 0, 'no device was linked');
    assert.deepEqual(await problemsIn(url, people, linked), []);
    assert.ok(await signInWithCode(new Browser(server.url), reserved, record), 'a sign-in with a code after it all');
  },
);

test(
  'twofold serve on PostgreSQL killed (SIGKILL) during device confirmations and sign-ins: no half-written state, nothing confirmed lost',
  { skip, timeout: 240_000 },
  async (t) => {
    const { text, key } = newKey();
    const { url, people } = await seededDatabase('crash', key, { enrolled: 150, toSetUp: 100 });
    await crashRounds(t, {
      env: { DATABASE_URL: url, TWOFOLD_SECRET_KEY: text, TWOFOLD_LOG_LEVEL: 'warn' },
      people,
      rounds: 2,
      openDb: () => openDatabase({ kind: 'postgres', url, poolSize: 2 }),
    });
  },
);
