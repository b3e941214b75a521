// The setup screen a login is held at, the refusal after a missed deadline, and the
// reminder shown while a deadline is still ahead.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { codeAt } from '../../src/domain/totp.js';
import { buildWorld, makeOrganisation, makeUser, PASSWORD, type TestWorld } from '../helpers/app.js';
import { Browser, recoveryCodesOn, textOf } from '../helpers/browser.js';
import {
  devicesOf,
  flashOn,
  minutesFromNow,
  problemOn,
  requireEveryoneFrom,
  requireOfUser,
  SESSION_COOKIE,
  sessionsOf,
  signedIn,
  startLinking,
  tenantOf,
  userIn,
} from './support.js';

const BLOCKED =
  'Your deadline for setting up two-factor authentication has passed, so you cannot sign in. Contact your administrator: they can give you a new deadline.';

/** Signs in with the password and expects to be held at the setup screen. */
async function heldAtSetup(world: TestWorld, email: string): Promise<{ client: Browser; lead: string }> {
  const client = new Browser(world.app);
  const page = await client.signIn(email, PASSWORD);
  assert.equal(page.status, 303, textOf(page.body));
  assert.equal(page.location, '/setup');
  const setup = await client.get('/setup');
  assert.equal(setup.status, 200);
  const lead = /<p class="lead">([\s\S]*?)<\/p>/.exec(setup.body)?.[1] ?? '';
  return { client, lead: textOf(lead) };
}

test('a user required to use 2FA without a deadline is held at the setup screen', async (t) => {
  const world = await buildWorld(t);
  const org = await makeOrganisation(world);
  const user = await makeUser(world, org);
  await requireOfUser(world, org, user.id);
  const { lead } = await heldAtSetup(world, user.email);
  assert.equal(
    lead,
    'Your organisation requires two-factor authentication for your account. Link an authenticator app to continue.',
  );
});

test('a user whose 2FA an administrator reset is held at the setup screen', async (t) => {
  const world = await buildWorld(t);
  const org = await makeOrganisation(world);
  const user = await makeUser(world, org);
  await tenantOf(world, org).users.setSetUpAtNextLogin(user.id, true, world.clock.now());
  const { lead } = await heldAtSetup(world, user.email);
  assert.match(lead, /Your administrator has reset your two-factor authentication/);
});

test('once the organisation-wide start has passed, a user who had the date sets up at sign-in', async (t) => {
  const world = await buildWorld(t);
  const org = await makeOrganisation(world);
  const user = await makeUser(world, org);
  await requireEveryoneFrom(world, org, minutesFromNow(world, 60), 'set_up_at_login');
  world.clock.advanceMinutes(61);
  const { lead } = await heldAtSetup(world, user.email);
  assert.match(lead, /Your deadline for setting up two-factor authentication has passed\. Link an authenticator app/);
});

test('a user created after the organisation-wide start sets up at sign-in even in block mode', async (t) => {
  const world = await buildWorld(t);
  const org = await makeOrganisation(world);
  await requireEveryoneFrom(world, org, minutesFromNow(world, 1), 'block');
  world.clock.advanceMinutes(5);
  const user = await makeUser(world, org);
  const { lead } = await heldAtSetup(world, user.email);
  assert.equal(lead, 'Your organisation requires two-factor authentication. Link an authenticator app to continue.');
});

test('from the setup screen nothing else is reachable', async (t) => {
  const world = await buildWorld(t);
  const org = await makeOrganisation(world);
  const user = await makeUser(world, org, { role: 'super_admin' });
  await requireOfUser(world, org, user.id);
  const { client } = await heldAtSetup(world, user.email);
  for (const url of [
    '/account',
    '/2fa',
    '/admin/users',
    '/admin/2fa',
    '/login/code',
    '/account/password',
    `/admin/users/${user.id}`,
  ]) {
    const page = await client.get(url);
    assert.equal(page.status, 303, url);
    assert.equal(page.location, '/setup', url);
  }
  for (const [url, form] of [
    ['/2fa/devices', { name: 'Sneaky' }],
    ['/login/code', { code: '123456' }],
    [
      '/account/password',
      { current: PASSWORD, password: 'a brand new password', confirmation: 'a brand new password' },
    ],
    [`/admin/users/${user.id}/2fa`, { deadline: '' }],
  ] as const) {
    const page = await client.post(url, form);
    assert.equal(page.location, '/setup', url);
  }
  assert.deepEqual(await devicesOf(world, org, user.id), []);
  assert.equal((await userIn(world, org, user.id)).twoFactor.requiredIndividually, true);
});

