// Sessions and the password step under attack: the three password throttles and their
// ceilings, throttles surviving a restart, what a half-finished login can reach, how
// sessions end, and the step-up before sensitive changes.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { codeAt } from '../../src/domain/totp.js';
import { keepHouse } from '../../src/services/housekeeping.js';
import { tenantFor } from '../../src/store/tenant.js';
import { buildWorld, linkDevice, makeOrganisation, makeUser, PASSWORD, type TestWorld } from '../helpers/app.js';
import { Browser, recoveryCodesOn, type Page, textOf } from '../helpers/browser.js';
import { fromAddress, seedSession, tempDirectory } from '../helpers/security.js';
import { problemOn, secretShownOn } from './support.js';

const WRONG = 'not the password at all';

async function passwordAttempt(world: TestWorld, email: string, password: string, ip: string): Promise<Page> {
  const browser = new Browser(world.app, fromAddress(ip));
  await browser.get('/login');
  return browser.post('/login', { email, password });
}

/**
 * Wrong passwords as fast as the throttle allows: each try goes at once, and a refusal
 * (429) is waited out to the second it names. Returns the wait owed after each of the
 * first `failures` failures; finding the last wait takes one more wrong password.
 */
async function waitsAfterFailures(
  world: TestWorld,
  failures: number,
  attempt: (n: number) => { email: string; ip: string },
): Promise<number[]> {
  const waits: number[] = [];
  let n = 1;
  while (waits.length <= failures) {
    const { email, ip } = attempt(n);
    const answer = await passwordAttempt(world, email, WRONG, ip);
    if (answer.status === 429) {
      const seconds = Number(answer.headers['retry-after']);
      waits[waits.length - 1] = seconds;
      world.clock.set(new Date(world.clock.now().getTime() + seconds * 1000));
      continue;
    }
    assert.equal(answer.status, 401, textOf(answer.body));
    waits.push(0);
    n += 1;
  }
  return waits.slice(0, failures);
}

test('wrong passwords for one account from one address: 5 are free, then each try waits, doubling', async (t) => {
  const world = await buildWorld(t);
  const org = await makeOrganisation(world);
  const user = await makeUser(world, org);
  const waits = await waitsAfterFailures(world, 10, () => ({ email: user.email, ip: '203.0.113.5' }));
  t.diagnostic(`throttle per account and address: waits after failures 1-10 (s): ${waits.join(', ')}`);
  assert.deepEqual(waits, [0, 0, 0, 0, 0, 1, 2, 4, 8, 16]);

  // While it waits, even the right password is refused, with the same answer.
  const early = await passwordAttempt(world, user.email, PASSWORD, '203.0.113.5');
  assert.equal(early.status, 429);
  assert.match(problemOn(early), /Too many failed sign-ins\. Wait \d+ seconds/);
  world.clock.set(new Date(world.clock.now().getTime() + Number(early.headers['retry-after']) * 1000));
  assert.equal((await passwordAttempt(world, user.email, PASSWORD, '203.0.113.5')).location, '/account');
});

test('wrong passwords from one address over many accounts: 20 are free, then each try waits', async (t) => {
  const world = await buildWorld(t);
  const waits = await waitsAfterFailures(world, 23, (n) => ({
    email: `sprayed-${n}@example.com`,
    ip: '203.0.113.6',
  }));
  t.diagnostic(`throttle per address (a new account each try): waits after failures 1-23 (s): ${waits.join(', ')}`);
  assert.deepEqual(waits, [...Array<number>(20).fill(0), 1, 2, 4]);
});

test('wrong passwords for one account from many addresses: the owner waits at most a minute', async (t) => {
  const world = await buildWorld(t);
  const org = await makeOrganisation(world);
  const user = await makeUser(world, org);
  // The free 50, from 50 addresses at once.
  const free = await Promise.all(
    Array.from({ length: 50 }, (_, i) => passwordAttempt(world, user.email, WRONG, `10.1.0.${i + 1}`)),
  );
  assert.deepEqual(new Set(free.map((a) => a.status)), new Set([401]));
  const waits = await waitsAfterFailures(world, 10, (n) => ({ email: user.email, ip: `10.2.0.${n}` }));
  t.diagnostic(`throttle per account (a new address each try): waits after failures 51-60 (s): ${waits.join(', ')}`);
  assert.deepEqual(waits, [1, 2, 4, 8, 16, 32, 60, 60, 60, 60]);

  // The owner, from their own address, in the middle of it.
  const owner = await passwordAttempt(world, user.email, PASSWORD, '192.0.2.1');
  assert.equal(owner.status, 429);
  const ownerWait = Number(owner.headers['retry-after']);
  world.clock.set(new Date(world.clock.now().getTime() + ownerWait * 1000));
  assert.equal((await passwordAttempt(world, user.email, PASSWORD, '192.0.2.1')).location, '/account');
  t.diagnostic(`the account's owner, from their own address, waited ${ownerWait} s (ceiling 60 s) and got in`);
  assert.ok(ownerWait <= 60);
});

