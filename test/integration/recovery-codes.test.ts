// Recovery codes as a second factor, through the real app: a code signs in once, copies
// sent at once give exactly one sign-in, wrong ones count in the same gate as codes, a
// reset removes them, and holding codes does not make a person enrolled.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { issueRecoveryCodes, recoveryCodesLeft } from '../../src/services/recovery-codes.js';
import { resetTwoFactor } from '../../src/services/administration.js';
import { tenantFor } from '../../src/store/tenant.js';
import { buildWorld, linkDevice, makeOrganisation, makeUser, PASSWORD, type TestWorld } from '../helpers/app.js';
import { Browser, textOf } from '../helpers/browser.js';
import { fromAddress, seedSession } from '../helpers/security.js';
import { atCodeStep } from './support.js';

const PARALLEL = 20;
const CLIENT = { ip: '127.0.0.1', userAgent: 'test' };

async function personWithCodes(world: TestWorld, withDevice = true) {
  const org = await makeOrganisation(world);
  const user = await makeUser(world, org);
  if (withDevice) await linkDevice(world, org, user.id);
  const tenant = tenantFor(world.db, org);
  const found = await tenant.users.findById(user.id);
  assert.ok(found);
  const codes = await issueRecoveryCodes(world.deps, tenant, found, CLIENT);
  return { org, user, found, tenant, codes };
}

test('a recovery code signs in once, typed in any case and with spaces; sent again it is "already used"', async (t) => {
  const world = await buildWorld(t);
  const { user, tenant, codes } = await personWithCodes(world);
  assert.equal(codes.length, 10);
  const code = codes[0] ?? '';
  const first = await atCodeStep(world, user.email);
  const signedIn = await first.post('/login/code', { code: code.toUpperCase().replace(/-/g, ' ') });
  assert.equal(signedIn.location, '/account', textOf(signedIn.body));
  assert.equal(await recoveryCodesLeft(tenant, user.id), 9);
  const second = await atCodeStep(world, user.email);
  const again = await second.post('/login/code', { code });
  assert.equal(again.status, 400);
  assert.match(textOf(again.body), /already been used/);
  assert.equal((await tenant.users.codeAttemptsOf(user.id)).failures, 0, 'a used code is no guess');
  const stored = await world.db.selectFrom('recovery_codes').selectAll().execute();
  for (const row of stored) {
    assert.ok(!codes.some((c) => row.hash.includes(c.replace(/-/g, ''))), 'a code is stored as it is');
  }
});

test(`one recovery code sent by ${PARALLEL} pending logins at once signs in exactly one`, async (t) => {
  const world = await buildWorld(t);
  const { user, tenant, codes } = await personWithCodes(world);
  const browsers = await Promise.all(
    Array.from({ length: PARALLEL }, (_, i) => atCodeStep(world, user.email, `198.51.100.${i + 1}`)),
  );
  const answers = await Promise.all(browsers.map((b) => b.post('/login/code', { code: codes[3] ?? '' })));
  const signedIn = answers.filter((a) => a.status === 303 && a.location === '/account');
  t.diagnostic(`recovery code replay: ${signedIn.length} of ${PARALLEL} simultaneous submissions succeeded`);
  assert.equal(signedIn.length, 1);
  assert.equal(await recoveryCodesLeft(tenant, user.id), 9);
  assert.equal((await tenant.users.codeAttemptsOf(user.id)).failures, 0);
});

test('a wrong recovery code counts in the same run of wrong attempts as a wrong code', async (t) => {
  const world = await buildWorld(t);
  const { user, tenant } = await personWithCodes(world);
  const browser = await atCodeStep(world, user.email);
  const wrong = await browser.post('/login/code', { code: 'aaaa-bbbb-cccc-dddd-eeee-ffff' });
  assert.equal(wrong.status, 400);
  assert.equal((await tenant.users.codeAttemptsOf(user.id)).failures, 1);
});

test('an admin reset removes the recovery codes with the devices', async (t) => {
  const world = await buildWorld(t);
  const { user, found, tenant } = await personWithCodes(world);
  await resetTwoFactor(world.deps, tenant, { actor: null, client: CLIENT }, found);
  assert.equal(await recoveryCodesLeft(tenant, user.id), 0);
});

test('recovery codes alone are not a second factor: without a device there is no code step', async (t) => {
  const world = await buildWorld(t);
  const { user } = await personWithCodes(world, false);
  const browser = new Browser(world.app, fromAddress('203.0.113.9'));
  await browser.get('/login');
  const answer = await browser.post('/login', { email: user.email, password: PASSWORD });
  assert.equal(answer.location, '/account');
});