test('linking a device on the setup screen completes the sign-in under a new session id', async (t) => {
  const world = await buildWorld(t);
  const org = await makeOrganisation(world);
  const user = await makeUser(world, org);
  await tenantOf(world, org).users.setSetUpAtNextLogin(user.id, true, world.clock.now());
  const { client } = await heldAtSetup(world, user.email);
  const pendingToken = client.cookie(SESSION_COOKIE);

  const { url, secret } = await startLinking(client, '/setup', 'Pixel 8');
  const wrong = await client.post(url, { code: '000000' });
  assert.equal(wrong.status, 400);
  assert.match(problemOn(wrong), /That code is not right/);
  assert.equal(client.cookie(SESSION_COOKIE), pendingToken);

  // The answer is the first device's recovery codes, under what happened, and a link on.
  const done = await client.post(url, { code: codeAt(secret, world.clock.now()) });
  assert.equal(done.status, 200);
  assert.equal(recoveryCodesOn(done)?.continueTo, '/account');
  assert.equal(
    textOf(/<p class="lead">([\s\S]*?)<\/p>/.exec(done.body)?.[1] ?? ''),
    'Pixel 8 is linked and you are signed in. From now on you give a code from your authenticator app at every sign-in.',
  );
  assert.notEqual(client.cookie(SESSION_COOKIE), pendingToken);
  const account = await client.get('/account');
  assert.equal(account.status, 200);
  assert.deepEqual(
    (await sessionsOf(world, user.id)).map((s) => s.stage),
    ['signed_in'],
  );
  assert.equal((await userIn(world, org, user.id)).twoFactor.setUpAtNextLogin, false);
  assert.equal((await devicesOf(world, org, user.id)).filter((d) => d.confirmedAt !== null).length, 1);
  // From now on the sign-in asks for a code.
  await client.post('/logout', {});
  world.clock.advanceMinutes(1);
  await signedIn(world, user.email, secret);
});

test('the setup screen refuses a device without a name', async (t) => {
  const world = await buildWorld(t);
  const org = await makeOrganisation(world);
  const user = await makeUser(world, org);
  await requireOfUser(world, org, user.id);
  const { client } = await heldAtSetup(world, user.email);
  const page = await client.post('/setup/devices', { name: ' ' });
  assert.equal(page.status, 400);
  assert.match(problemOn(page), /Give the device a name/);
  assert.deepEqual(await devicesOf(world, org, user.id), []);
});

test('the setup screen, like any pending login, expires after ten minutes', async (t) => {
  const world = await buildWorld(t);
  const org = await makeOrganisation(world);
  const user = await makeUser(world, org);
  await requireOfUser(world, org, user.id);
  const { client } = await heldAtSetup(world, user.email);
  world.clock.advanceMinutes(11);
  const page = await client.get('/setup');
  assert.equal(page.location, '/login');
  const post = await client.post('/setup/devices', { name: 'Late' });
  assert.equal(post.location, '/login');
  assert.deepEqual(await devicesOf(world, org, user.id), []);
});

test('in block mode a user who let their date pass is refused at sign-in with the administrator message', async (t) => {
  const world = await buildWorld(t);
  const org = await makeOrganisation(world);
  const user = await makeUser(world, org);
  await requireEveryoneFrom(world, org, minutesFromNow(world, 60), 'block');
  world.clock.advanceMinutes(61);
  const client = new Browser(world.app);
  const page = await client.signIn(user.email, user.password);
  assert.equal(page.status, 401);
  assert.equal(problemOn(page), BLOCKED);
  assert.equal(client.cookie(SESSION_COOKIE), undefined);
  assert.deepEqual(await sessionsOf(world, user.id), []);

  // A new personal deadline from an administrator lets them in again, with the reminder.
  await requireOfUser(world, org, user.id, minutesFromNow(world, 3 * 24 * 60));
  const after = await signedIn(world, user.email);
  assert.match(textOf((await after.get('/account')).body), /\(3 days left\)/);
});