test('wrong passwords sent at once are throttled like wrong passwords sent one by one', async (t) => {
  const world = await buildWorld(t);
  const org = await makeOrganisation(world);
  const user = await makeUser(world, org);
  const browsers: Browser[] = [];
  for (let i = 0; i < 50; i += 1) {
    const browser = new Browser(world.app, fromAddress('203.0.113.8'));
    await browser.get('/login');
    browsers.push(browser);
  }
  const answers = await Promise.all(browsers.map((b) => b.post('/login', { email: user.email, password: WRONG })));
  const verified = answers.filter((a) => a.status === 401).length;
  t.diagnostic(
    `password burst: ${verified} of ${answers.length} simultaneous wrong passwords (one account, one address) were verified; one by one, 6 are`,
  );
  assert.ok(verified <= 6, `${verified} verified`);
});

test('an office behind one address: 50 right passwords at once all sign in, 50 wrong ones are throttled as before', async (t) => {
  const world = await buildWorld(t);
  const org = await makeOrganisation(world);
  const people: { email: string }[] = [];
  for (let i = 0; i < 50; i += 1) people.push(await makeUser(world, org, { email: `person${i}@example.com` }));
  const office = '203.0.113.50';
  const browsersFor = async (n: number) => {
    const browsers: Browser[] = [];
    for (let i = 0; i < n; i += 1) {
      const browser = new Browser(world.app, fromAddress(office));
      await browser.get('/login');
      browsers.push(browser);
    }
    return browsers;
  };

  const right = await browsersFor(50);
  const signedIn = await Promise.all(
    right.map((b, i) => b.post('/login', { email: people[i]?.email ?? '', password: PASSWORD })),
  );
  const into = signedIn.filter((a) => a.status === 303 && a.location === '/account').length;
  t.diagnostic(`office: ${into} of 50 simultaneous right passwords from one address signed in`);
  assert.equal(into, 50, signedIn.map((a) => `${a.status} ${problemOn(a)}`).join('\n'));

  // The same address spraying 50 accounts with wrong passwords at once: no more are checked
  // than one by one (the address's 20 free failures and the one try that starts its wait).
  const wrong = await browsersFor(50);
  const refused = await Promise.all(
    wrong.map((b, i) => b.post('/login', { email: people[i]?.email ?? '', password: WRONG })),
  );
  const checked = refused.filter((a) => a.status === 401).length;
  t.diagnostic(
    `spraying: ${checked} of 50 simultaneous wrong passwords from one address were checked; one by one, 21 are`,
  );
  assert.ok(checked <= 21, `${checked} checked`);
  assert.equal(refused.filter((a) => a.status === 429).length, 50 - checked);
  // And the office's next right password waits like everyone's from that address.
  const after = await passwordAttempt(world, people[0]?.email ?? '', PASSWORD, office);
  assert.equal(after.status, 429);
});

test('the password throttle survives a restart on the same database', async (t) => {
  const path = join(tempDirectory(t), 'twofold.sqlite');
  const first = await buildWorld(t, { sqlitePath: path });
  const org = await makeOrganisation(first);
  const user = await makeUser(first, org);
  const waits = await waitsAfterFailures(first, 7, () => ({ email: user.email, ip: '203.0.113.7' }));
  await first.close();

  const second = await buildWorld(t, { sqlitePath: path, clock: first.clock });
  const refused = await passwordAttempt(second, user.email, PASSWORD, '203.0.113.7');
  t.diagnostic(
    `restart: after ${waits.length + 1} wrong passwords the new instance still refuses the right one for ${String(refused.headers['retry-after'])} s`,
  );
  assert.equal(refused.status, 429);
  assert.equal(Number(refused.headers['retry-after']), 4);
});

