// Security notices by email: each change to how a person signs in is told to them, queued in
// the commit of the change; a change refused or rolled back tells nothing; the first wrong
// code after the right password is told once, and a lock; a notice arrives through SMTP
// saying what, when and from where, every value escaped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { issueRecoveryCodes } from '../../src/services/recovery-codes.js';
import { buildWorld, linkDevice, makeOrganisation, makeUser, type TestWorld } from '../helpers/app.js';
import { Browser, textOf } from '../helpers/browser.js';
import { startSmtpServer, smtpMailSettings } from '../helpers/smtp.js';
import { atCodeStep, auditEntriesAbout, nextCode, signedIn, startLinking, tenantOf, userIn } from './support.js';

const CLIENT = { ip: '127.0.0.1', userAgent: 'test' };

/** The security notices queued for `email`, oldest first, by subject. */
async function noticesTo(world: TestWorld, email: string): Promise<string[]> {
  const rows = await world.db
    .selectFrom('mail_outbox')
    .select(['subject', 'kind'])
    .where('recipient', '=', email)
    .orderBy('created_at')
    .execute();
  return rows.filter((row) => row.kind === 'security_notice').map((row) => row.subject);
}

async function organisationWithAdmin(world: TestWorld, name = 'Notice Org') {
  const org = await makeOrganisation(world, name);
  const admin = await makeUser(world, org, { role: 'super_admin', email: `boss-${org.slice(0, 6)}@example.com` });
  const adminClient = await signedIn(world, admin.email, await linkDevice(world, org, admin.id));
  return { org, admin, adminClient };
}

test('linking and removing a device, each told once to the person; an admin removal says an administrator did it', async (t) => {
  const world = await buildWorld(t);
  const { org, adminClient } = await organisationWithAdmin(world);
  const ada = await makeUser(world, org, { email: 'ada@example.com' });
  const first = await linkDevice(world, org, ada.id, 'Old phone');
  const client = await signedIn(world, ada.email, first);

  const { url, secret } = await startLinking(client, '/2fa', 'New phone');
  const confirmed = await client.post(url, { code: nextCode(world, secret) });
  assert.equal(confirmed.status, 303, textOf(confirmed.body));
  assert.deepEqual(await noticesTo(world, ada.email), ['A device was added to your Notice Org account']);

  const [old] = (await tenantOf(world, org).devices.listForUser(ada.id)).filter((d) => d.name === 'Old phone');
  assert.ok(old);
  await client.get(`/2fa/devices/${old.id}/remove`);
  const removed = await client.post(`/2fa/devices/${old.id}/remove`, {});
  assert.equal(removed.status, 303, textOf(removed.body));
  assert.deepEqual((await noticesTo(world, ada.email)).slice(1), ['A device was removed from your Notice Org account']);

  // The last device of a person who must have one cannot go: refused, and nothing told.
  await tenantOf(world, org).users.setTwoFactorRequirement(ada.id, true, null, world.clock.now());
  const [last] = await tenantOf(world, org).devices.listForUser(ada.id);
  assert.ok(last);
  await adminClient.get(`/admin/users/${ada.id}/devices/${last.id}/remove`);
  await adminClient.post(`/admin/users/${ada.id}/devices/${last.id}/remove`, {});
  assert.equal((await tenantOf(world, org).devices.listForUser(ada.id)).length, 1, 'the last device stays');
  assert.equal((await noticesTo(world, ada.email)).length, 2);

  // An admin reset: told, as an administrator's doing.
  await adminClient.get(`/admin/users/${ada.id}/reset-2fa`);
  const reset = await adminClient.post(`/admin/users/${ada.id}/reset-2fa`, {});
  assert.equal(reset.status, 303, textOf(reset.body));
  assert.deepEqual((await noticesTo(world, ada.email)).slice(2), [
    'Your two-factor authentication at Notice Org was reset',
  ]);
});

test('the right password then a wrong code is told once per run; the lock after ten is told; wrong codes at step-up are not', async (t) => {
  const world = await buildWorld(t);
  const { org } = await organisationWithAdmin(world);
  const ben = await makeUser(world, org, { email: 'ben@example.com' });
  const secret = await linkDevice(world, org, ben.id);

  const browser = await atCodeStep(world, ben.email);
  assert.equal((await browser.post('/login/code', { code: '000000' })).status, 400);
  assert.equal((await browser.post('/login/code', { code: '000001' })).status, 400);
  assert.deepEqual(await noticesTo(world, ben.email), ['Your Notice Org password was given with a wrong code']);

  // A right code ends the run; the next wrong one after the right password is told again.
  const done = await browser.post('/login/code', { code: nextCode(world, secret) });
  assert.equal(done.location, '/account', textOf(done.body));
  const again = await atCodeStep(world, ben.email);
  await again.post('/login/code', { code: '000002' });
  assert.equal((await noticesTo(world, ben.email)).length, 2);

  // Ten in a row lock the second factor: told, whatever the sign-ins they came from.
  for (let i = 0; i < 9; i += 1) {
    world.clock.advanceMinutes(2);
    const b = await atCodeStep(world, ben.email, `203.0.113.${20 + i}`);
    await b.post('/login/code', { code: '000003' });
  }
  const subjects = await noticesTo(world, ben.email);
  assert.equal(subjects.at(-1), 'Your second factor at Notice Org is locked after wrong codes');
  assert.equal(subjects.length, 3);

  // Step-up: the person is signed in; a wrong code there is not told.
  const cy = await makeUser(world, org, { email: 'cy@example.com' });
  const cySecret = await linkDevice(world, org, cy.id);
  const client = await signedIn(world, cy.email, cySecret);
  world.clock.advanceMinutes(12);
  await client.get('/2fa');
  const step = await client.post('/2fa/devices', { name: 'Another' });
  assert.match(step.location ?? '', /^\/confirm-identity/, 'adding a device 12 minutes on asks for identity');
  await client.get(step.location ?? '');
  const wrong = await client.post('/confirm-identity', { password: cy.password, code: '999999' });
  assert.equal(wrong.status, 400, textOf(wrong.body));
  assert.equal(await auditEntriesAbout(world, cy.id, 'code_failed'), 1, 'the wrong code was counted');
  assert.deepEqual(await noticesTo(world, cy.email), []);
});

