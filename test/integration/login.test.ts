// Signing in: the password step, the code step, the limits on codes, and signing out.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { codeAt } from '../../src/domain/totp.js';
import { buildWorld, linkDevice, makeOrganisation, makeUser, type TestWorld } from '../helpers/app.js';
import { Browser, textOf } from '../helpers/browser.js';
import {
  devicesOf,
  elementOn,
  flashOn,
  getWithSession,
  nextCode,
  organisationOf,
  problemOn,
  requireOfUser,
  SESSION_COOKIE,
  sessionsOf,
  signedIn,
  tenantOf,
  wrongCodesInARow,
} from './support.js';

/** An enrolled user, and a browser that has given the password and awaits the code. */
async function atCodeStep(world: TestWorld) {
  const org = await makeOrganisation(world);
  const user = await makeUser(world, org);
  const secret = await linkDevice(world, org, user.id);
  const client = new Browser(world.app);
  const page = await client.signIn(user.email, user.password);
  assert.equal(page.location, '/login/code');
  await client.get('/login/code');
  return { org, user, secret, client };
}

const NOT_RIGHT = 'The email address or password is not right.';

/**
 * Posts a wrong code, then lets a minute pass: from the third wrong code in a row the
 * user must wait before the next code is even checked, and a minute covers that wait.
 */
async function wrongCode(world: TestWorld, client: Browser) {
  const page = await client.post('/login/code', { code: '000000' });
  world.clock.advanceMinutes(1);
  return page;
}

test('the sign-in page asks for email and password', async (t) => {
  const world = await buildWorld(t);
  const page = await new Browser(world.app).get('/login');
  assert.equal(page.status, 200);
  assert.match(textOf(page.body), /Sign in/);
  assert.equal(elementOn(page, 'input', { name: 'email' }).type, 'email');
  assert.equal(elementOn(page, 'input', { name: 'password' }).type, 'password');
});

test('an unknown email and a wrong password get the same answer', async (t) => {
  const world = await buildWorld(t);
  const org = await makeOrganisation(world);
  const user = await makeUser(world, org);
  const client = new Browser(world.app);
  const wrongEmail = await client.signIn('nobody@example.com', user.password);
  const wrongPassword = await client.signIn(user.email, 'not the password at all');
  assert.equal(wrongEmail.status, 401);
  assert.equal(wrongPassword.status, 401);
  assert.equal(problemOn(wrongEmail), NOT_RIGHT);
  assert.equal(problemOn(wrongPassword), NOT_RIGHT);
  assert.equal(client.cookie(SESSION_COOKIE), undefined);
  assert.deepEqual(await sessionsOf(world, user.id), []);
});

test('a deactivated user is refused with a message that says so', async (t) => {
  const world = await buildWorld(t);
  const org = await makeOrganisation(world);
  const user = await makeUser(world, org);
  await tenantOf(world, org).users.updateProfile(
    user.id,
    { name: 'Gone', email: user.email, emailKey: user.email, role: 'user', status: 'inactive' },
    world.clock.now(),
  );
  const page = await new Browser(world.app).signIn(user.email, user.password);
  assert.equal(page.status, 401);
  assert.match(problemOn(page), /deactivated/);
  assert.deepEqual(await sessionsOf(world, user.id), []);
});

test('a user without 2FA is signed in by the password alone', async (t) => {
  const world = await buildWorld(t);
  const org = await makeOrganisation(world);
  const user = await makeUser(world, org, { name: 'Bea' });
  const client = new Browser(world.app);
  const page = await client.signIn(user.email, user.password);
  assert.equal(page.status, 303);
  assert.equal(page.location, '/account');
  const account = await client.get('/account');
  assert.equal(account.status, 200);
  assert.match(textOf(account.body), /Welcome, Bea/);
});

test('the email is recognised whatever its case and the spaces around it', async (t) => {
  const world = await buildWorld(t);
  const org = await makeOrganisation(world);
  const user = await makeUser(world, org, { email: 'ann.smith@example.com' });
  const page = await new Browser(world.app).signIn('  Ann.Smith@EXAMPLE.com ', user.password);
  assert.equal(page.location, '/account');
  // The password, though, is exact.
  assert.equal((await new Browser(world.app).signIn(user.email, user.password.toUpperCase())).status, 401);
});

