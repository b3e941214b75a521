// Administrators' users pages: the list, creating and editing users, their 2FA
// requirement and reset, and one-time set-password links.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Role } from '../../src/domain/users.js';
import { buildWorld, linkDevice, makeOrganisation, makeUser, type TestWorld } from '../helpers/app.js';
import { Browser, textOf, type Page } from '../helpers/browser.js';
import {
  DAY_MINUTES,
  devicesOf,
  elementOn,
  elementsOn,
  flashOn,
  getWithSession,
  minutesFromNow,
  problemOn,
  requireEveryoneFrom,
  requireOfUser,
  rowClassWith,
  rowWith,
  SESSION_COOKIE,
  sessionsOf,
  signedIn,
  tenantOf,
  userIn,
  wrongCodeFor,
} from './support.js';

/** An organisation with a signed-in administrator of the given role. */
async function adminIn(world: TestWorld, role: Role = 'admin', options: { withDevice?: boolean } = {}) {
  const org = await makeOrganisation(world);
  const admin = await makeUser(world, org, {
    role,
    name: `The ${role}`,
    email: `boss-${role}-${org.slice(0, 8)}@example.com`,
  });
  const secret = options.withDevice ? await linkDevice(world, org, admin.id) : undefined;
  const client = await signedIn(world, admin.email, secret);
  return { org, admin, client };
}

function linkTokenOn(page: Page): string {
  const m = /http:\/\/127\.0\.0\.1:3000\/set-password\/([A-Za-z0-9_-]+)/.exec(page.body);
  assert.ok(m?.[1], `no set-password link on the page: ${textOf(page.body).slice(0, 300)}`);
  return m[1];
}

async function createThroughForm(client: Browser, form: { name: string; email: string; role: string }): Promise<Page> {
  await client.get('/admin/users/new');
  return client.post('/admin/users', form);
}

/** The profile form as the page shows it for `userId`, with some fields changed. */
async function saveProfile(
  client: Browser,
  userId: string,
  form: { name: string; email: string; role: string; status: string },
): Promise<Page> {
  await client.get(`/admin/users/${userId}`);
  return client.post(`/admin/users/${userId}`, form);
}

test('the users list is for administrators and super admins; a plain user gets 403', async (t) => {
  const world = await buildWorld(t);
  for (const role of ['admin', 'super_admin'] as const) {
    const { client } = await adminIn(world, role);
    const page = await client.get('/admin/users');
    assert.equal(page.status, 200, role);
    assert.match(textOf(page.body), /Users and their two-factor authentication/);
  }
  const { org } = await adminIn(world);
  const plain = await makeUser(world, org);
  const client = await signedIn(world, plain.email);
  for (const url of ['/admin/users', '/admin/users/new', `/admin/users/${plain.id}`]) {
    const page = await client.get(url);
    assert.equal(page.status, 403, url);
    assert.match(textOf(page.body), /Only administrators can open this page\./);
  }
  const created = await client.post('/admin/users', { name: 'Sneaky', email: 'sneaky@example.com', role: 'admin' });
  assert.equal(created.status, 403);
  const edited = await client.post(`/admin/users/${plain.id}`, {
    name: plain.email,
    email: plain.email,
    role: 'super_admin',
    status: 'active',
  });
  assert.equal(edited.status, 403);
  assert.equal((await userIn(world, org, plain.id)).role, 'user');
  assert.equal((await tenantOf(world, org).users.list('sneaky', 1)).total, 0);
});

test('the list says each fact once: role, account, and where each user stands with 2FA', async (t) => {
  const world = await buildWorld(t);
  const { org, client } = await adminIn(world);
  const enrolled = await makeUser(world, org, { email: 'enrolled@example.com', name: 'Enrolled' });
  await linkDevice(world, org, enrolled.id, 'One');
  await linkDevice(world, org, enrolled.id, 'Two');
  const bound = await makeUser(world, org, { email: 'bound@example.com', name: 'Bound' });
  await linkDevice(world, org, bound.id, 'Only');
  await requireOfUser(world, org, bound.id);
  const grace = await makeUser(world, org, { email: 'grace@example.com', name: 'Grace' });
  await requireOfUser(world, org, grace.id, new Date('2026-12-01T09:00:00.000Z'));
  const now = await makeUser(world, org, { email: 'now@example.com', name: 'Now' });
  await requireOfUser(world, org, now.id);
  const late = await makeUser(world, org, { email: 'late@example.com', name: 'Late' });
  await requireOfUser(world, org, late.id, minutesFromNow(world, 5));
  await makeUser(world, org, { email: 'free@example.com', name: 'Free' });
  world.clock.advanceMinutes(6);

  const page = await client.get('/admin/users');
  assert.equal(page.status, 200);
  const headers = [...page.body.matchAll(/<th scope="col">([^<]*)<\/th>/g)].map((m) => m[1]);
  assert.deepEqual(headers, ['User', 'Role', 'Account', 'Two-factor authentication']);
  assert.deepEqual(rowWith(page, 'enrolled@example.com'), [
    'Enrolled enrolled@example.com',
    'User',
    'Active',
    'On (2 devices)',
  ]);
  assert.deepEqual(rowWith(page, 'bound@example.com')?.slice(1), ['User', 'Active', 'On, as required (1 device)']);
  assert.deepEqual(rowWith(page, 'grace@example.com')?.slice(1), ['User', 'Active', 'Due by 1 Dec 2026, 09:00 (UTC)']);
  assert.deepEqual(rowWith(page, 'late@example.com')?.slice(1), ['User', 'Active', 'Overdue: sets up at next sign-in']);
  assert.deepEqual(rowWith(page, 'free@example.com')?.slice(1), ['User', 'Active', 'Off']);
  assert.deepEqual(rowWith(page, 'now@example.com')?.slice(1), [
    'User',
    'Active',
    'Required now: sets up at next sign-in',
  ]);
  assert.equal(rowClassWith(page, 'late@example.com'), 'overdue');
  assert.equal(rowClassWith(page, 'grace@example.com'), '');

  await tenantOf(world, org).organisation.setAfterDeadline('block');
  const blocked = await client.get('/admin/users');
  assert.equal(rowWith(blocked, 'late@example.com')?.[3], 'Overdue: cannot sign in until given a new deadline');
});