test('a recovery code signing in is told with how many are left', async (t) => {
  const world = await buildWorld(t);
  const { org } = await organisationWithAdmin(world);
  const dee = await makeUser(world, org, { email: 'dee@example.com' });
  await linkDevice(world, org, dee.id);
  const codes = await issueRecoveryCodes(world.deps, tenantOf(world, org), await userIn(world, org, dee.id), CLIENT);
  const browser = await atCodeStep(world, dee.email);
  const signedInWithCode = await browser.post('/login/code', { code: codes[0] ?? '' });
  assert.equal(signedInWithCode.status, 303, textOf(signedInWithCode.body));
  assert.deepEqual(await noticesTo(world, dee.email), ['A recovery code was used for your Notice Org account']);
});

test('password changed, password set with a link, deactivated and reactivated: each told', async (t) => {
  const world = await buildWorld(t);
  const { org, adminClient } = await organisationWithAdmin(world);
  const eve = await makeUser(world, org, { email: 'eve@example.com', name: 'Eve' });
  const client = await signedIn(world, eve.email, await linkDevice(world, org, eve.id));

  await client.get('/account/password');
  const changed = await client.post('/account/password', {
    current: eve.password,
    password: 'a brand new password',
    confirmation: 'a brand new password',
  });
  assert.equal(changed.location, '/account', textOf(changed.body));
  assert.deepEqual(await noticesTo(world, eve.email), ['Your Notice Org password was changed']);

  const profile = { name: 'Eve', email: eve.email, role: 'user' };
  await adminClient.get(`/admin/users/${eve.id}`);
  assert.equal((await adminClient.post(`/admin/users/${eve.id}`, { ...profile, status: 'inactive' })).status, 303);
  await adminClient.get(`/admin/users/${eve.id}`);
  assert.equal((await adminClient.post(`/admin/users/${eve.id}`, { ...profile, status: 'active' })).status, 303);
  // Saving the profile unchanged tells nothing.
  await adminClient.get(`/admin/users/${eve.id}`);
  assert.equal((await adminClient.post(`/admin/users/${eve.id}`, { ...profile, status: 'active' })).status, 303);
  assert.deepEqual((await noticesTo(world, eve.email)).slice(1), [
    'Your Notice Org account was deactivated',
    'Your Notice Org account was reactivated',
  ]);

  await adminClient.get(`/admin/users/${eve.id}`);
  const linkPage = await adminClient.post(`/admin/users/${eve.id}/password-link`, {});
  const token = /\/set-password\/([A-Za-z0-9_-]+)/.exec(linkPage.body)?.[1];
  assert.ok(token, textOf(linkPage.body));
  const visitor = new Browser(world.app);
  await visitor.get(`/set-password/${token}`);
  const set = await visitor.post(`/set-password/${token}`, {
    password: 'the password from a link',
    confirmation: 'the password from a link',
  });
  assert.equal(set.status, 303, textOf(set.body));
  assert.equal((await noticesTo(world, eve.email)).at(-1), 'A password was set for your Notice Org account');
});

test('a notice arrives through SMTP: what, when, from where, why, and every value escaped', async (t) => {
  const smtp = await startSmtpServer(t);
  const world = await buildWorld(t, { mail: smtpMailSettings(smtp) });
  assert.ok(world.mail);
  const org = await makeOrganisation(world, 'Acme <Ltd>');
  const fay = await makeUser(world, org, { email: 'fay@example.com', name: 'Fay <b>' });
  const client = await signedIn(world, fay.email, await linkDevice(world, org, fay.id));
  const { url, secret } = await startLinking(client, '/2fa', 'Tablet <i>');
  assert.equal((await client.post(url, { code: nextCode(world, secret) })).status, 303);

  assert.deepEqual(await world.mail.sendDue(), { sent: 1, retrying: 0, failed: 0 });
  const [notice] = await smtp.waitFor(1);
  assert.ok(notice);
  assert.deepEqual(notice.to, ['fay@example.com']);
  assert.equal(notice.parsed.subject, 'A device was added to your Acme <Ltd> account');
  const text = notice.parsed.text ?? '';
  assert.match(text, /The device “Tablet <i>” was added as a second factor/);
  assert.match(text, /When: \d+ \w+ \d{4}, \d\d:\d\d \(UTC\)\. From: /);
  assert.match(text, /Security notices cannot be turned off/);
  const html = String(notice.parsed.html);
  assert.ok(html.includes('Tablet &lt;i&gt;'));
  assert.ok(html.includes('Hello Fay &lt;b&gt;,'));
  assert.ok(!html.includes('<i>') && !html.includes('<b>'));
});
