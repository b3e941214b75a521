// The account page, changing one's password, and what every response carries: the 404
// page, limits on what is posted, security headers and cookie flags.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { sealSecret } from '../../src/domain/secret-box.js';
import { codeAt, newTotpSecret } from '../../src/domain/totp.js';
import { buildWorld, linkDevice, makeOrganisation, makeUser, type TestWorld } from '../helpers/app.js';
import { Browser, textOf } from '../helpers/browser.js';
import {
  devicesOf,
  flashOn,
  getWithSession,
  problemOn,
  SESSION_COOKIE,
  sessionsOf,
  signedIn,
  tenantOf,
} from './support.js';

const NEW_PASSWORD = 'a fresh long passphrase';

async function userSignedIn(
  world: TestWorld,
  options: { role?: 'user' | 'admin' | 'super_admin'; withDevice?: boolean } = {},
) {
  const org = await makeOrganisation(world, 'Acme');
  const user = await makeUser(world, org, { name: 'Lena', email: 'lena@example.com', role: options.role ?? 'user' });
  const secret = options.withDevice ? await linkDevice(world, org, user.id) : undefined;
  const client = await signedIn(world, user.email, secret);
  return { org, user, secret, client };
}

function postRaw(world: TestWorld, url: string, body: string, cookie = '') {
  return world.app.inject({
    method: 'POST',
    url,
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
    body,
  });
}

test('the account page shows who is signed in, in which organisation and role', async (t) => {
  const world = await buildWorld(t);
  const { client } = await userSignedIn(world, { role: 'admin' });
  const page = await client.get('/account');
  assert.equal(page.status, 200);
  const text = textOf(page.body);
  assert.match(text, /Welcome, Lena/);
  assert.match(text, /Email lena@example\.com Organisation Acme Role Admin/);
  assert.match(page.body, /<a href="\/account\/password">Change your password<\/a>/);
  assert.match(page.body, /<a href="\/admin\/users"/);
  assert.doesNotMatch(page.body, /<a href="\/admin\/2fa"/);
});

test('the account pages need a signed-in session', async (t) => {
  const world = await buildWorld(t);
  const client = new Browser(world.app);
  for (const url of ['/account', '/account/password', '/2fa']) {
    const page = await client.get(url);
    assert.equal(page.status, 303, url);
    assert.equal(page.location, '/login', url);
  }
});

test('changing the password needs the current one, a long enough new one, typed twice the same', async (t) => {
  const world = await buildWorld(t);
  const { org, user, client } = await userSignedIn(world);
  const form = await client.get('/account/password');
  assert.equal(form.status, 200);
  assert.match(textOf(form.body), /Your two-factor authentication stays as it is\. Your other sessions end\./);
  const hashBefore = await tenantOf(world, org).users.passwordHashOf(user.id);

  const cases: [Record<'current' | 'password' | 'confirmation', string>, string][] = [
    [
      { current: 'not my password', password: NEW_PASSWORD, confirmation: NEW_PASSWORD },
      'Your current password is not right.',
    ],
    [
      { current: user.password, password: 'short one', confirmation: 'short one' },
      'The password must have at least 10 characters.',
    ],
    [
      { current: user.password, password: NEW_PASSWORD, confirmation: `${NEW_PASSWORD}!` },
      'The two passwords do not match.',
    ],
  ];
  for (const [input, message] of cases) {
    const page = await client.post('/account/password', input);
    assert.equal(page.status, 400, message);
    assert.equal(problemOn(page), message);
  }
  assert.equal(await tenantOf(world, org).users.passwordHashOf(user.id), hashBefore);
});

