// Two real `twofold serve` processes on one PostgreSQL schema, as behind a load balancer:
// a sign-in may move between them at any request, a code is accepted once by either, and
// the password and code counters are the database's, so alternating instances gains an
// attacker nothing. PostgreSQL-only (named postgres-*, so `npm test` runs it once, in
// the PostgreSQL pass); skipped without TWOFOLD_TEST_POSTGRES_URL.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { hashPassword } from '../../src/domain/passwords.js';
import { newSecretKeyText, parseSecretKey, sealSecret } from '../../src/domain/secret-box.js';
import { codeAt, isExpiredCode, matchingTimeStep, newTotpSecret, timeStepAt } from '../../src/domain/totp.js';
import { emailKey } from '../../src/domain/users.js';
import { migrateToLatest, openDatabase, type Db } from '../../src/store/db.js';
import { insertOrganisation } from '../../src/store/organisations.js';
import { tenantFor } from '../../src/store/tenant.js';
import { textOf } from '../helpers/browser.js';
import { createPostgresSchema, postgresTestUrl } from '../helpers/databases.js';
import { passwordThrottleKeys } from '../../src/services/password-throttle.js';
import { Browser, type Page } from '../helpers/browser.js';
import { startServer, type RunningServer } from '../helpers/processes.js';

const SERVER = postgresTestUrl();
const skip =
  SERVER === null ? 'SKIPPED: two instances on one PostgreSQL database: TWOFOLD_TEST_POSTGRES_URL is not set' : false;
if (skip !== false) console.log(skip);

const PASSWORD = 'correct horse battery';
const WRONG_PASSWORD = 'not the password at all';

interface Person {
  id: string;
  email: string;
  secret: Uint8Array;
}

/** A 6-digit code that none of the device's current, previous or next steps shows, nor an expired one. */
function wrongCodeFor(secret: Uint8Array): string {
  const now = new Date();
  for (let digit = 0; digit < 10; digit += 1) {
    const code = String(digit).repeat(6);
    if (matchingTimeStep(secret, code, now) === null && !isExpiredCode(secret, code, now)) return code;
  }
  throw new Error('every repeated-digit code matches this device');
}

/**
 * Password on `base`; expects to be asked for a code. The browsers here keep one cookie
 * jar for both instances, as for one site behind a load balancer: they are given full URLs.
 */
async function passwordStep(browser: Browser, base: string, email: string): Promise<void> {
  await browser.get(`${base}/login`);
  const answer = await browser.post(`${base}/login`, { email, password: PASSWORD });
  assert.equal(answer.status, 303, textOf(answer.body));
  assert.equal(answer.location, '/login/code');
}

async function wrongPassword(base: string, email: string): Promise<Page> {
  const browser = new Browser(base);
  await browser.get('/login');
  return browser.post('/login', { email, password: WRONG_PASSWORD });
}