test('an enrolled user is asked for a code, and until then reaches nothing else', async (t) => {
  const world = await buildWorld(t);
  const org = await makeOrganisation(world);
  const user = await makeUser(world, org, { role: 'super_admin' });
  await linkDevice(world, org, user.id);
  const client = new Browser(world.app);
  const page = await client.signIn(user.email, user.password);
  assert.equal(page.status, 303);
  assert.equal(page.location, '/login/code');
  const codePage = await client.get('/login/code');
  assert.equal(codePage.status, 200);
  assert.match(textOf(codePage.body), /Enter your code/);
  assert.deepEqual(
    (await sessionsOf(world, user.id)).map((s) => s.stage),
    ['code'],
  );

  for (const url of ['/account', '/2fa', '/admin/users', '/admin/2fa', '/setup', '/account/password']) {
    const denied = await client.get(url);
    assert.equal(denied.status, 303, url);
    assert.equal(denied.location, '/login/code', url);
  }
  const before = await devicesOf(world, org, user.id);
  const post = await client.post('/2fa/devices', { name: 'Sneaky' });
  assert.equal(post.status, 303);
  assert.equal(post.location, '/login/code');
  const setupPost = await client.post('/setup/devices', { name: 'Sneaky' });
  assert.equal(setupPost.location, '/login/code');
  const adminPost = await client.post('/admin/2fa/requirement', { start: 'now', understood: 'yes' });
  assert.equal(adminPost.location, '/login/code');
  assert.deepEqual(await devicesOf(world, org, user.id), before);
  assert.equal((await organisationOf(world, org)).policy.requireAllFrom, null);
});

test('the right code signs in under a new session id', async (t) => {
  const world = await buildWorld(t);
  const { org, user, secret, client } = await atCodeStep(world);
  const pendingToken = client.cookie(SESSION_COOKIE);
  assert.ok(pendingToken);
  const done = await client.post('/login/code', { code: codeAt(secret, world.clock.now()) });
  assert.equal(done.status, 303);
  assert.equal(done.location, '/account');
  const signedToken = client.cookie(SESSION_COOKIE);
  assert.ok(signedToken);
  assert.notEqual(signedToken, pendingToken);
  assert.equal((await client.get('/account')).status, 200);
  // The pending session is gone: its cookie opens nothing.
  const stale = await getWithSession(world, '/login/code', pendingToken);
  assert.equal(stale.headers.location, '/login');
  assert.deepEqual(
    (await sessionsOf(world, user.id)).map((s) => s.stage),
    ['signed_in'],
  );
  const [device] = await devicesOf(world, org, user.id);
  assert.deepEqual(device?.lastUsedAt, world.clock.now());
});

test('five wrong codes end the pending login: sign in again with the password', async (t) => {
  const world = await buildWorld(t);
  const { user, client } = await atCodeStep(world);
  for (let tries = 1; tries <= 4; tries++) {
    const page = await wrongCode(world, client);
    assert.equal(page.status, 400, problemOn(page));
    const left = 5 - tries;
    assert.match(problemOn(page), new RegExp(`not right.*You have ${left} ${left === 1 ? 'try' : 'tries'} left`));
  }
  const fifth = await wrongCode(world, client);
  assert.equal(fifth.status, 303);
  assert.equal(fifth.location, '/login');
  assert.equal(client.cookie(SESSION_COOKIE), undefined);
  assert.deepEqual(await sessionsOf(world, user.id), []);
  const login = await client.get('/login');
  assert.equal(login.status, 200);
  assert.match(flashOn(login) ?? '', /Too many wrong codes\. Sign in again with your password/);
  assert.equal((await client.get('/login/code')).location, '/login');
  assert.equal(await wrongCodesInARow(world, user.id), 5);
});