test('a pending login expires after 10 minutes', async (t) => {
  const world = await buildWorld(t);
  const org = await makeOrganisation(world);
  const user = await makeUser(world, org);
  await linkDevice(world, org, user.id);
  const browser = new Browser(world.app, fromAddress());
  await browser.get('/login');
  assert.equal((await browser.post('/login', { email: user.email, password: PASSWORD })).location, '/login/code');
  world.clock.set(new Date(world.clock.now().getTime() + 10 * 60_000 - 1000));
  assert.equal((await browser.get('/login/code')).status, 200);
  world.clock.set(new Date(world.clock.now().getTime() + 1000));
  const expired = await browser.get('/login/code');
  assert.equal(expired.location, '/login');
  const left = await world.db.selectFrom('sessions').select('id').where('user_id', '=', user.id).execute();
  assert.equal(left.length, 0);
  t.diagnostic('pending login: open at 9:59, gone at 10:00');
});

test("a pending login is bound to its user: another user's code does not complete it", async (t) => {
  const world = await buildWorld(t);
  const org = await makeOrganisation(world);
  const alice = await makeUser(world, org);
  const bob = await makeUser(world, org);
  await linkDevice(world, org, alice.id);
  const bobSecret = await linkDevice(world, org, bob.id);
  const browser = new Browser(world.app, fromAddress());
  await browser.get('/login');
  await browser.post('/login', { email: alice.email, password: PASSWORD });
  await browser.get('/login/code');
  const bobCode = codeAt(bobSecret, world.clock.now());
  const answer = await browser.post('/login/code', { code: bobCode });
  assert.equal(answer.status, 400);
  assert.match(problemOn(answer), /not right/);
  assert.equal((await browser.get('/account')).location, '/login/code');
  // Bob's code was not spent by the attempt: Bob signs in with it.
  const bobBrowser = new Browser(world.app, fromAddress());
  await bobBrowser.get('/login');
  await bobBrowser.post('/login', { email: bob.email, password: PASSWORD });
  await bobBrowser.get('/login/code');
  assert.equal((await bobBrowser.post('/login/code', { code: bobCode })).location, '/account');
});

test('a pending login reaches only its own step and sign-out', async (t) => {
  const world = await buildWorld(t);
  const org = await makeOrganisation(world);
  const user = await makeUser(world, org, { role: 'super_admin' });
  await linkDevice(world, org, user.id);
  const routes = world.app.twofold.routes.filter(
    (r) => r.method !== 'HEAD' && r.access !== 'public' && r.access !== 'protocol' && r.access !== 'asset',
  );
  const reached: Record<'code' | 'setup', string[]> = { code: [], setup: [] };
  let cells = 0;
  for (const stage of ['code', 'setup'] as const) {
    for (const route of routes) {
      const browser = new Browser(world.app, fromAddress());
      browser.cookies.set('twofold_session', await seedSession(world, org, user.id, stage));
      await browser.get(stage === 'code' ? '/login/code' : '/setup');
      const url = route.url.replace(/:[A-Za-z]+/g, user.id);
      const before = await world.db.selectFrom('devices').selectAll().where('user_id', '=', user.id).execute();
      const answer =
        route.method === 'POST' ? await browser.post(url, { name: 'x', code: '000000' }) : await browser.get(url);
      cells += 1;
      const home = stage === 'code' ? '/login/code' : '/setup';
      if (answer.status === 303 && answer.location === home && answer.setCookies.length === 0) {
        const after = await world.db.selectFrom('devices').selectAll().where('user_id', '=', user.id).execute();
        assert.deepEqual(after, before, `${route.method} ${route.url} changed devices`);
      } else {
        reached[stage].push(`${route.method} ${route.url}`);
      }
    }
  }
  t.diagnostic(
    `pending logins: ${cells} (route × stage) requests; reached: code → ${reached.code.join(', ')}; setup → ${reached.setup.join(', ')}`,
  );
  assert.deepEqual(reached.code.sort(), ['GET /login/code', 'POST /login/code', 'POST /logout']);
  assert.deepEqual(reached.setup.sort(), [
    'GET /setup',
    'GET /setup/devices/:id',
    'GET /setup/security-keys',
    'POST /logout',
    'POST /setup/devices',
    'POST /setup/devices/:id',
    'POST /setup/security-keys',
  ]);
});