test('a signed-in user whose deadline passes is held at the setup screen on the next request (set-up mode)', async (t) => {
  const world = await buildWorld(t);
  const org = await makeOrganisation(world);
  const user = await makeUser(world, org);
  await requireOfUser(world, org, user.id, minutesFromNow(world, 10));
  const client = await signedIn(world, user.email);
  assert.equal((await client.get('/account')).status, 200);
  world.clock.advanceMinutes(11);
  const page = await client.get('/account');
  assert.equal(page.status, 303);
  assert.equal(page.location, '/setup');
  assert.equal((await client.get('/2fa')).location, '/setup');
  const setup = await client.get('/setup');
  assert.equal(setup.status, 200);
  assert.match(textOf(setup.body), /Your deadline for setting up two-factor authentication has passed/);
  const { url, secret } = await startLinking(client, '/setup', 'Phone');
  const done = await client.post(url, { code: codeAt(secret, world.clock.now()) });
  assert.equal(recoveryCodesOn(done)?.continueTo, '/account', textOf(done.body));
  assert.equal((await client.get('/account')).status, 200);
});

test('a signed-in user whose deadline passes is signed out on the next request (block mode)', async (t) => {
  const world = await buildWorld(t);
  const org = await makeOrganisation(world);
  const user = await makeUser(world, org);
  await tenantOf(world, org).organisation.setAfterDeadline('block');
  await requireOfUser(world, org, user.id, minutesFromNow(world, 10));
  const client = await signedIn(world, user.email);
  world.clock.advanceMinutes(11);
  const page = await client.get('/account');
  assert.equal(page.status, 303);
  assert.equal(page.location, '/login');
  assert.equal(client.cookie(SESSION_COOKIE), undefined);
  assert.deepEqual(await sessionsOf(world, user.id), []);
  const login = await client.get('/login');
  assert.equal(flashOn(login), BLOCKED);
});

test('a user with a deadline ahead sees a reminder with the date and the days left', async (t) => {
  const world = await buildWorld(t);
  const org = await makeOrganisation(world);
  const user = await makeUser(world, org);
  await requireOfUser(world, org, user.id, new Date('2026-12-01T09:00:00.000Z'));
  const client = await signedIn(world, user.email);
  const account = await client.get('/account');
  assert.equal(account.status, 200);
  assert.match(
    textOf(account.body),
    /Set up two-factor authentication before 1 Dec 2026, 09:00 \(UTC\) \(9 days left\)\. Set it up now/,
  );
  assert.match(account.body, /<a href="\/2fa">Set it up now<\/a>/);
  // Dates are shown in the organisation's time zone.
  await tenantOf(world, org).organisation.setTimeZone('Europe/Amsterdam');
  assert.match(
    textOf((await client.get('/account')).body),
    /before 1 Dec 2026, 10:00 \(Europe\/Amsterdam\) \(9 days left\)/,
  );
});

test('the reminder counts a part of a day as a day, and speaks of one day in the singular', async (t) => {
  const world = await buildWorld(t);
  const org = await makeOrganisation(world);
  const user = await makeUser(world, org);
  await requireEveryoneFrom(world, org, minutesFromNow(world, 20 * 60));
  const client = await signedIn(world, user.email);
  assert.match(
    textOf((await client.get('/account')).body),
    /Set up two-factor authentication before 23 Nov 2026, 08:00 \(UTC\) \(1 day left\)/,
  );
});

test('a user without any requirement sees no reminder', async (t) => {
  const world = await buildWorld(t);
  const org = await makeOrganisation(world);
  const user = await makeUser(world, org);
  const client = await signedIn(world, user.email);
  assert.doesNotMatch(textOf((await client.get('/account')).body), /Set up two-factor authentication before/);
});