test('a changed password ends every session, carries on in a new one and leaves the devices alone', async (t) => {
  const world = await buildWorld(t);
  const { org, user, secret, client } = await userSignedIn(world, { withDevice: true });
  assert.ok(secret);
  const elsewhere = await signedIn(world, user.email, secret);
  const pending = new Browser(world.app);
  await pending.signIn(user.email, user.password);
  assert.equal((await sessionsOf(world, user.id)).length, 3);
  const devicesBefore = await devicesOf(world, org, user.id);
  const oldToken = client.cookie(SESSION_COOKIE);
  assert.ok(oldToken);

  await client.get('/account/password');
  const done = await client.post('/account/password', {
    current: user.password,
    password: NEW_PASSWORD,
    confirmation: NEW_PASSWORD,
  });
  assert.equal(done.status, 303);
  assert.equal(done.location, '/account');
  const newToken = client.cookie(SESSION_COOKIE);
  assert.ok(newToken);
  assert.notEqual(newToken, oldToken);
  const account = await client.get('/account');
  assert.equal(account.status, 200);
  assert.equal(flashOn(account), 'Your password is changed. You are signed out everywhere else.');

  // This browser's old session ended too: a copy of its cookie opens nothing.
  assert.equal((await getWithSession(world, '/account', oldToken)).headers.location, '/login');
  assert.equal((await elsewhere.get('/account')).location, '/login');
  assert.equal((await pending.get('/login/code')).location, '/login');
  assert.equal((await sessionsOf(world, user.id)).length, 1);
  assert.deepEqual(await devicesOf(world, org, user.id), devicesBefore);

  assert.equal((await new Browser(world.app).signIn(user.email, user.password)).status, 401);
  await signedIn(world, user.email, secret, NEW_PASSWORD);
});

test('an unknown address shows the 404 page', async (t) => {
  const world = await buildWorld(t);
  const { client } = await userSignedIn(world);
  const page = await client.get('/no/such/page');
  assert.equal(page.status, 404);
  assert.match(textOf(page.body), /Page not found/);
  assert.match(textOf(page.body), /There is no page at this address\./);
  const post = await client.post('/no/such/page', {});
  assert.equal(post.status, 404);
});

test('a body larger than 16 KiB is refused with 413', async (t) => {
  const world = await buildWorld(t);
  const org = await makeOrganisation(world);
  const user = await makeUser(world, org);
  const response = await postRaw(
    world,
    '/login',
    new URLSearchParams({ email: user.email, password: 'x'.repeat(17 * 1024) }).toString(),
  );
  assert.equal(response.statusCode, 413);
  assert.deepEqual(await sessionsOf(world, user.id), []);
});

test('a field sent twice is a 400, not a server error', async (t) => {
  const world = await buildWorld(t);
  const { org, user, client } = await userSignedIn(world);
  const cookie = `${SESSION_COOKIE}=${client.cookie(SESSION_COOKIE) ?? ''}`;
  const login = await postRaw(world, '/login', 'email=a%40example.com&email=b%40example.com&password=x');
  assert.equal(login.statusCode, 400);
  const device = await postRaw(world, '/2fa/devices', 'name=One&name=Two', cookie);
  assert.equal(device.statusCode, 400);
  assert.deepEqual(await devicesOf(world, org, user.id), []);
  const search = await client.get('/admin/users?q=a&q=b');
  assert.notEqual(search.status, 500);
});

test('refusals of what is posted are pages a person can read', async (t) => {
  const world = await buildWorld(t);
  const tooLarge = await postRaw(world, '/login', `email=${'x'.repeat(17 * 1024)}`);
  assert.equal(tooLarge.statusCode, 413);
  assert.match(String(tooLarge.headers['content-type']), /^text\/html/);
  assert.match(textOf(tooLarge.body), /What was sent is larger than any form here accepts\./);
  const twice = await postRaw(world, '/login', 'email=a&email=b&password=x');
  assert.equal(twice.statusCode, 400);
  assert.match(String(twice.headers['content-type']), /^text\/html/);
  assert.match(textOf(twice.body), /The form was not sent as expected\./);
});

test('a server error shows a plain page and never the error message', async (t) => {
  const world = await buildWorld(t);
  const org = await makeOrganisation(world);
  const user = await makeUser(world, org);
  // A device sealed under another key: the instance cannot open it at sign-in.
  const deviceId = randomUUID();
  const secret = newTotpSecret();
  const devices = tenantOf(world, org).devices;
  await devices.insertUnconfirmed({
    id: deviceId,
    userId: user.id,
    name: 'Phone',
    sealedSecret: sealSecret(Buffer.alloc(32, 9), secret, deviceId),
    now: world.clock.now(),
  });
  await devices.acceptTimeStep(user.id, deviceId, 1, world.clock.now(), 'enrolment');
  const client = new Browser(world.app);
  await client.signIn(user.email, user.password);
  await client.get('/login/code');
  const page = await client.post('/login/code', { code: codeAt(secret, world.clock.now()) });
  assert.equal(page.status, 500);
  assert.doesNotMatch(page.body, /TWOFOLD_SECRET_KEY/);
  assert.match(
    textOf(page.body),
    /Twofold cannot read authenticator secrets because its secret key is wrong\. Tell your administrator\./,
  );
});