test('a session ends after 30 minutes idle, and after 12 hours however active', async (t) => {
  const world = await buildWorld(t);
  const org = await makeOrganisation(world);
  const user = await makeUser(world, org);
  const signIn = async () => {
    const browser = new Browser(world.app, fromAddress());
    await browser.get('/login');
    assert.equal((await browser.post('/login', { email: user.email, password: PASSWORD })).location, '/account');
    return browser;
  };

  const idle = await signIn();
  world.clock.advanceMinutes(29);
  assert.equal((await idle.get('/account')).status, 200);
  world.clock.advanceMinutes(29);
  assert.equal((await idle.get('/account')).status, 200, 'activity keeps a session alive');
  world.clock.advanceMinutes(30);
  assert.equal((await idle.get('/account')).location, '/login');

  const busy = await signIn();
  for (let minutes = 20; minutes < 12 * 60; minutes += 20) {
    world.clock.advanceMinutes(20);
    assert.equal((await busy.get('/account')).status, 200, `at ${minutes} minutes`);
  }
  world.clock.advanceMinutes(19);
  assert.equal((await busy.get('/account')).status, 200, 'at 11:59');
  world.clock.advanceMinutes(1);
  assert.equal((await busy.get('/account')).location, '/login', 'at 12:00');
  t.diagnostic('sessions: alive after 29 idle minutes, ended after 30; alive at 11:59 of activity, ended at 12:00');
});

test('the sessions page lists where one is signed in, and ends one or all the others', async (t) => {
  const world = await buildWorld(t);
  const org = await makeOrganisation(world);
  const user = await makeUser(world, org);
  const browsers = ['Firefox/128.0 (X11; Linux x86_64)', 'Chrome/126.0 (Windows NT 10.0)', 'Safari/605 (iPhone)'].map(
    (agent, i) => new Browser(world.app, { ip: `192.0.2.${i + 10}`, userAgent: agent }),
  );
  for (const browser of browsers) {
    await browser.get('/login');
    assert.equal((await browser.post('/login', { email: user.email, password: PASSWORD })).location, '/account');
  }
  const [mine, second, third] = browsers;
  assert.ok(mine && second && third);
  const page = await mine.get('/account/sessions');
  const rows = [...page.body.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((m) => m[1] ?? '').filter((r) => r.includes('<td'));
  assert.equal(rows.length, 3);
  assert.match(textOf(page.body), /Firefox on Linux[\s\S]*This session/);
  const secondRow = rows.find((r) => r.includes('192.0.2.11'));
  const endSecond = /action="(\/account\/sessions\/[^"]+\/end)"/.exec(secondRow ?? '')?.[1];
  assert.ok(endSecond);
  await mine.post(endSecond, {});
  assert.equal((await second.get('/account')).location, '/login');
  assert.equal((await third.get('/account')).status, 200);
  await mine.get('/account/sessions');
  await mine.post('/account/sessions/end-others', {});
  assert.equal((await third.get('/account')).location, '/login');
  assert.equal((await mine.get('/account')).status, 200);
  t.diagnostic('sessions page: 3 sessions listed; ending one ended 1, ending the others ended 1 more, this one stayed');
});

test('the sessions page leaves out sessions that have ended, and housekeeping deletes them', async (t) => {
  const world = await buildWorld(t);
  const org = await makeOrganisation(world);
  const user = await makeUser(world, org);
  const signIn = async (address: string) => {
    const browser = new Browser(world.app, fromAddress(address));
    await browser.get('/login');
    assert.equal((await browser.post('/login', { email: user.email, password: PASSWORD })).location, '/account');
    return browser;
  };
  const forgotten = await signIn('192.0.2.20');
  world.clock.advanceMinutes(20);
  const mine = await signIn('192.0.2.21');
  world.clock.advanceMinutes(20);
  // 40 minutes after its last use the first session is over, though nobody presented it since.
  const page = await mine.get('/account/sessions');
  assert.equal(page.status, 200);
  assert.doesNotMatch(page.body, /192\.0\.2\.20/, 'an idle session is not listed as signed in');
  assert.match(page.body, /192\.0\.2\.21/);

  const deleted = await keepHouse(world.deps);
  assert.deepEqual(deleted, {
    sessions: 1,
    throttles: 0,
    applicationState: 0,
    challenges: 0,
    passwordRequests: 0,
    mail: 0,
  });
  const left = await world.db.selectFrom('sessions').select('ip').execute();
  assert.deepEqual(
    left.map((row) => row.ip),
    ['192.0.2.21'],
  );
  assert.equal((await forgotten.get('/account')).location, '/login');
  assert.equal((await mine.get('/account')).status, 200);
});

