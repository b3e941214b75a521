// A recovery code across two real `twofold serve` processes on one PostgreSQL schema: the
// same code sent by many pending sign-ins at once, half to each instance, signs in exactly
// one; the others are told it was already used, and none counts as a wrong attempt.
// PostgreSQL-only (named postgres-*); skipped without TWOFOLD_TEST_POSTGRES_URL.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { issueRecoveryCodes, recoveryCodesLeft } from '../../src/services/recovery-codes.js';
import { tenantFor } from '../../src/store/tenant.js';
import { linkDevice, makeOrganisation, makeUser, PASSWORD } from '../helpers/app.js';
import { Browser, textOf, type Page } from '../helpers/browser.js';
import { postgresTestUrl } from '../helpers/databases.js';
import { severalInstances } from '../helpers/several-instances.js';

const SERVER = postgresTestUrl();
const skip = SERVER === null ? 'SKIPPED: recovery codes on two instances: TWOFOLD_TEST_POSTGRES_URL is not set' : false;
if (skip !== false) console.log(skip);

const PARALLEL = 20;

test(
  `one recovery code sent by ${PARALLEL} pending sign-ins at once, half to each of two instances, signs in exactly one`,
  { skip, timeout: 120_000 },
  async (t) => {
    assert.ok(SERVER !== null);
    let seeded: { org: string; email: string; id: string; codes: string[] } | null = null;
    const { db, urls } = await severalInstances(t, SERVER, {
      beforeStart: async (seed) => {
        const org = await makeOrganisation(seed);
        const person = await makeUser(seed, org);
        await linkDevice(seed, org, person.id);
        const tenant = tenantFor(seed.db, org);
        const user = await tenant.users.findById(person.id);
        assert.ok(user);
        const codes = await issueRecoveryCodes(seed.deps, tenant, user, { ip: '127.0.0.1', userAgent: 'test' });
        seeded = { org, email: person.email, id: person.id, codes };
      },
    });
    assert.ok(seeded !== null);
    const { org, email, id, codes } = seeded as { org: string; email: string; id: string; codes: string[] };
    const [A, B] = urls;
    assert.ok(A !== undefined && B !== undefined);

    // The passwords one after another (a burst of them at once is throttled, as it should be).
    const browsers: Browser[] = [];
    for (let i = 0; i < PARALLEL; i += 1) {
      const base: string = i % 2 === 0 ? A : B;
      const browser: Browser = new Browser(base);
      await browser.get('/login');
      const afterPassword: Page = await browser.post('/login', { email, password: PASSWORD });
      assert.equal(afterPassword.location, '/login/code', textOf(afterPassword.body));
      await browser.get('/login/code');
      browsers.push(browser);
    }
    const code = codes[2] ?? '';
    const answers = await Promise.all(browsers.map((browser) => browser.post('/login/code', { code })));
    const signedIn = answers.filter((answer) => answer.status === 303 && answer.location === '/account');
    t.diagnostic(
      `recovery code on two instances: ${signedIn.length} of ${PARALLEL} simultaneous submissions signed in`,
    );
    assert.equal(signedIn.length, 1);
    for (const answer of answers.filter((a) => !signedIn.includes(a))) {
      assert.equal(answer.status, 400);
      assert.match(textOf(answer.body), /already (been )?used/i);
    }
    const tenant = tenantFor(db, org);
    assert.equal(await recoveryCodesLeft(tenant, id), 9);
    assert.equal((await tenant.users.codeAttemptsOf(id)).failures, 0, 'a code already used is no guess');
  },
);