test('a user reset after their deadline passed is listed as setting up at the next sign-in, with no past date', async (t) => {
  const world = await buildWorld(t);
  const { org, client } = await adminIn(world, 'super_admin');
  const user = await makeUser(world, org, { name: 'Rae', email: 'rae@example.com' });
  await requireOfUser(world, org, user.id, minutesFromNow(world, 5));
  await linkDevice(world, org, user.id);
  // The deadline passes; then a super admin resets their 2FA (a lost phone).
  world.clock.advanceMinutes(10);
  await client.get(`/admin/users/${user.id}/reset-2fa`);
  const reset = await client.post(`/admin/users/${user.id}/reset-2fa`, {});
  assert.equal(reset.status, 303, problemOn(reset));
  const page = await client.get('/admin/users');
  assert.deepEqual(rowWith(page, 'rae@example.com')?.slice(1), [
    'User',
    'Active',
    'Reset or reactivated: sets up at next sign-in',
  ]);
  assert.doesNotMatch((rowWith(page, 'rae@example.com') ?? []).join(' '), /2026/);
});

test('a reactivated user keeps their second factor and is listed as before', async (t) => {
  const world = await buildWorld(t);
  const { org, client } = await adminIn(world);
  const user = await makeUser(world, org, { name: 'Rae', email: 'rae@example.com' });
  await requireOfUser(world, org, user.id, minutesFromNow(world, 5));
  await linkDevice(world, org, user.id);
  await saveProfile(client, user.id, { name: 'Rae', email: user.email, role: 'user', status: 'inactive' });
  world.clock.advanceMinutes(10);
  await saveProfile(client, user.id, { name: 'Rae', email: user.email, role: 'user', status: 'active' });
  const page = await client.get('/admin/users');
  assert.deepEqual(rowWith(page, 'rae@example.com')?.slice(1), ['User', 'Active', 'On, as required (1 device)']);
});

test('users who never had a date are not listed as overdue', async (t) => {
  const world = await buildWorld(t);
  const { org, client } = await adminIn(world, 'admin', { withDevice: true });
  await requireEveryoneFrom(world, org, minutesFromNow(world, 1));
  world.clock.advanceMinutes(2);
  await makeUser(world, org, { email: 'newcomer@example.com' });
  const requiredNow = await makeUser(world, org, { email: 'required-now@example.com' });
  await requireOfUser(world, org, requiredNow.id);
  const page = await client.get('/admin/users');
  assert.equal(rowWith(page, 'newcomer@example.com')?.[3], 'Required: sets up at next sign-in');
  assert.equal(rowWith(page, 'required-now@example.com')?.[3], 'Required now: sets up at next sign-in');
});

test('the list can be searched by name or email', async (t) => {
  const world = await buildWorld(t);
  const { org, client } = await adminIn(world);
  await makeUser(world, org, { name: 'Zelda Quist', email: 'zq@example.com' });
  await makeUser(world, org, { name: 'Other Person', email: 'zelda.fan@elsewhere.org' });
  await makeUser(world, org, { name: 'Nobody', email: 'nobody@example.com' });

  const byName = await client.get('/admin/users?q=QUIST');
  assert.match(textOf(byName.body), /1 user matching “QUIST”\./);
  assert.ok(rowWith(byName, 'zq@example.com'));
  assert.equal(rowWith(byName, 'nobody@example.com'), null);

  const byEmail = await client.get('/admin/users?q=elsewhere.org');
  assert.match(textOf(byEmail.body), /1 user matching/);
  assert.ok(rowWith(byEmail, 'zelda.fan@elsewhere.org'));

  const both = await client.get('/admin/users?q=zelda');
  assert.match(textOf(both.body), /2 users matching “zelda”\./);

  // Wildcards are taken literally.
  const percent = await client.get('/admin/users?q=%25');
  assert.match(textOf(percent.body), /0 users matching “%”\./);
  const underscore = await client.get('/admin/users?q=_');
  assert.match(textOf(underscore.body), /0 users matching/);
});

test('the list is paged by 25', async (t) => {
  const world = await buildWorld(t);
  const { org, client } = await adminIn(world);
  for (let i = 1; i <= 30; i++) await makeUser(world, org, { email: `user-${String(i).padStart(2, '0')}@example.com` });
  const emails = (page: Page) => [...page.body.matchAll(/<span class="muted">([^<]+)<\/span>/g)].map((m) => m[1]);

  const first = await client.get('/admin/users');
  assert.match(textOf(first.body), /31 users\./);
  assert.match(textOf(first.body), /Page 1 of 2/);
  assert.equal(emails(first).length, 25);
  assert.match(first.body, /href="\/admin\/users\?q=&amp;page=2" rel="next"/);
  assert.doesNotMatch(first.body, /rel="prev"/);

  const second = await client.get('/admin/users?page=2');
  assert.match(textOf(second.body), /Page 2 of 2/);
  assert.deepEqual(emails(second), [
    'user-25@example.com',
    'user-26@example.com',
    'user-27@example.com',
    'user-28@example.com',
    'user-29@example.com',
    'user-30@example.com',
  ]);
  assert.match(second.body, /rel="prev"/);
  assert.doesNotMatch(second.body, /rel="next"/);

  const nonsense = await client.get('/admin/users?page=abc');
  assert.equal(nonsense.status, 200);
  assert.match(textOf(nonsense.body), /Page 1 of 2/);
  const searchedPage = await client.get('/admin/users?q=user-&page=2');
  assert.equal(emails(searchedPage).length, 5);
});