test("every session of a user ends on a password change, an admin's reset, device removal or deactivation, and a set-password link", async (t) => {
  const world = await buildWorld(t);
  const org = await makeOrganisation(world);
  const superAdmin = await makeUser(world, org, { role: 'super_admin' });
  const admin = new Browser(world.app, fromAddress('192.0.2.250'));
  admin.cookies.set('twofold_session', await seedSession(world, org, superAdmin.id, 'signed_in'));
  await admin.get('/account');
  const tenant = tenantFor(world.db, org);

  /** A user signed in in three browsers. */
  const userWithSessions = async () => {
    const user = await makeUser(world, org);
    await linkDevice(world, org, user.id);
    const browsers: Browser[] = [];
    for (const ip of ['198.51.100.1', '198.51.100.2', '198.51.100.3']) {
      const browser = new Browser(world.app, fromAddress(ip));
      browser.cookies.set('twofold_session', await seedSession(world, org, user.id, 'signed_in'));
      browsers.push(browser);
    }
    return { user, browsers };
  };
  const signedInCount = async (userId: string) =>
    (await world.db.selectFrom('sessions').select('id').where('user_id', '=', userId).execute()).length;
  const ended: string[] = [];

  {
    const { user, browsers } = await userWithSessions();
    const [own, ...others] = browsers;
    assert.ok(own);
    await own.get('/account/password');
    const changed = await own.post('/account/password', {
      current: PASSWORD,
      password: 'another long passphrase',
      confirmation: 'another long passphrase',
    });
    assert.equal(changed.location, '/account');
    for (const other of others) assert.equal((await other.get('/account')).location, '/login');
    assert.equal((await own.get('/account')).status, 200, 'the changer carries on in a new session');
    assert.equal(await signedInCount(user.id), 1);
    ended.push('password change: the 2 other sessions');
  }
  {
    const { user, browsers } = await userWithSessions();
    await admin.get(`/admin/users/${user.id}/reset-2fa`);
    await admin.post(`/admin/users/${user.id}/reset-2fa`, {});
    for (const browser of browsers) assert.equal((await browser.get('/account')).location, '/login');
    assert.equal(await signedInCount(user.id), 0);
    ended.push('reset 2FA: 3');
  }
  {
    const { user, browsers } = await userWithSessions();
    const [device] = await tenant.devices.listForUser(user.id);
    assert.ok(device);
    const confirmPage = await admin.get(`/admin/users/${user.id}/devices/${device.id}/remove`);
    assert.equal(confirmPage.status, 200);
    await admin.post(`/admin/users/${user.id}/devices/${device.id}/remove`, {});
    for (const browser of browsers) assert.equal((await browser.get('/account')).location, '/login');
    assert.equal(await signedInCount(user.id), 0);
    ended.push('admin removes a device: 3');
  }
  {
    const { user, browsers } = await userWithSessions();
    await admin.get(`/admin/users/${user.id}`);
    const saved = await admin.post(`/admin/users/${user.id}`, {
      name: 'Leaver',
      email: user.email,
      role: 'user',
      status: 'inactive',
    });
    assert.equal(saved.location, `/admin/users/${user.id}`);
    for (const browser of browsers) assert.equal((await browser.get('/account')).location, '/login');
    assert.equal(await signedInCount(user.id), 0);
    const refused = await passwordAttempt(world, user.email, PASSWORD, '198.51.100.9');
    assert.match(problemOn(refused), /deactivated/);
    ended.push('deactivation: 3');
  }
  {
    const { user, browsers } = await userWithSessions();
    const link = await admin.post(`/admin/users/${user.id}/password-link`, {});
    const path = /\/set-password\/[\w-]+/.exec(textOf(link.body))?.[0];
    assert.ok(path);
    const visitor = new Browser(world.app, fromAddress());
    await visitor.get(path);
    await visitor.post(path, { password: 'a fresh long passphrase', confirmation: 'a fresh long passphrase' });
    for (const browser of browsers) assert.equal((await browser.get('/account')).location, '/login');
    assert.equal(await signedInCount(user.id), 0);
    ended.push('set-password link: 3');
  }
  t.diagnostic(`sessions ended — ${ended.join('; ')}`);
});