test("a person's run of wrong codes keeps counting across a restarted login, and a right code from any device ends it", async (t) => {
  const world = await buildWorld(t);
  const org = await makeOrganisation(world);
  const user = await makeUser(world, org);
  const phone = await linkDevice(world, org, user.id, 'Phone');
  await linkDevice(world, org, user.id, 'Tablet');
  const failed = () => wrongCodesInARow(world, user.id);

  const first = new Browser(world.app);
  await first.signIn(user.email, user.password);
  await first.get('/login/code');
  for (let i = 0; i < 5; i++) await wrongCode(world, first);
  assert.equal(await failed(), 5);

  const second = new Browser(world.app);
  await second.signIn(user.email, user.password);
  await second.get('/login/code');
  const page = await wrongCode(world, second);
  assert.equal(page.status, 400);
  // A new login has its own five tries; the person's run remembers all of them.
  assert.match(problemOn(page), /You have 4 tries left/);
  await wrongCode(world, second);
  assert.equal(await failed(), 7);

  // The phone's code ends the run: nothing is left counted on the tablet nobody attacked.
  const done = await second.post('/login/code', { code: nextCode(world, phone) });
  assert.equal(done.location, '/account');
  assert.equal(await failed(), 0);
  assert.equal(
    await world.db
      .selectFrom('devices')
      .select('id')
      .where('user_id', '=', user.id)
      .execute()
      .then((rows) => rows.length),
    2,
  );
});

test('a code accepted once is refused the second time, even from a new login', async (t) => {
  const world = await buildWorld(t);
  const { user, secret, client } = await atCodeStep(world);
  const code = codeAt(secret, world.clock.now());
  assert.equal((await client.post('/login/code', { code })).location, '/account');

  const again = new Browser(world.app);
  await again.signIn(user.email, user.password);
  await again.get('/login/code');
  const page = await again.post('/login/code', { code });
  assert.equal(page.status, 400);
  assert.match(problemOn(page), /That code has already been used/);
  assert.deepEqual((await sessionsOf(world, user.id)).map((s) => s.stage).sort(), ['code', 'signed_in']);
  // The next code the app shows works.
  assert.equal((await again.post('/login/code', { code: nextCode(world, secret) })).location, '/account');
});

test('a code from two steps ago is called expired', async (t) => {
  const world = await buildWorld(t);
  const { secret, client } = await atCodeStep(world);
  const old = codeAt(secret, new Date(world.clock.now().getTime() - 60_000));
  const page = await client.post('/login/code', { code: old });
  assert.equal(page.status, 400);
  assert.match(problemOn(page), /That code has expired/);
});

test('a code of the previous step is still accepted, for clock drift', async (t) => {
  const world = await buildWorld(t);
  const { secret, client } = await atCodeStep(world);
  const previous = codeAt(secret, new Date(world.clock.now().getTime() - 30_000));
  assert.equal((await client.post('/login/code', { code: previous })).location, '/account');
});

test('a code that is not six digits is explained and not counted as a try', async (t) => {
  const world = await buildWorld(t);
  const { user, secret, client } = await atCodeStep(world);
  for (const code of ['12345', 'abcdef', '١٢٣٤٥٦', '1234567', '']) {
    const page = await client.post('/login/code', { code });
    assert.equal(page.status, 400, JSON.stringify(code));
    assert.match(problemOn(page), /Enter the 6-digit code from your authenticator app \(digits only\)\./);
    assert.doesNotMatch(problemOn(page), /tries left/);
  }
  assert.deepEqual(
    (await sessionsOf(world, user.id)).map((s) => s.code_failures),
    [0],
  );
  assert.equal(await wrongCodesInARow(world, user.id), 0);
  // Spaces between the groups are fine.
  const code = codeAt(secret, world.clock.now());
  assert.equal(
    (await client.post('/login/code', { code: `${code.slice(0, 3)} ${code.slice(3)}` })).location,
    '/account',
  );
});

test('a pending login expires after ten minutes', async (t) => {
  const world = await buildWorld(t);
  const { org, user, secret, client } = await atCodeStep(world);
  world.clock.advanceMinutes(9);
  assert.equal((await client.get('/login/code')).status, 200);
  world.clock.advanceMinutes(2);
  const page = await client.get('/login/code');
  assert.equal(page.status, 303);
  assert.equal(page.location, '/login');
  const post = await client.post('/login/code', { code: codeAt(secret, world.clock.now()) });
  assert.equal(post.location, '/login');
  assert.deepEqual(await sessionsOf(world, user.id), []);
  // The code was not spent on the expired login.
  const [device] = await devicesOf(world, org, user.id);
  assert.notDeepEqual(device?.lastUsedAt, world.clock.now());
});