test('users of another organisation never appear in the list', async (t) => {
  const world = await buildWorld(t);
  const { client } = await adminIn(world, 'super_admin');
  const otherOrg = await makeOrganisation(world);
  await makeUser(world, otherOrg, { name: 'Outsider', email: 'outsider@example.com' });
  const all = await client.get('/admin/users');
  assert.equal(rowWith(all, 'outsider@example.com'), null);
  assert.match(textOf(all.body), /1 user\./);
  const searched = await client.get('/admin/users?q=outsider');
  assert.match(textOf(searched.body), /0 users matching/);
});

test('creating a user checks the name, the email and the role', async (t) => {
  const world = await buildWorld(t);
  const { org, client } = await adminIn(world);
  await makeUser(world, org, { email: 'ann@example.com' });
  const otherOrg = await makeOrganisation(world);
  await makeUser(world, otherOrg, { email: 'elsewhere@example.com' });

  const form = await client.get('/admin/users/new');
  assert.equal(form.status, 200);
  assert.doesNotMatch(form.body, /<option value="super_admin"/);

  const cases: [Record<'name' | 'email' | 'role', string>, RegExp][] = [
    [{ name: 'X', email: 'not-an-email', role: 'user' }, /Enter an email address like name@example\.com\./],
    [{ name: 'X', email: '', role: 'user' }, /Enter an email address\./],
    [
      { name: 'Ann Again', email: 'ANN@Example.com', role: 'user' },
      /Another account already uses this email address\./,
    ],
    [
      { name: 'Far', email: 'Elsewhere@example.com ', role: 'user' },
      /Another account already uses this email address\./,
    ],
    [{ name: '  ', email: 'new@example.com', role: 'user' }, /Enter a name\./],
    [
      { name: 'Boss', email: 'boss@example.com', role: 'super_admin' },
      /Only a super admin can make someone a super admin\./,
    ],
    [{ name: 'Odd', email: 'odd@example.com', role: 'king' }, /Choose a role\./],
  ];
  for (const [input, message] of cases) {
    const page = await client.post('/admin/users', input);
    assert.equal(page.status, 400, JSON.stringify(input));
    assert.match(problemOn(page), message, JSON.stringify(input));
  }
  const { total } = await tenantOf(world, org).users.list('', 1);
  assert.equal(total, 2);
});

test('a new user gets a one-time set-password link valid for seven days', async (t) => {
  const world = await buildWorld(t);
  const { org, client } = await adminIn(world);
  const page = await createThroughForm(client, { name: ' Cleo ', email: ' Cleo@Example.com ', role: 'admin' });
  assert.equal(page.status, 201, textOf(page.body));
  assert.match(textOf(page.body), /Cleo is added/);
  assert.match(textOf(page.body), /It works once, until 29 Nov 2026, 12:00 \(UTC\)\./);
  const token = linkTokenOn(page);

  const { rows } = await tenantOf(world, org).users.list('cleo', 1);
  assert.equal(rows.length, 1);
  const cleo = rows[0]?.user;
  assert.equal(cleo?.name, 'Cleo');
  assert.equal(cleo?.email, 'Cleo@Example.com');
  assert.equal(cleo?.role, 'admin');
  assert.equal(cleo?.hasPassword, false);
  // Without a password there is no way in yet.
  assert.equal((await new Browser(world.app).signIn('cleo@example.com', '')).status, 401);

  const visitor = new Browser(world.app);
  const form = await visitor.get(`/set-password/${token}`);
  assert.equal(form.status, 200);
  assert.match(textOf(form.body), /Choose the password for Cleo@Example\.com/);
  const short = await visitor.post(`/set-password/${token}`, { password: 'short', confirmation: 'short' });
  assert.equal(short.status, 400);
  assert.match(problemOn(short), /at least 10 characters/);
  const mismatch = await visitor.post(`/set-password/${token}`, {
    password: 'a long enough one',
    confirmation: 'another long one',
  });
  assert.equal(mismatch.status, 400);
  assert.match(problemOn(mismatch), /The two passwords do not match\./);

  const set = await visitor.post(`/set-password/${token}`, {
    password: 'cleo chooses this',
    confirmation: 'cleo chooses this',
  });
  assert.equal(set.status, 303);
  assert.equal(set.location, '/login');
  assert.equal(flashOn(await visitor.get('/login')), 'Your password is set. Sign in with it now.');
  await signedIn(world, 'cleo@example.com', undefined, 'cleo chooses this');

  const again = await visitor.get(`/set-password/${token}`);
  assert.equal(again.status, 410);
  assert.match(problemOn(again), /This set-password link has already been used\./);
  const reuse = await visitor.post(`/set-password/${token}`, {
    password: 'someone else now',
    confirmation: 'someone else now',
  });
  assert.equal(reuse.status, 410);
  assert.match(problemOn(reuse), /already been used/);
  await signedIn(world, 'cleo@example.com', undefined, 'cleo chooses this');
});

test('a set-password link expires after seven days', async (t) => {
  const world = await buildWorld(t);
  const { client } = await adminIn(world);
  const token = linkTokenOn(await createThroughForm(client, { name: 'Dan', email: 'dan@example.com', role: 'user' }));
  const visitor = new Browser(world.app);
  world.clock.advanceMinutes(7 * DAY_MINUTES - 1);
  assert.equal((await visitor.get(`/set-password/${token}`)).status, 200);
  world.clock.advanceMinutes(1);
  const expired = await visitor.get(`/set-password/${token}`);
  assert.equal(expired.status, 410);
  assert.match(problemOn(expired), /This set-password link has expired\./);
  const post = await visitor.post(`/set-password/${token}`, {
    password: 'too late for this',
    confirmation: 'too late for this',
  });
  assert.equal(post.status, 410);
  assert.equal((await new Browser(world.app).signIn('dan@example.com', 'too late for this')).status, 401);
});