test(
  'two instances on one PostgreSQL schema share sign-ins, codes and counters',
  { skip, timeout: 180_000 },
  async (t) => {
    assert.ok(SERVER !== null);
    const started = Date.now();
    const schema = await createPostgresSchema(SERVER);
    const keyText = newSecretKeyText();
    const key = parseSecretKey(keyText);
    assert.ok(key !== null);
    const db: Db = openDatabase({ kind: 'postgres', url: schema.url, poolSize: 5 });
    const servers: RunningServer[] = [];
    t.after(async () => {
      const exits = await Promise.all(servers.map((server) => server.stop(5_000)));
      await db.destroy();
      await schema.drop();
      t.diagnostic(`instances exited with ${exits.map((e) => e.code ?? e.signal).join(' and ')}`);
    });

    // Seeding, in-process on the same schema, sealing with the instances' key.
    await migrateToLatest(db);
    const organisationId = randomUUID();
    const now = new Date();
    await insertOrganisation(db, { id: organisationId, name: 'Acme', timeZone: 'UTC', now });
    const tenant = tenantFor(db, organisationId);
    const passwordHash = await hashPassword(PASSWORD);
    const person = async (label: string): Promise<Person> => {
      const id = randomUUID();
      const email = `${label}@example.com`;
      await tenant.users.insert({ id, email, emailKey: emailKey(email), name: label, role: 'user', passwordHash, now });
      const deviceId = randomUUID();
      const secret = newTotpSecret();
      await tenant.devices.insertUnconfirmed({
        id: deviceId,
        userId: id,
        name: 'Phone',
        sealedSecret: sealSecret(key, secret, deviceId),
        now,
      });
      const earlier = new Date(now.getTime() - 10 * 60_000);
      assert.ok(await tenant.devices.acceptTimeStep(id, deviceId, timeStepAt(earlier), earlier, 'enrolment'));
      return { id, email, secret };
    };
    const [ada, bob, carol, dan, erin, fay] = await Promise.all(
      ['ada', 'bob', 'carol', 'dan', 'erin', 'fay'].map((label) => person(label)),
    );
    assert.ok(ada && bob && carol && dan && erin && fay);

    const env = { DATABASE_URL: schema.url, TWOFOLD_SECRET_KEY: keyText, TWOFOLD_LOG_LEVEL: 'warn' };
    servers.push(...(await Promise.all([startServer(env), startServer(env)])));
    const [A, B] = servers.map((server) => server.url);
    assert.ok(A !== undefined && B !== undefined && A !== B);
    t.diagnostic(`instances at ${A} and ${B}, ready ${Date.now() - started} ms after the start`);

    await t.test('a sign-in started on A (password) finishes on B (code), and the session works on both', async () => {
      const browser = new Browser(A);
      await passwordStep(browser, A, ada.email);
      const form = await browser.get(`${A}/login/code`);
      assert.equal(form.status, 200);
      const done = await browser.post(`${B}/login/code`, { code: codeAt(ada.secret, new Date()) });
      assert.equal(done.status, 303, textOf(done.body));
      assert.equal(done.location, '/account');
      for (const base of [A, B, A]) {
        const account = await browser.get(`${base}/account`);
        assert.equal(account.status, 200, `GET /account on ${base}: ${account.status}`);
        assert.match(textOf(account.body), /ada@example\.com/);
      }
    });

    await t.test('a code accepted on one instance is refused on the other as already used', async () => {
      // Accepted on A, replayed on B.
      const first = new Browser(A);
      await passwordStep(first, A, bob.email);
      await first.get(`${A}/login/code`);
      const code = codeAt(bob.secret, new Date());
      assert.equal((await first.post(`${A}/login/code`, { code })).location, '/account');

      const replay = new Browser(B);
      await passwordStep(replay, B, bob.email);
      await replay.get(`${B}/login/code`);
      const refused = await replay.post(`${B}/login/code`, { code });
      assert.equal(refused.status, 400);
      assert.match(textOf(refused.body), /That code has already been used/);

      // And the other way: the next step's code, accepted on B, is refused on A.
      const next = codeAt(bob.secret, new Date(Date.now() + 30_000));
      assert.equal((await replay.post(`${B}/login/code`, { code: next })).location, '/account');
      const third = new Browser(A);
      await passwordStep(third, A, bob.email);
      await third.get(`${A}/login/code`);
      const again = await third.post(`${A}/login/code`, { code: next });
      assert.equal(again.status, 400);
      assert.match(textOf(again.body), /That code has already been used/);
    });

    await t.test('50 simultaneous uses of one code, 25 on each instance: exactly one signs in', async (t) => {
      // 50 pending sign-ins of one person, 25 started on each instance, five at a time.
      const baseOf = (i: number) => (i % 2 === 0 ? A : B);
      const browsers = Array.from({ length: 50 }, (_, i) => new Browser(baseOf(i)));
      for (let batch = 0; batch < 50; batch += 5) {
        await Promise.all(
          browsers.slice(batch, batch + 5).map((browser, j) => passwordStep(browser, baseOf(batch + j), carol.email)),
        );
      }
      await Promise.all(browsers.map((browser, i) => browser.get(`${baseOf(i)}/login/code`)));
      const code = codeAt(carol.secret, new Date());
      const answers = await Promise.all(
        browsers.map((browser, i) => browser.post(`${baseOf(i)}/login/code`, { code })),
      );
      const signedIn = answers.filter((a) => a.status === 303 && a.location === '/account');
      const byStatus = new Map<string, number>();
      for (const answer of answers) {
        const what =
          answer.status === 303
            ? `303 ${answer.location}`
            : `${answer.status} ${/already been used/.test(answer.body) ? 'replayed' : /Wait until/.test(answer.body) ? 'slow down' : 'other'}`;
        byStatus.set(what, (byStatus.get(what) ?? 0) + 1);
      }
      const winner = answers.findIndex((a) => a.status === 303);
      t.diagnostic(
        `50 simultaneous submissions of one code (25 on A, 25 on B): ${signedIn.length} signed in` +
          ` (on ${winner % 2 === 0 ? 'A' : 'B'}); ${[...byStatus].map(([what, n]) => `${n} x ${what}`).join(', ')}`,
      );
      assert.equal(signedIn.length, 1);
      for (const answer of answers) {
        if (answer === signedIn[0]) continue;
        // Copies of a right code are no guesses: each is told the code was already used.
        assert.equal(answer.status, 400, `a losing submission got ${answer.status}`);
        assert.match(textOf(answer.body), /already been used/);
      }
      const stored = await db
        .selectFrom('users')
        .select(['code_failures', 'code_locked_until'])
        .where('id', '=', carol.id)
        .executeTakeFirstOrThrow();
      assert.equal(stored.code_failures, 0, 'a replayed code counts as no guess');
      assert.equal(stored.code_locked_until, null);
    });

    await t.test(
      'wrong passwords alternated between A and B are throttled after as many as on one instance',
      async (t) => {
        const pairFailures = async (email: string) => {
          const key = passwordThrottleKeys(email, '127.0.0.1').account_and_address;
          const row = await db
            .selectFrom('login_throttles')
            .select('failures')
            .where('key', '=', key)
            .executeTakeFirst();
          return { key, failures: row?.failures ?? 0 };
        };
        // Five free failures one by one, counted once whichever instance checks them. Then,
        // as if four more had come and their waits were over, the tenth owes a 16-second
        // wait: of a tenth and an eleventh sent at once, exactly one is checked and the
        // other refused (429), however slowly this machine answers. (With the real sixth,
        // the wait is one second, which a loaded machine can let pass between the two.)
        const sequence = async (email: string, baseOf: (n: number) => string) => {
          const statuses: string[] = [];
          for (let n = 0; n < 5; n += 1) statuses.push(String((await wrongPassword(baseOf(n), email)).status));
          const { key, failures } = await pairFailures(email);
          assert.equal(failures, 5, 'five wrong passwords, wherever they were checked, count five');
          await db.updateTable('login_throttles').set({ failures: 9 }).where('key', '=', key).execute();
          const sent = Date.now();
          const pair = await Promise.all([wrongPassword(baseOf(5), email), wrongPassword(baseOf(6), email)]);
          const waits = pair.map((answer) => Number(answer.headers['retry-after'] ?? 'NaN'));
          statuses.push(...pair.map((answer) => String(answer.status)).sort());
          return { statuses, sent, wait: waits.find((w) => !Number.isNaN(w)) };
        };
        const oneInstance = await sequence(dan.email, () => A);
        const alternating = await sequence(erin.email, (n) => (n % 2 === 0 ? A : B));
        t.diagnostic(`wrong passwords on A only: ${oneInstance.statuses.join(' ')} (wait ${oneInstance.wait} s)`);
        t.diagnostic(
          `wrong passwords alternating A, B (10th and 11th at once): ${alternating.statuses.join(' ')} (wait ${alternating.wait} s)`,
        );
        assert.deepEqual(oneInstance.statuses, ['401', '401', '401', '401', '401', '401', '429']);
        assert.deepEqual(alternating.statuses, oneInstance.statuses);
        for (const { wait } of [oneInstance, alternating]) assert.ok(wait !== undefined && wait >= 1 && wait <= 16);

        // While it waits, even the right password is refused, on either instance: let in
        // only if the wait (16 seconds from the tenth attempt) was over.
        const early = await Promise.all(
          [A, B].map(async (base) => {
            const browser = new Browser(base);
            await browser.get('/login');
            return browser.post('/login', { email: erin.email, password: PASSWORD });
          }),
        );
        const elapsed = Date.now() - alternating.sent;
        for (const answer of early) {
          assert.ok(
            answer.status === 429 || (answer.status === 303 && elapsed >= 16_000),
            `the right password during the wait got ${answer.status} after ${elapsed} ms`,
          );
        }
      },
    );

    await t.test('wrong codes alternated between A and B count toward one delay and one lock', async (t) => {
      const waitOver = () => db.updateTable('users').set({ code_next_try_at: null }).where('id', '=', fay.id).execute();
      const failuresOf = async () =>
        (await db.selectFrom('users').select('code_failures').where('id', '=', fay.id).executeTakeFirstOrThrow())
          .code_failures;
      const steps: string[] = [];
      const wrong = async (browser: Browser, base: string, label: string) => {
        const answer = await browser.post(`${base}/login/code`, { code: wrongCodeFor(fay.secret) });
        steps.push(`${label}:${answer.status}`);
        return answer;
      };

      const first = new Browser(A);
      await passwordStep(first, A, fay.email);
      await first.get(`${A}/login/code`);
      // Two free wrong codes, one on each instance, counted once each.
      assert.equal((await wrong(first, A, 'A')).status, 400);
      assert.equal((await wrong(first, B, 'B')).status, 400);
      assert.equal(await failuresOf(), 2);
      // As if three more had come and their waits were over (skipped here by writing the
      // count): the sixth claims the next try and owes a 16-second wait, which the other
      // instance enforces. Of a sixth and a seventh sent at once to A and B, one is checked
      // and the other refused, however slowly this machine answers. (The third's wait, two
      // seconds, could pass between two answers on a loaded machine.)
      await db.updateTable('users').set({ code_failures: 5 }).where('id', '=', fay.id).execute();
      const pair = await Promise.all([wrong(first, A, 'A'), wrong(first, B, 'B')]);
      assert.deepEqual(pair.map((answer) => answer.status).sort(), [400, 429]);
      const early = pair.find((answer) => answer.status === 429);
      assert.match(textOf(early?.body ?? ''), /Too many wrong codes in a row\. Wait until/);
      assert.equal(await failuresOf(), 6, 'a refused try is not counted');

      // The growing waits (up to a minute) are skipped by clearing the next-try time in the
      // database: what is shared is the count, which goes on across instances.
      await waitOver();
      assert.equal((await wrong(first, B, 'B')).status, 400);
      await waitOver();
      const fifth = await wrong(first, A, 'A');
      assert.equal(fifth.status, 303, 'five wrong codes end the pending sign-in');
      assert.equal(fifth.location, '/login');
      assert.equal(await failuresOf(), 8);

      const second = new Browser(B);
      await passwordStep(second, B, fay.email);
      await second.get(`${B}/login/code`);
      await waitOver();
      assert.equal((await wrong(second, A, 'A')).status, 400);
      await waitOver();
      const tenth = await wrong(second, B, 'B');
      assert.equal(tenth.status, 429);
      assert.match(textOf(tenth.body), /your second factor is locked until/);
      assert.equal(await failuresOf(), 10);

      // Locked on both: even the right code is refused, on the other instance too.
      for (const base of [A, B]) {
        await waitOver();
        const right = await second.post(`${base}/login/code`, { code: codeAt(fay.secret, new Date()) });
        assert.equal(right.status, 429, `the right code on ${base} while locked: ${right.status}`);
        assert.match(textOf(right.body), /locked until/);
      }
      const stored = await db
        .selectFrom('users')
        .select(['code_locked_until'])
        .where('id', '=', fay.id)
        .executeTakeFirstOrThrow();
      assert.ok(stored.code_locked_until !== null && new Date(stored.code_locked_until).getTime() > Date.now());
      t.diagnostic(`wrong codes by instance and answer: ${steps.join(' ')}; locked after 10, on both instances`);
    });

    t.diagnostic(`two-instance run took ${((Date.now() - started) / 1000).toFixed(1)} s before clean-up`);
  },
);