test('signing out ends the session: its cookie no longer opens anything', async (t) => {
  const world = await buildWorld(t);
  const org = await makeOrganisation(world);
  const user = await makeUser(world, org);
  const client = await signedIn(world, user.email);
  const token = client.cookie(SESSION_COOKIE);
  assert.ok(token);
  await client.get('/account');
  const out = await client.post('/logout', {});
  assert.equal(out.status, 303);
  assert.equal(out.location, '/login');
  assert.equal(client.cookie(SESSION_COOKIE), undefined);
  assert.match(flashOn(await client.get('/login')) ?? '', /You have signed out/);
  const stale = await getWithSession(world, '/account', token);
  assert.equal(stale.statusCode, 303);
  assert.equal(stale.headers.location, '/login');
  assert.deepEqual(await sessionsOf(world, user.id), []);
});

test('a pending login can be cancelled by signing out', async (t) => {
  const world = await buildWorld(t);
  const { user, client } = await atCodeStep(world);
  const out = await client.post('/logout', {});
  assert.equal(out.location, '/login');
  assert.deepEqual(await sessionsOf(world, user.id), []);
});

test('a form posted without its CSRF token is refused with 403 and does nothing', async (t) => {
  const world = await buildWorld(t);
  const org = await makeOrganisation(world);
  const user = await makeUser(world, org);
  const client = new Browser(world.app);
  await client.get('/login');
  const page = await client.post('/login', { email: user.email, password: user.password }, { csrf: null });
  assert.equal(page.status, 403);
  assert.equal(client.cookie(SESSION_COOKIE), undefined);
  assert.deepEqual(await sessionsOf(world, user.id), []);
  const forged = await client.post('/login', { email: user.email, password: user.password }, { csrf: 'forged' });
  assert.equal(forged.status, 403);
  assert.deepEqual(await sessionsOf(world, user.id), []);
});

test('a form posted without its CSRF token gets the "This form has expired" page', async (t) => {
  const world = await buildWorld(t);
  const client = new Browser(world.app);
  await client.get('/login');
  const page = await client.post('/login', { email: 'a@example.com', password: 'x' }, { csrf: null });
  assert.equal(page.status, 403);
  assert.match(String(page.headers['content-type']), /^text\/html/);
  assert.match(textOf(page.body), /This form has expired/);
});

test('the start page sends each visitor to where their login stands', async (t) => {
  const world = await buildWorld(t);
  const org = await makeOrganisation(world);
  const anonymous = await new Browser(world.app).get('/');
  assert.equal(anonymous.status, 303);
  assert.equal(anonymous.location, '/login');

  const { client: pending } = await atCodeStep(world);
  assert.equal((await pending.get('/')).location, '/login/code');

  const mustSetUp = await makeUser(world, org);
  await requireOfUser(world, org, mustSetUp.id);
  const setup = new Browser(world.app);
  assert.equal((await setup.signIn(mustSetUp.email, mustSetUp.password)).location, '/setup');
  assert.equal((await setup.get('/')).location, '/setup');

  const plain = await makeUser(world, org);
  const client = await signedIn(world, plain.email);
  assert.equal((await client.get('/')).location, '/account');
  // The sign-in page, too, sends a signed-in user home.
  assert.equal((await client.get('/login')).location, '/account');
});

test('signing in from a browser that holds another session replaces it', async (t) => {
  const world = await buildWorld(t);
  const org = await makeOrganisation(world);
  const ann = await makeUser(world, org);
  const bob = await makeUser(world, org, { name: 'Bob' });
  const client = await signedIn(world, ann.email);
  const page = await client.post('/login', { email: bob.email, password: bob.password });
  assert.equal(page.location, '/account');
  assert.deepEqual(await sessionsOf(world, ann.id), []);
  assert.match(textOf((await client.get('/account')).body), /Welcome, Bob/);
});
