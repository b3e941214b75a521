// Recovery codes as a second factor, through the real app: a first device comes with a set,
// shown once; a code signs in once, copies sent at once give exactly one sign-in, wrong
// ones count in the same gate as codes, a reset removes them, and holding codes does not
// make a person enrolled.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { codeAt } from '../../src/domain/totp.js';
import { issueRecoveryCodes, recoveryCodesLeft } from '../../src/services/recovery-codes.js';
import { resetTwoFactor } from '../../src/services/administration.js';
import { tenantFor } from '../../src/store/tenant.js';
import { buildWorld, linkDevice, makeOrganisation, makeUser, PASSWORD, type TestWorld } from '../helpers/app.js';
import { Browser, recoveryCodesOn, textOf, type Page } from '../helpers/browser.js';
import { fromAddress, seedSession } from '../helpers/security.js';
import {
  atCodeStep,
  auditEntriesAbout,
  elementOn,
  flashOn,
  minutesFromNow,
  nextCode,
  requireOfUser,
  signedIn,
  startLinking,
} from './support.js';

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

/** The text of the file the page's Download link holds. */
function downloadOn(page: Page): string {
  const { href = '' } = elementOn(page, 'a', { download: 'twofold-recovery-codes.txt' });
  const base64 = /^data:text\/plain;charset=utf-8;base64,([A-Za-z0-9+/=]+)$/.exec(href)?.[1];
  assert.ok(base64 !== undefined, `the download is not a text file made in the page: ${href.slice(0, 40)}`);
  return Buffer.from(base64, 'base64').toString('utf8');
}