test('more than 10 minutes after sign-in, device and password changes ask for the password and a code first', async (t) => {
  const world = await buildWorld(t);
  const org = await makeOrganisation(world);
  const user = await makeUser(world, org);
  const secret = await linkDevice(world, org, user.id);
  const [device] = await tenantFor(world.db, org).devices.listForUser(user.id);
  assert.ok(device);
  const browser = new Browser(world.app, fromAddress());
  browser.cookies.set('twofold_session', await seedSession(world, org, user.id, 'signed_in'));

  world.clock.advanceMinutes(9);
  assert.equal((await browser.get('/account/password')).status, 200, 'at 9 minutes');
  world.clock.advanceMinutes(1);
  const asked: Record<string, string | undefined> = {
    'GET /account/password': (await browser.get('/account/password')).location,
    'POST /account/password': (
      await browser.post('/account/password', {
        current: PASSWORD,
        password: 'x'.repeat(12),
        confirmation: 'x'.repeat(12),
      })
    ).location,
    'POST /2fa/devices': (await browser.post('/2fa/devices', { name: 'Tablet' })).location,
    'GET /2fa/devices/:id/remove': (await browser.get(`/2fa/devices/${device.id}/remove`)).location,
    'POST /2fa/devices/:id/remove': (await browser.post(`/2fa/devices/${device.id}/remove`, {})).location,
  };
  assert.deepEqual(asked, {
    'GET /account/password': '/confirm-identity?next=%2Faccount%2Fpassword',
    'POST /account/password': '/confirm-identity?next=%2Faccount%2Fpassword',
    'POST /2fa/devices': '/confirm-identity?next=%2F2fa',
    'GET /2fa/devices/:id/remove': `/confirm-identity?next=%2F2fa%2Fdevices%2F${device.id}%2Fremove`,
    'POST /2fa/devices/:id/remove': `/confirm-identity?next=%2F2fa%2Fdevices%2F${device.id}%2Fremove`,
  });
  assert.equal((await tenantFor(world.db, org).devices.listForUser(user.id)).length, 1, 'nothing was removed');

  const form = await browser.get(asked['GET /2fa/devices/:id/remove'] ?? '');
  assert.match(form.body, /name="password"/);
  assert.match(form.body, /name="code"/);
  const next = `/2fa/devices/${device.id}/remove`;
  const passwordOnly = await browser.post('/confirm-identity', { password: PASSWORD, next });
  assert.equal(passwordOnly.status, 400);
  const wrongPassword = await browser.post('/confirm-identity', {
    password: WRONG,
    code: codeAt(secret, world.clock.now()),
    next,
  });
  assert.equal(wrongPassword.status, 400);
  assert.equal((await browser.get(next)).location?.startsWith('/confirm-identity'), true);
  const confirmed = await browser.post('/confirm-identity', {
    password: PASSWORD,
    code: codeAt(secret, world.clock.now()),
    next,
  });
  assert.equal(confirmed.location, next);
  assert.equal((await browser.get(next)).status, 200);
  t.diagnostic(
    `step-up: at 9 minutes none; at 10 minutes ${Object.keys(asked).length} of ${Object.keys(asked).length} sensitive requests sent to confirm; password alone refused; password + code returns to the page`,
  );
});

test('a user who must set up now adds their first device through /setup only', async (t) => {
  const world = await buildWorld(t);
  const org = await makeOrganisation(world);
  const user = await makeUser(world, org);
  await tenantFor(world.db, org).users.setSetUpAtNextLogin(user.id, true, world.clock.now());
  const browser = new Browser(world.app, fromAddress());
  await browser.get('/login');
  assert.equal((await browser.post('/login', { email: user.email, password: PASSWORD })).location, '/setup');
  await browser.get('/setup');

  const refused = await browser.post('/2fa/devices', { name: 'Sneaky' });
  assert.equal(refused.location, '/setup');
  assert.equal((await tenantFor(world.db, org).devices.listForUser(user.id)).length, 0);

  const started = await browser.post('/setup/devices', { name: 'Phone' });
  assert.match(started.location ?? '', /^\/setup\/devices\//);
  const { bytes } = secretShownOn(await browser.get(started.location ?? ''));
  const done = await browser.post(started.location ?? '', { code: codeAt(bytes, world.clock.now()) });
  assert.equal(recoveryCodesOn(done)?.continueTo, '/account', textOf(done.body));
  assert.equal((await browser.get('/account')).status, 200);
  // The setup step is over: its routes are closed to the signed-in session.
  assert.equal((await browser.post('/setup/devices', { name: 'Second' })).location, '/account');
  const devices = await tenantFor(world.db, org).devices.listForUser(user.id);
  assert.deepEqual(
    devices.map((d) => [d.name, d.confirmedAt !== null]),
    [['Phone', true]],
  );
  t.diagnostic('must set up now: POST /2fa/devices refused (0 devices), /setup linked 1 and signed in');
});