test('a recovery code confirms identity (step-up) once; it never confirms a new device', async (t) => {
  const world = await buildWorld(t);
  const { org, user, tenant, codes } = await personWithCodes(world);
  const browser = new Browser(world.app, fromAddress('203.0.113.11'));
  browser.cookies.set(
    'twofold_session',
    await seedSession(world, org, user.id, 'signed_in', { verifiedMinutesAgo: 30 }),
  );
  await browser.get('/confirm-identity?next=/2fa');
  const confirmed = await browser.post('/confirm-identity', { password: PASSWORD, code: codes[5] ?? '', next: '/2fa' });
  assert.equal(confirmed.location, '/2fa', textOf(confirmed.body));
  assert.equal(await recoveryCodesLeft(tenant, user.id), 9);

  // Linking a device takes a code from that device, not a recovery code.
  const added = await browser.post('/2fa/devices', { name: 'Tablet' });
  assert.equal(added.status, 303, textOf(added.body));
  await browser.get(added.location ?? '');
  const refused = await browser.post(added.location ?? '', { code: codes[6] ?? '' });
  assert.equal(refused.status, 400);
  assert.equal(await recoveryCodesLeft(tenant, user.id), 9);
});

test('the 2FA page counts the codes left and warns at 3; a new set (after step-up) is shown once and voids the old', async (t) => {
  const world = await buildWorld(t);
  const { org, user, tenant, codes } = await personWithCodes(world);
  const browser = new Browser(world.app, fromAddress('203.0.113.12'));
  browser.cookies.set(
    'twofold_session',
    await seedSession(world, org, user.id, 'signed_in', { verifiedMinutesAgo: 0 }),
  );
  assert.match(textOf((await browser.get('/2fa')).body), /10 of 10 recovery codes are left/);
  for (const code of codes.slice(0, 7)) {
    const at = await atCodeStep(world, user.email, '203.0.113.13');
    assert.equal((await at.post('/login/code', { code, with: 'recovery' })).status, 303);
  }
  assert.match(textOf((await browser.get('/2fa')).body), /Only 3 recovery codes are left/);

  await browser.get('/2fa/recovery-codes');
  const fresh = await browser.post('/2fa/recovery-codes', {});
  assert.equal(fresh.status, 200, textOf(fresh.body));
  const shown = [...fresh.body.matchAll(/<li><code>([a-z2-7-]+)<\/code><\/li>/g)].map((m) => m[1] ?? '');
  assert.equal(shown.length, 10);
  assert.match(textOf(fresh.body), /You will not see them again/);
  assert.match(fresh.body, /download="twofold-recovery-codes\.txt"/);
  assert.equal(fresh.headers['cache-control'], 'no-store');
  assert.equal(await recoveryCodesLeft(tenant, user.id), 10);
  // The old set no longer works; the new one does, and says how many are left.
  const old = await atCodeStep(world, user.email, '203.0.113.14');
  assert.equal((await old.post('/login/code', { code: codes[8] ?? '', with: 'recovery' })).status, 400);
  const fine = await atCodeStep(world, user.email, '203.0.113.15');
  const signedIn = await fine.post('/login/code', { code: shown[0] ?? '', with: 'recovery' });
  assert.equal(signedIn.location, '/account');
  const account = await fine.get('/account');
  assert.match(textOf(account.body), /You signed in with a recovery code; 9 are left/);
  // The page again: no code is shown twice.
  assert.doesNotMatch((await browser.get('/2fa/recovery-codes')).body, new RegExp(shown[1] ?? 'none'));
});

test('"Use a recovery code instead" on the code step', async (t) => {
  const world = await buildWorld(t);
  const { user, codes } = await personWithCodes(world);
  const browser = await atCodeStep(world, user.email);
  const codePage = await browser.get('/login/code');
  assert.match(codePage.body, /href="\/login\/code\?with=recovery"/);
  const form = await browser.get('/login/code?with=recovery');
  assert.match(textOf(form.body), /Recovery code/);
  const wrong = await browser.post('/login/code', { code: 'not a code', with: 'recovery' });
  assert.equal(wrong.status, 400);
  assert.match(textOf(wrong.body), /Recovery code/, 'the recovery form again, with the problem');
  const right = await browser.post('/login/code', { code: codes[9] ?? '', with: 'recovery' });
  assert.equal(right.location, '/account');
});

test("the admin's user page shows how many recovery codes are left, and none after a reset", async (t) => {
  const world = await buildWorld(t);
  const { org, user, found, tenant } = await personWithCodes(world);
  const admin = await makeUser(world, org, { role: 'super_admin' });
  await linkDevice(world, org, admin.id);
  const browser = new Browser(world.app, fromAddress('203.0.113.16'));
  browser.cookies.set('twofold_session', await seedSession(world, org, admin.id, 'signed_in'));
  assert.match(textOf((await browser.get(`/admin/users/${user.id}`)).body), /Recovery codes left: 10 of 10/);
  await resetTwoFactor(world.deps, tenant, { actor: null, client: CLIENT }, found);
  assert.match(textOf((await browser.get(`/admin/users/${user.id}`)).body), /No recovery codes/);
});