test('an unknown set-password link says it is not valid', async (t) => {
  const world = await buildWorld(t);
  const page = await new Browser(world.app).get('/set-password/not-a-real-token');
  assert.equal(page.status, 410);
  assert.match(problemOn(page), /This set-password link is not valid\./);
  assert.match(page.body, /<a href="\/forgot-password">Forgot your password\?<\/a>/, 'a way to a new link');
});

test('a set-password link from an administrator changes the password and never the devices', async (t) => {
  const world = await buildWorld(t);
  const { org, client } = await adminIn(world);
  const user = await makeUser(world, org, { name: 'Eve' });
  const secret = await linkDevice(world, org, user.id);
  const eve = await signedIn(world, user.email, secret);
  const devicesBefore = await devicesOf(world, org, user.id);

  await client.get(`/admin/users/${user.id}`);
  const issued = await client.post(`/admin/users/${user.id}/password-link`, {});
  assert.equal(issued.status, 200);
  assert.match(textOf(issued.body), /A new set-password link is ready\./);
  assert.match(textOf(issued.body), /until 23 Nov 2026, 12:01 \(UTC\)/);
  assert.match(textOf(issued.body), /Setting a new password does not change their two-factor authentication\./);
  const token = linkTokenOn(issued);

  const visitor = new Browser(world.app);
  await visitor.get(`/set-password/${token}`);
  const set = await visitor.post(`/set-password/${token}`, {
    password: 'eve has a new one',
    confirmation: 'eve has a new one',
  });
  assert.equal(set.location, '/login');
  assert.deepEqual(await devicesOf(world, org, user.id), devicesBefore);
  // Her sessions end; the new password still needs the code.
  assert.equal((await eve.get('/account')).location, '/login');
  await signedIn(world, user.email, secret, 'eve has a new one');
});

test("a reset link lasts a day, and a deactivated user's link does not work", async (t) => {
  const world = await buildWorld(t);
  const { org, client } = await adminIn(world);
  const user = await makeUser(world, org);
  await client.get(`/admin/users/${user.id}`);
  const token = linkTokenOn(await client.post(`/admin/users/${user.id}/password-link`, {}));
  const visitor = new Browser(world.app);
  assert.equal((await visitor.get(`/set-password/${token}`)).status, 200);
  await tenantOf(world, org).users.updateProfile(
    user.id,
    { name: 'Gone', email: user.email, emailKey: user.email, role: 'user', status: 'inactive' },
    world.clock.now(),
  );
  const inactive = await visitor.get(`/set-password/${token}`);
  assert.equal(inactive.status, 410);
  assert.match(problemOn(inactive), /This account has been deactivated\./);
  assert.doesNotMatch(inactive.body, /href="\/forgot-password"/, 'a deactivated account gets no link that way');
  const post = await visitor.post(`/set-password/${token}`, {
    password: 'sneaking back in',
    confirmation: 'sneaking back in',
  });
  assert.equal(post.status, 410);

  await tenantOf(world, org).users.updateProfile(
    user.id,
    { name: 'Back', email: user.email, emailKey: user.email, role: 'user', status: 'active' },
    world.clock.now(),
  );
  world.clock.advanceMinutes(24 * 60);
  const expired = await visitor.get(`/set-password/${token}`);
  assert.equal(expired.status, 410);
  assert.match(problemOn(expired), /This set-password link has expired\./);
});