test('pages carry a content security policy that runs no script and allows no framing, and are not cached', async (t) => {
  const world = await buildWorld(t);
  const { client } = await userSignedIn(world);
  for (const url of ['/account', '/login', '/no/such/page']) {
    const page = url === '/login' ? await new Browser(world.app).get(url) : await client.get(url);
    const csp = String(page.headers['content-security-policy']);
    assert.match(csp, /(^|;)\s*script-src 'none'/, url);
    assert.match(csp, /(^|;)\s*frame-ancestors 'none'/, url);
    assert.match(csp, /(^|;)\s*form-action 'self'/, url);
    assert.equal(page.headers['cache-control'], 'no-store', url);
    assert.equal(page.headers['x-content-type-options'], 'nosniff', url);
    assert.match(String(page.headers['content-type']), /^text\/html; charset=utf-8/, url);
  }
});

test('served over plain http, the content security policy does not send the browser to https', async (t) => {
  const world = await buildWorld(t);
  const page = await new Browser(world.app).get('/login');
  assert.doesNotMatch(String(page.headers['content-security-policy']), /upgrade-insecure-requests/);
});

test('the stylesheet and the health check are served to anyone', async (t) => {
  const world = await buildWorld(t);
  const client = new Browser(world.app);
  const css = await client.get('/static/app.css');
  assert.equal(css.status, 200);
  assert.match(String(css.headers['content-type']), /^text\/css/);
  assert.equal(css.headers['cache-control'], 'public, max-age=3600');
  assert.ok(css.body.length > 0);
  const health = await client.get('/healthz');
  assert.equal(health.status, 200);
  assert.deepEqual(JSON.parse(health.body), { status: 'ok' });
});

test('every cookie is HttpOnly and SameSite=Lax', async (t) => {
  const world = await buildWorld(t);
  const org = await makeOrganisation(world);
  const user = await makeUser(world, org);
  const seen = new Map<string, string>();
  const collect = (headers: Record<string, unknown>) => {
    for (const line of [headers['set-cookie'] ?? []].flat() as string[]) seen.set(line.split('=')[0] ?? '', line);
  };
  const client = new Browser(world.app);
  collect((await client.get('/login')).headers);
  collect((await client.post('/login', { email: user.email, password: user.password })).headers);
  collect((await client.get('/account')).headers);
  collect((await client.post('/logout', {})).headers);
  assert.deepEqual([...seen.keys()].sort(), ['twofold_csrf', 'twofold_flash', 'twofold_session']);
  for (const [name, line] of seen) {
    assert.match(line, /;\s*HttpOnly/i, name);
    assert.match(line, /;\s*SameSite=Lax/i, name);
    assert.match(line, /;\s*Path=\//i, name);
  }
});

test('a session left idle for more than thirty minutes ends', async (t) => {
  const world = await buildWorld(t);
  const { user, client } = await userSignedIn(world);
  const token = client.cookie(SESSION_COOKIE) ?? '';
  world.clock.advanceMinutes(29);
  assert.equal((await getWithSession(world, '/account', token)).statusCode, 200);
  world.clock.advanceMinutes(29);
  assert.equal((await getWithSession(world, '/account', token)).statusCode, 200);
  world.clock.advanceMinutes(31);
  const stale = await getWithSession(world, '/account', token);
  assert.equal(stale.statusCode, 303);
  assert.equal(stale.headers.location, '/login');
  assert.deepEqual(await sessionsOf(world, user.id), []);
});

test('a session ends twelve hours after sign-in however busy it is', async (t) => {
  const world = await buildWorld(t);
  const { client } = await userSignedIn(world);
  for (let minutes = 20; minutes < 12 * 60; minutes += 20) {
    world.clock.advanceMinutes(20);
    assert.equal((await client.get('/account')).status, 200, `after ${minutes} minutes`);
  }
  world.clock.advanceMinutes(20);
  assert.equal((await client.get('/account')).location, '/login');
});