test('a first device linked at the setup screen comes with ten codes, shown once with Download and Print; continue goes on', async (t) => {
  const world = await buildWorld(t);
  const org = await makeOrganisation(world);
  const user = await makeUser(world, org);
  await requireOfUser(world, org, user.id);
  const browser = new Browser(world.app, fromAddress('203.0.113.20'));
  assert.equal((await browser.signIn(user.email, PASSWORD)).location, '/setup');
  const { url, secret } = await startLinking(browser, '/setup', 'Pixel 8');
  const confirmed = await browser.post(url, { code: codeAt(secret, world.clock.now()) });
  assert.equal(confirmed.status, 200, textOf(confirmed.body));
  assert.equal(confirmed.headers['cache-control'], 'no-store');
  const shown = recoveryCodesOn(confirmed);
  assert.ok(shown !== null, textOf(confirmed.body));
  assert.equal(new Set(shown.codes).size, 10);
  const text = textOf(confirmed.body);
  assert.match(text, /Your recovery codes Pixel 8 is linked and you are signed in\./);
  assert.match(text, /Each code works once/);
  assert.match(text, /You will not see them again/);
  assert.match(text, /To print them, use your browser's Print \(Ctrl\+P or ⌘P\): only the codes are printed/);
  const file = downloadOn(confirmed);
  for (const code of shown.codes) assert.ok(file.includes(`\n${code}\n`), `${code} is in the file`);
  assert.match(file, /Each code works once/);
  // The sign-in is complete: the page is a signed-in person's, with no sign-in to cancel.
  assert.doesNotMatch(text, /Cancel and sign out/);
  assert.ok(text.includes(user.email), 'the header names the person');
  // Only hashes are kept; the codes are in no address.
  assert.equal(await recoveryCodesLeft(tenantFor(world.db, org), user.id), 10);
  assert.equal(shown.continueTo, '/account');

  const account = await browser.get(shown.continueTo);
  assert.equal(account.status, 200);
  const twoFactor = await browser.get('/2fa');
  assert.match(textOf(twoFactor.body), /10 of 10 recovery codes are left\. Each works once\./);
  for (const page of [account, twoFactor, await browser.get('/2fa/recovery-codes')]) {
    for (const code of shown.codes) assert.ok(!page.body.includes(code), 'a code is shown once only');
  }

  // The codes given sign in at the code step, each once.
  await browser.post('/logout', {});
  const later = await atCodeStep(world, user.email, '203.0.113.21');
  assert.equal((await later.get('/login/code?with=recovery')).status, 200);
  const withCode = await later.post('/login/code', { code: shown.codes[0] ?? '', with: 'recovery' });
  assert.equal(withCode.location, '/account', textOf(withCode.body));
  assert.match(textOf((await later.get('/account')).body), /You signed in with a recovery code; 9 are left/);
});

test('the confirming form sent again (a reload) confirms nothing twice and hands out no second set', async (t) => {
  const world = await buildWorld(t);
  const org = await makeOrganisation(world);
  const tenant = tenantFor(world.db, org);

  // At the setup screen: the sign-in it completed closes the screen to the form sent again.
  const held = await makeUser(world, org);
  await requireOfUser(world, org, held.id);
  const atSetup = new Browser(world.app, fromAddress('203.0.113.22'));
  await atSetup.signIn(held.email, PASSWORD);
  const setup = await startLinking(atSetup, '/setup', 'Phone');
  const code = codeAt(setup.secret, world.clock.now());
  const first = recoveryCodesOn(await atSetup.post(setup.url, { code }));
  assert.ok(first !== null);
  const again = await atSetup.post(setup.url, { code });
  assert.equal(again.status, 303);
  assert.equal(again.location, '/account');
  assert.equal(await auditEntriesAbout(world, held.id, 'recovery_codes_generated'), 1);
  assert.equal((await tenant.devices.listForUser(held.id)).length, 1);

  // On the 2FA page: the device is linked already, and the form says so.
  const signedInPerson = await makeUser(world, org);
  const browser = await signedIn(world, signedInPerson.email);
  const onPage = await startLinking(browser, '/2fa', 'Phone');
  const pageCode = codeAt(onPage.secret, world.clock.now());
  const shown = recoveryCodesOn(await browser.post(onPage.url, { code: pageCode }));
  assert.equal(shown?.continueTo, '/2fa');
  const resent = await browser.post(onPage.url, { code: pageCode });
  assert.equal(resent.location, '/2fa');
  assert.equal(recoveryCodesOn(resent), null);
  assert.equal(
    flashOn(await browser.get('/2fa')),
    'That set-up is finished or no longer exists. Start again by naming the device.',
  );
  assert.equal(await auditEntriesAbout(world, signedInPerson.id, 'recovery_codes_generated'), 1);

  // The sets shown are the ones that work.
  for (const [person, codes] of [
    [held, first.codes],
    [signedInPerson, shown?.codes ?? []],
  ] as const) {
    const at = await atCodeStep(world, person.email, '203.0.113.23');
    assert.equal((await at.post('/login/code', { code: codes[9] ?? '', with: 'recovery' })).location, '/account');
  }
});

test('the 2FA page: a first device comes with codes (no reminder left above them); a second device, or linking again over codes still held, with none', async (t) => {
  const world = await buildWorld(t);
  const org = await makeOrganisation(world);
  const user = await makeUser(world, org);
  await requireOfUser(world, org, user.id, minutesFromNow(world, 3 * 24 * 60));
  const browser = await signedIn(world, user.email);
  assert.match(textOf((await browser.get('/account')).body), /Set up two-factor authentication before/);

  const phone = await startLinking(browser, '/2fa', 'Phone');
  const firstAnswer = await browser.post(phone.url, { code: nextCode(world, phone.secret) });
  const shown = recoveryCodesOn(firstAnswer);
  assert.equal(shown?.codes.length, 10, textOf(firstAnswer.body));
  assert.equal(shown?.continueTo, '/2fa');
  assert.match(textOf(firstAnswer.body), /Phone is linked\. You can sign in with a code from it\./);
  assert.doesNotMatch(textOf(firstAnswer.body), /Set up two-factor authentication before/, 'the deadline is met');

  const tablet = await startLinking(browser, '/2fa', 'Tablet');
  const secondAnswer = await browser.post(tablet.url, { code: nextCode(world, tablet.secret) });
  assert.equal(secondAnswer.location, '/2fa');
  assert.equal(flashOn(await browser.get('/2fa')), 'Tablet is linked. You can sign in with a code from it.');
  assert.equal(await auditEntriesAbout(world, user.id, 'recovery_codes_generated'), 1);

  // 2FA no longer required: both devices go, the codes stay; linking again keeps them.
  await tenantFor(world.db, org).users.setTwoFactorRequirement(user.id, false, null, world.clock.now());
  for (const device of await tenantFor(world.db, org).devices.listForUser(user.id)) {
    await browser.get(`/2fa/devices/${device.id}/remove`);
    assert.equal((await browser.post(`/2fa/devices/${device.id}/remove`, {})).location, '/2fa');
  }
  assert.equal(await recoveryCodesLeft(tenantFor(world.db, org), user.id), 10);
  const again = await startLinking(browser, '/2fa', 'New phone');
  const relinked = await browser.post(again.url, { code: nextCode(world, again.secret) });
  assert.equal(relinked.location, '/2fa', textOf(relinked.body));
  assert.equal(await auditEntriesAbout(world, user.id, 'recovery_codes_generated'), 1);
  const at = await atCodeStep(world, user.email, '203.0.113.24');
  assert.equal((await at.post('/login/code', { code: shown?.codes[0] ?? '', with: 'recovery' })).location, '/account');
});

test('two devices confirmed at the same moment as the first: both linked, one set', async (t) => {
  const world = await buildWorld(t);
  const org = await makeOrganisation(world);
  const user = await makeUser(world, org);
  const browser = await signedIn(world, user.email);
  const phone = await startLinking(browser, '/2fa', 'Phone');
  const tablet = await startLinking(browser, '/2fa', 'Tablet');
  const answers = await Promise.all(
    [phone, tablet].map(({ url, secret }) => browser.post(url, { code: codeAt(secret, world.clock.now()) })),
  );
  const withCodes = answers.filter((answer) => recoveryCodesOn(answer) !== null);
  assert.equal(withCodes.length, 1, answers.map((a) => `${a.status} ${a.location ?? ''}`).join(', '));
  assert.equal(answers.filter((answer) => answer.location === '/2fa').length, 1);
  assert.equal(await tenantFor(world.db, org).devices.countConfirmed(user.id), 2);
  assert.equal(await auditEntriesAbout(world, user.id, 'recovery_codes_generated'), 1);
  assert.equal(await recoveryCodesLeft(tenantFor(world.db, org), user.id), 10);
});