test('names and searches are shown as text, never as markup', async (t) => {
  const world = await buildWorld(t);
  const { org, client } = await adminIn(world);
  await makeUser(world, org, { name: '<script>alert(1)</script>', email: 'xss@example.com' });
  const list = await client.get('/admin/users?q=%3Cscript%3E');
  assert.doesNotMatch(list.body, /<script>/);
  assert.match(textOf(list.body), /1 user matching “<script>”\./);
  assert.match(list.body, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
});

test('a new set-password link voids the earlier one', async (t) => {
  const world = await buildWorld(t);
  const { org, client } = await adminIn(world);
  const user = await makeUser(world, org);
  await client.get(`/admin/users/${user.id}`);
  const first = linkTokenOn(await client.post(`/admin/users/${user.id}/password-link`, {}));
  const second = linkTokenOn(await client.post(`/admin/users/${user.id}/password-link`, {}));
  const visitor = new Browser(world.app);
  const voided = await visitor.get(`/set-password/${first}`);
  assert.equal(voided.status, 410);
  assert.match(problemOn(voided), /already been used/);
  assert.equal((await visitor.get(`/set-password/${second}`)).status, 200);
});

test("a user's page shows their profile and devices", async (t) => {
  const world = await buildWorld(t);
  const { org, client } = await adminIn(world);
  const user = await makeUser(world, org, { name: 'Fay', email: 'fay@example.com' });
  await linkDevice(world, org, user.id, 'Fay phone');
  await linkDevice(world, org, user.id, 'Fay spare');
  // The phone signed in ten minutes ago; the spare, linked, never did.
  await world.db
    .updateTable('devices')
    .set({ last_used_at: '2026-11-22T11:50:00.000Z' })
    .where('user_id', '=', user.id)
    .where('name', '=', 'Fay phone')
    .execute();
  const page = await client.get(`/admin/users/${user.id}`);
  assert.equal(page.status, 200);
  assert.match(textOf(page.body), /^Fay · Twofold/);
  const email = elementOn(page, 'input', { name: 'email' });
  assert.deepEqual([email.type, email.value], ['email', 'fay@example.com']);
  assert.deepEqual(rowWith(page, 'Fay phone'), ['Fay phone', '22 Nov 2026, 12:00 (UTC)', '22 Nov 2026, 11:50 (UTC)']);
  assert.deepEqual(rowWith(page, 'Fay spare'), ['Fay spare', '22 Nov 2026, 12:00 (UTC)', 'Never']);
  // An admin sees no 2FA controls: those are for super admins.
  assert.match(textOf(page.body), /Only super admins can change two-factor settings or reset them\./);
  assert.doesNotMatch(page.body, /action="\/admin\/users\/[^"]+\/2fa"/);
});

test("a user's page shows the person's run of wrong codes, not a count on each device", async (t) => {
  const world = await buildWorld(t);
  const { org, client } = await adminIn(world);
  const user = await makeUser(world, org, { name: 'Hal' });
  const secret = await linkDevice(world, org, user.id, 'Hal phone');
  await linkDevice(world, org, user.id, 'Hal tablet');
  const hal = new Browser(world.app);
  await hal.signIn(user.email, user.password);
  await hal.get('/login/code');
  for (let i = 0; i < 2; i++) {
    assert.equal((await hal.post('/login/code', { code: wrongCodeFor(world, secret) })).status, 400);
    world.clock.advanceMinutes(1);
  }
  const page = await client.get(`/admin/users/${user.id}`);
  assert.match(textOf(page.body), /2 wrong codes in a row since the last right one\./);
  assert.doesNotMatch(textOf(page.body), /Wrong codes in a row/);
  assert.equal(rowWith(page, 'Hal phone')?.length, 3);
  assert.equal(rowWith(page, 'Hal tablet')?.length, 3);
});

test("an administrator edits a user's name, email, role and status", async (t) => {
  const world = await buildWorld(t);
  const { org, client } = await adminIn(world);
  const user = await makeUser(world, org, { name: 'Gus', email: 'gus@example.com' });
  const saved = await saveProfile(client, user.id, {
    name: 'Gustav',
    email: 'Gustav@Example.com',
    role: 'admin',
    status: 'active',
  });
  assert.equal(saved.status, 303);
  assert.equal(saved.location, `/admin/users/${user.id}`);
  assert.equal(flashOn(await client.get(`/admin/users/${user.id}`)), 'The profile is saved.');
  const after = await userIn(world, org, user.id);
  assert.deepEqual(
    [after.name, after.email, after.role, after.status],
    ['Gustav', 'Gustav@Example.com', 'admin', 'active'],
  );
  // The new address signs in, whatever its case.
  await signedIn(world, 'gustav@example.com');

  await makeUser(world, org, { email: 'taken@example.com' });
  const clash = await saveProfile(client, user.id, {
    name: 'Gustav',
    email: 'TAKEN@example.com',
    role: 'admin',
    status: 'active',
  });
  assert.equal(clash.status, 400);
  assert.match(problemOn(clash), /Another account already uses this email address\./);
  assert.equal((await userIn(world, org, user.id)).email, 'Gustav@Example.com');
  const promote = await saveProfile(client, user.id, {
    name: 'Gustav',
    email: 'gustav@example.com',
    role: 'super_admin',
    status: 'active',
  });
  assert.equal(promote.status, 400);
  assert.match(problemOn(promote), /Only a super admin can make someone a super admin\./);
  assert.equal((await userIn(world, org, user.id)).role, 'admin');
});

test('an administrator can neither change their own role nor deactivate themselves', async (t) => {
  const world = await buildWorld(t);
  const { org, admin, client } = await adminIn(world);
  const self = await client.get(`/admin/users/${admin.id}`);
  assert.ok('disabled' in elementOn(self, 'select', { name: 'role' }), 'the role cannot be changed');
  for (const status of ['active', 'inactive']) {
    assert.ok('disabled' in elementOn(self, 'input', { type: 'radio', name: 'status', value: status }), status);
  }
  const role = await client.post(`/admin/users/${admin.id}`, {
    name: 'Me',
    email: admin.email,
    role: 'user',
    status: 'active',
  });
  assert.equal(role.status, 400);
  assert.match(problemOn(role), /You cannot change your own role\./);
  const status = await client.post(`/admin/users/${admin.id}`, {
    name: 'Me',
    email: admin.email,
    role: 'admin',
    status: 'inactive',
  });
  assert.equal(status.status, 400);
  assert.match(problemOn(status), /You cannot deactivate yourself\./);
  const after = await userIn(world, org, admin.id);
  assert.deepEqual([after.role, after.status], ['admin', 'active']);
  // Their own name they may change.
  const name = await client.post(`/admin/users/${admin.id}`, {
    name: 'Me',
    email: admin.email,
    role: 'admin',
    status: 'active',
  });
  assert.equal(name.status, 303);
  assert.equal((await userIn(world, org, admin.id)).name, 'Me');
});

test('an administrator cannot open or edit a super admin', async (t) => {
  const world = await buildWorld(t);
  const { org, client } = await adminIn(world);
  const boss = await makeUser(world, org, { role: 'super_admin', name: 'Boss' });
  const page = await client.get(`/admin/users/${boss.id}`);
  assert.equal(page.status, 403);
  assert.match(textOf(page.body), /Only a super admin can manage a super admin\./);
  // The list shows them, without a link to a page that would refuse the admin.
  const list = await client.get('/admin/users');
  assert.match(textOf(list.body), /Boss/);
  assert.doesNotMatch(list.body, new RegExp(`href="/admin/users/${boss.id}"`));
  assert.match(list.body, /href="\/admin\/users\/[0-9a-f-]{36}"/, 'the admin still opens the others');
  const edit = await client.post(`/admin/users/${boss.id}`, {
    name: 'Demoted',
    email: boss.email,
    role: 'user',
    status: 'inactive',
  });
  assert.equal(edit.status, 403);
  const link = await client.post(`/admin/users/${boss.id}/password-link`, {});
  assert.equal(link.status, 403);
  assert.doesNotMatch(link.body, /set-password\//);
  const after = await userIn(world, org, boss.id);
  assert.deepEqual([after.name, after.role, after.status], ['Boss', 'super_admin', 'active']);
});

test('deactivating a user ends their sessions and stops them signing in', async (t) => {
  const world = await buildWorld(t);
  const { org, client } = await adminIn(world);
  const user = await makeUser(world, org, { name: 'Hal' });
  const hal = await signedIn(world, user.email);
  const token = hal.cookie(SESSION_COOKIE);
  assert.ok(token);
  const saved = await saveProfile(client, user.id, {
    name: 'Hal',
    email: user.email,
    role: 'user',
    status: 'inactive',
  });
  assert.equal(saved.status, 303);
  assert.deepEqual(await sessionsOf(world, user.id), []);
  const stale = await getWithSession(world, '/account', token);
  assert.equal(stale.headers.location, '/login');
  const login = await new Browser(world.app).signIn(user.email, user.password);
  assert.equal(login.status, 401);
  assert.match(problemOn(login), /This account has been deactivated\. Contact your administrator\./);
  const list = await client.get('/admin/users');
  assert.equal(rowWith(list, user.email)?.[2], 'Inactive');
});

test('reactivating a user keeps their devices and requirement: they sign in with their code as before', async (t) => {
  const world = await buildWorld(t);
  const { org, client } = await adminIn(world);
  const user = await makeUser(world, org, { name: 'Ida' });
  const secret = await linkDevice(world, org, user.id);
  await requireOfUser(world, org, user.id);
  const devices = await devicesOf(world, org, user.id);
  const facts = (await userIn(world, org, user.id)).twoFactor;
  await saveProfile(client, user.id, { name: 'Ida', email: user.email, role: 'user', status: 'inactive' });
  const back = await saveProfile(client, user.id, { name: 'Ida', email: user.email, role: 'user', status: 'active' });
  assert.equal(back.status, 303);
  assert.deepEqual(await devicesOf(world, org, user.id), devices);
  assert.deepEqual((await userIn(world, org, user.id)).twoFactor, facts);
  await signedIn(world, user.email, secret);
});

test('reactivating a user who missed their deadline leaves them blocked: only a super admin gives more time', async (t) => {
  const world = await buildWorld(t);
  const { org, admin } = await adminIn(world);
  const user = await makeUser(world, org, { name: 'Jem' });
  await requireOfUser(world, org, user.id, minutesFromNow(world, 60));
  await tenantOf(world, org).organisation.setAfterDeadline('block');
  world.clock.advanceMinutes(61);
  const blocked = /Your deadline for setting up two-factor authentication has passed/;
  assert.match(problemOn(await new Browser(world.app).signIn(user.email, user.password)), blocked);
  const client = await signedIn(world, admin.email);
  for (const status of ['inactive', 'active']) {
    const saved = await saveProfile(client, user.id, { name: 'Jem', email: user.email, role: 'user', status });
    assert.equal(saved.status, 303);
  }
  assert.equal((await userIn(world, org, user.id)).twoFactor.setUpAtNextLogin, false);
  assert.match(problemOn(await new Browser(world.app).signIn(user.email, user.password)), blocked);
});

test('a pending 2FA reset survives deactivating and reactivating the user', async (t) => {
  const world = await buildWorld(t);
  const { org, client } = await adminIn(world, 'super_admin');
  const user = await makeUser(world, org, { name: 'Mo' });
  await linkDevice(world, org, user.id);
  await client.get(`/admin/users/${user.id}`);
  assert.equal((await client.post(`/admin/users/${user.id}/reset-2fa`, {})).status, 303);
  await saveProfile(client, user.id, { name: 'Mo', email: user.email, role: 'user', status: 'inactive' });
  await saveProfile(client, user.id, { name: 'Mo', email: user.email, role: 'user', status: 'active' });
  assert.equal((await userIn(world, org, user.id)).twoFactor.setUpAtNextLogin, true);
  assert.equal((await new Browser(world.app).signIn(user.email, user.password)).location, '/setup');
});

test('a super admin requires 2FA of one user, optionally by a personal deadline in the future', async (t) => {
  const world = await buildWorld(t);
  const { org, client } = await adminIn(world, 'super_admin');
  const user = await makeUser(world, org, { name: 'Jo' });
  const page = await client.get(`/admin/users/${user.id}`);
  assert.match(page.body, /action="\/admin\/users\/[^"]+\/2fa"/);

  const required = await client.post(`/admin/users/${user.id}/2fa`, { required: 'yes', deadline: '' });
  assert.equal(required.status, 303);
  assert.equal(flashOn(await client.get(`/admin/users/${user.id}`)), 'The two-factor settings are saved.');
  let jo = await userIn(world, org, user.id);
  assert.deepEqual([jo.twoFactor.requiredIndividually, jo.twoFactor.personalDeadline], [true, null]);
  assert.equal((await new Browser(world.app).signIn(user.email, user.password)).location, '/setup');

  const past = await client.post(`/admin/users/${user.id}/2fa`, { required: 'yes', deadline: '2026-11-22T11:00' });
  assert.equal(past.status, 400);
  assert.match(problemOn(past), /Choose a deadline in the future\./);
  const garbage = await client.post(`/admin/users/${user.id}/2fa`, { required: 'yes', deadline: 'next tuesday' });
  assert.equal(garbage.status, 400);
  assert.match(problemOn(garbage), /Enter the deadline as a date and time\./);
  jo = await userIn(world, org, user.id);
  assert.equal(jo.twoFactor.personalDeadline, null);

  const later = await client.post(`/admin/users/${user.id}/2fa`, { required: 'yes', deadline: '2026-12-01T09:00' });
  assert.equal(later.status, 303);
  assert.deepEqual(
    (await userIn(world, org, user.id)).twoFactor.personalDeadline,
    new Date('2026-12-01T09:00:00.000Z'),
  );
  assert.equal((await new Browser(world.app).signIn(user.email, user.password)).location, '/account');

  const off = await client.post(`/admin/users/${user.id}/2fa`, { deadline: '' });
  assert.equal(off.status, 303);
  jo = await userIn(world, org, user.id);
  assert.deepEqual([jo.twoFactor.requiredIndividually, jo.twoFactor.personalDeadline], [false, null]);
});

test('the Require 2FA box is explained as it works in each phase of the requirement for everyone, and hidden once it cannot matter', async (t) => {
  const world = await buildWorld(t);
  const { org, client } = await adminIn(world, 'super_admin', { withDevice: true });
  const user = await makeUser(world, org, { name: 'Lu' });
  const box = (page: Page) => elementsOn(page, 'input').filter((i) => i.name === 'required');

  const off = await client.get(`/admin/users/${user.id}`);
  assert.deepEqual(
    box(off).map((i) => i.type),
    ['checkbox'],
  );
  assert.doesNotMatch(textOf(off.body), /Your organisation (will require|has required)/);

  await requireEveryoneFrom(world, org, new Date('2026-11-22T12:10:00.000Z'));
  const scheduled = await client.get(`/admin/users/${user.id}`);
  assert.deepEqual(
    box(scheduled).map((i) => i.type),
    ['checkbox'],
  );
  assert.match(
    textOf(scheduled.body),
    /Your organisation will require two-factor authentication of everyone from 22 Nov 2026, 12:10 \(UTC\)\. Ticking the box requires it of Lu now, whatever becomes of that requirement/,
  );
  // Ticked while the start is ahead: due now, not at the start.
  assert.equal((await client.post(`/admin/users/${user.id}/2fa`, { required: 'yes', deadline: '' })).status, 303);
  assert.equal((await new Browser(world.app).signIn(user.email, user.password)).location, '/setup');

  world.clock.set(new Date('2026-11-22T12:15:00.000Z'));
  const page = await client.get(`/admin/users/${user.id}`);
  assert.match(
    textOf(page.body),
    /Your organisation has required two-factor authentication of everyone since 22 Nov 2026, 12:10 \(UTC\), and that cannot be turned off, so it is required of Lu too\./,
  );
  assert.doesNotMatch(textOf(page.body), /matters only if|Require two-factor authentication/);
  // The box is not shown, and saving a deadline keeps what it held.
  assert.deepEqual(
    box(page).map((i) => [i.type, i.value]),
    [['hidden', 'yes']],
  );
  assert.equal(
    (await client.post(`/admin/users/${user.id}/2fa`, { required: 'yes', deadline: '2026-12-08T09:00' })).status,
    303,
  );
  const lu = await userIn(world, org, user.id);
  assert.deepEqual(
    [lu.twoFactor.requiredIndividually, lu.twoFactor.personalDeadline?.toISOString()],
    [true, '2026-12-08T09:00:00.000Z'],
  );
});

test('a personal deadline is read in the organisation’s time zone and stored as the right instant', async (t) => {
  const world = await buildWorld(t);
  const { org, client } = await adminIn(world, 'super_admin');
  const user = await makeUser(world, org);
  await client.get('/admin/2fa');
  assert.equal((await client.post('/admin/2fa/time-zone', { timeZone: 'Europe/Amsterdam' })).status, 303);

  await client.get(`/admin/users/${user.id}`);
  await client.post(`/admin/users/${user.id}/2fa`, { required: 'yes', deadline: '2026-12-01T09:00' });
  assert.equal(
    (await userIn(world, org, user.id)).twoFactor.personalDeadline?.toISOString(),
    '2026-12-01T08:00:00.000Z',
  );
  const page = await client.get(`/admin/users/${user.id}`);
  const deadline = elementOn(page, 'input', { name: 'deadline' });
  assert.deepEqual([deadline.type, deadline.value], ['datetime-local', '2026-12-01T09:00']);
  assert.match(textOf(page.body), /Personal deadline in Europe\/Amsterdam/);
  assert.match(textOf(page.body), /they must link a device by 1 Dec 2026, 09:00 \(Europe\/Amsterdam\)\./);

  // In summer time the offset is two hours.
  await client.post(`/admin/users/${user.id}/2fa`, { required: 'yes', deadline: '2027-07-01T09:00' });
  assert.equal(
    (await userIn(world, org, user.id)).twoFactor.personalDeadline?.toISOString(),
    '2027-07-01T07:00:00.000Z',
  );
});

test('only a super admin changes a user’s 2FA requirement: an administrator gets 403', async (t) => {
  const world = await buildWorld(t);
  const { org, client } = await adminIn(world);
  const user = await makeUser(world, org);
  await client.get(`/admin/users/${user.id}`);
  const page = await client.post(`/admin/users/${user.id}/2fa`, { required: 'yes', deadline: '2026-12-01T09:00' });
  assert.equal(page.status, 403);
  assert.match(textOf(page.body), /Only super admins can open this page\./);
  const jo = await userIn(world, org, user.id);
  assert.deepEqual([jo.twoFactor.requiredIndividually, jo.twoFactor.personalDeadline], [false, null]);
});

test('a super admin resets a user’s 2FA: devices gone, sessions ended, set up at next sign-in', async (t) => {
  const world = await buildWorld(t);
  const { org, client } = await adminIn(world, 'super_admin');
  const user = await makeUser(world, org, { name: 'Kim' });
  const secret = await linkDevice(world, org, user.id, 'One');
  await linkDevice(world, org, user.id, 'Two');
  const kim = await signedIn(world, user.email, secret);

  const confirm = await client.get(`/admin/users/${user.id}/reset-2fa`);
  assert.equal(confirm.status, 200);
  assert.match(textOf(confirm.body), /Reset two-factor authentication for Kim/);
  assert.match(textOf(confirm.body), /All their 2 linked devices are removed\./);
  const done = await client.post(`/admin/users/${user.id}/reset-2fa`, {});
  assert.equal(done.status, 303);
  assert.equal(done.location, `/admin/users/${user.id}`);
  assert.equal(
    flashOn(await client.get(`/admin/users/${user.id}`)),
    'Two-factor authentication is reset for Kim. They link a device again at their next sign-in.',
  );

  assert.deepEqual(await devicesOf(world, org, user.id), []);
  assert.deepEqual(await sessionsOf(world, user.id), []);
  assert.equal((await userIn(world, org, user.id)).twoFactor.setUpAtNextLogin, true);
  assert.equal((await kim.get('/account')).location, '/login');
  assert.equal((await new Browser(world.app).signIn(user.email, user.password)).location, '/setup');
});

test('a super admin is offered no removal that would be refused: the last required device says why and points to Reset 2FA', async (t) => {
  const world = await buildWorld(t);
  const { org, client } = await adminIn(world, 'super_admin', { withDevice: true });
  const user = await makeUser(world, org, { name: 'Kit' });
  await linkDevice(world, org, user.id, 'Kit phone');
  await requireOfUser(world, org, user.id);
  const [device] = await devicesOf(world, org, user.id);
  assert.ok(device);
  const removeHref = `/admin/users/${user.id}/devices/${device.id}/remove`;

  const page = await client.get(`/admin/users/${user.id}`);
  assert.equal(elementsOn(page, 'a').filter((a) => a.href === removeHref).length, 0);
  assert.match(
    textOf(page.body),
    /This is Kit's only device and two-factor authentication is required of them, so it cannot be removed on its own\. If they lost it, use Reset 2FA below/,
  );

  const confirm = await client.get(removeHref);
  assert.equal(confirm.status, 200);
  assert.match(
    textOf(confirm.body),
    /Kit phone is Kit's last device and two-factor authentication is required of them, so it cannot be removed on its own\./,
  );
  assert.doesNotMatch(confirm.body, /<form[^>]*action="\/admin\/users\/[^"]+\/devices\//);
  assert.deepEqual(
    elementsOn(confirm, 'button').filter((b) => (b.class ?? '').includes('danger')),
    [],
  );
  elementOn(confirm, 'a', { href: `/admin/users/${user.id}/reset-2fa` });
  const refused = await client.post(removeHref, {});
  assert.equal(refused.status, 303);
  assert.equal((await devicesOf(world, org, user.id)).length, 1);

  // With a second device either may go: each has its Remove, and the page asks with a button.
  await linkDevice(world, org, user.id, 'Kit tablet');
  const two = await client.get(`/admin/users/${user.id}`);
  elementOn(two, 'a', { href: removeHref });
  const ask = await client.get(removeHref);
  assert.match(textOf(ask.body), /Remove Kit phone from Kit's two-factor authentication\?/);
  elementOn(ask, 'button', { type: 'submit', class: 'danger' });
  assert.equal((await client.post(removeHref, {})).status, 303);
  assert.deepEqual(
    (await devicesOf(world, org, user.id)).map((d) => d.name),
    ['Kit tablet'],
  );
});

test('only a super admin resets 2FA: an administrator gets 403 and nothing changes', async (t) => {
  const world = await buildWorld(t);
  const { org, client } = await adminIn(world);
  const user = await makeUser(world, org);
  await linkDevice(world, org, user.id);
  const page = await client.get(`/admin/users/${user.id}/reset-2fa`);
  assert.equal(page.status, 403);
  await client.get(`/admin/users/${user.id}`);
  const post = await client.post(`/admin/users/${user.id}/reset-2fa`, {});
  assert.equal(post.status, 403);
  assert.equal((await devicesOf(world, org, user.id)).length, 1);
  assert.equal((await userIn(world, org, user.id)).twoFactor.setUpAtNextLogin, false);
});

test('a user of another organisation is not found on any user page', async (t) => {
  const world = await buildWorld(t);
  const { client } = await adminIn(world, 'super_admin');
  const otherOrg = await makeOrganisation(world);
  const outsider = await makeUser(world, otherOrg, { name: 'Outsider' });
  await linkDevice(world, otherOrg, outsider.id);
  await client.get('/admin/users');
  for (const url of [`/admin/users/${outsider.id}`, `/admin/users/${outsider.id}/reset-2fa`]) {
    const page = await client.get(url);
    assert.equal(page.status, 404, url);
    assert.match(textOf(page.body), /There is no such user in your organisation\./, url);
    assert.doesNotMatch(page.body, /Outsider/, url);
  }
  const posts: [string, Record<string, string>][] = [
    [`/admin/users/${outsider.id}`, { name: 'Taken over', email: outsider.email, role: 'user', status: 'inactive' }],
    [`/admin/users/${outsider.id}/2fa`, { required: 'yes', deadline: '' }],
    [`/admin/users/${outsider.id}/reset-2fa`, {}],
    [`/admin/users/${outsider.id}/password-link`, {}],
  ];
  for (const [url, form] of posts) {
    const page = await client.post(url, form);
    assert.equal(page.status, 404, url);
    assert.doesNotMatch(page.body, /set-password\//, url);
  }
  const after = await userIn(world, otherOrg, outsider.id);
  assert.deepEqual(
    [after.name, after.status, after.twoFactor.requiredIndividually, after.twoFactor.setUpAtNextLogin],
    ['Outsider', 'active', false, false],
  );
  assert.equal((await devicesOf(world, otherOrg, outsider.id)).length, 1);
  assert.equal(
    (await world.db.selectFrom('password_links').select('user_id').where('user_id', '=', outsider.id).execute()).length,
    0,
  );
});

test('an unknown user id is a 404', async (t) => {
  const world = await buildWorld(t);
  const { client } = await adminIn(world);
  const page = await client.get('/admin/users/00000000-0000-0000-0000-000000000000');
  assert.equal(page.status, 404);
});
