// The organisation's choice of second factors (Manage 2FA), through the real app: the
// preview of whom a change affects and the confirming post that saves it, with its audit
// entry; linking a kind not allowed refused; a key holder held to their key; a person with
// only an app signed in once more with it and sent straight to add a key; a recovery code
// under "keys only" leading to the same step.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import type {
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
} from '@simplewebauthn/server';
import { issueRecoveryCodes } from '../../src/services/recovery-codes.js';
import {
  buildWorld,
  DEFAULT_PUBLIC_URL,
  linkDevice,
  makeOrganisation,
  makeUser,
  type TestWorld,
} from '../helpers/app.js';
import { Browser, keyOptionsOn, recoveryCodesOn, textOf, type Page } from '../helpers/browser.js';
import { SoftAuthenticator } from '../helpers/soft-authenticator.js';
import {
  atCodeStep,
  flashOn,
  nextCode,
  organisationOf,
  signedIn,
  superAdminOnManage2fa,
  tenantOf,
  userIn,
} from './support.js';

const ORIGIN = new URL(DEFAULT_PUBLIC_URL).origin;
const CLIENT = { ip: '127.0.0.1', userAgent: 'test' };

/** A confirmed key in the store, for counting only: it cannot sign in. */
async function storedKey(world: TestWorld, org: string, userId: string): Promise<void> {
  const id = randomUUID();
  await tenantOf(world, org).devices.insertSecurityKey({
    id,
    userId,
    name: 'Key',
    sealedPublicKey: 'not used',
    credentialId: id,
    signCount: 0,
    transports: [],
    backedUp: false,
    now: world.clock.now(),
  });
}

async function allowOnly(client: Browser, allowedFactors: 'keys_only' | 'apps_only' | 'apps_and_keys') {
  await client.get('/admin/2fa');
  const preview = await client.post('/admin/2fa/factors', { allowedFactors });
  assert.equal(preview.status, 200, textOf(preview.body));
  const saved = await client.post('/admin/2fa/factors', { allowedFactors, confirm: 'yes' });
  assert.equal(saved.status, 303, textOf(saved.body));
  return preview;
}

/** Makes a key with `key` on the page at `path` (the setup screen's or the 2FA page's) and posts it. */
async function makeKeyAt(
  browser: Browser,
  path: '/setup/security-keys' | '/2fa/security-keys',
  key: SoftAuthenticator,
) {
  const page = await browser.get(path);
  assert.equal(page.status, 200, textOf(page.body));
  const answer = key.create(keyOptionsOn<PublicKeyCredentialCreationOptionsJSON>(page), { origin: ORIGIN });
  return browser.post(path, { name: 'YubiKey', answer: JSON.stringify(answer) });
}

/** A member with an app who, signed in with it, links `key` on the 2FA page. */
async function personWithAppAndKey(world: TestWorld, org: string, key: SoftAuthenticator) {
  const person = await makeUser(world, org);
  const secret = await linkDevice(world, org, person.id);
  const browser = await signedIn(world, person.email, secret);
  const linked = await makeKeyAt(browser, '/2fa/security-keys', key);
  assert.equal(linked.location, '/2fa', textOf(linked.body));
  return { person, secret };
}

test('changing the allowed factors shows whom it affects first; only the confirming post saves it, audited', async (t) => {
  const world = await buildWorld(t);
  const { org, boss, client } = await superAdminOnManage2fa(world);
  const page = await client.get('/admin/2fa');
  assert.match(textOf(page.body), /Security keys and passkeys only \(phishing-resistant\)/);
  assert.match(page.body, /value="apps_and_keys"\s+checked/, 'both allowed by default');

  // The boss and two more have only an app, one has both, one only a key, two have none,
  // and an inactive person with an app does not count.
  for (let i = 0; i < 2; i++) {
    const appOnly = await makeUser(world, org);
    await linkDevice(world, org, appOnly.id);
  }
  const both = await makeUser(world, org);
  await linkDevice(world, org, both.id);
  await storedKey(world, org, both.id);
  const keyOnly = await makeUser(world, org);
  await storedKey(world, org, keyOnly.id);
  await makeUser(world, org);
  await makeUser(world, org);
  const gone = await makeUser(world, org);
  await linkDevice(world, org, gone.id);
  await world.db.updateTable('users').set({ status: 'inactive' }).where('id', '=', gone.id).execute();

  const preview = await client.post('/admin/2fa/factors', { allowedFactors: 'keys_only' });
  assert.equal(preview.status, 200, textOf(preview.body));
  const said = textOf(preview.body);
  assert.match(said, /3 active people have only authenticator apps\. At their next sign-in they use one/);
  assert.match(said, /must then add a security key or passkey before they can go anywhere else/);
  assert.match(said, /1 active person has a security key or passkey and authenticator apps/);
  assert.match(said, /2 active people have no device yet/);
  assert.match(said, /You too: once this is saved you must add a security key or passkey before you can go on/);
  assert.equal((await organisationOf(world, org)).allowedFactors, 'apps_and_keys', 'a preview saves nothing');
  assert.equal(await auditCount(world, org), 0);

  const saved = await client.post('/admin/2fa/factors', { allowedFactors: 'keys_only', confirm: 'yes' });
  assert.equal(saved.status, 303);
  assert.equal((await organisationOf(world, org)).allowedFactors, 'keys_only');
  const [entry] = await world.db
    .selectFrom('audit_events')
    .selectAll()
    .where('organisation_id', '=', org)
    .where('action', '=', 'allowed_factors_changed')
    .execute();
  assert.ok(entry);
  assert.equal(entry.actor_id, boss.id);
  assert.deepEqual(JSON.parse(entry.detail), {
    from: 'apps_and_keys',
    to: 'keys_only',
    must_add_device: 3,
    lose_a_kind: 1,
    without_device: 2,
  });
  // The boss, with only an app, is sent to add a key at the next page; then reads the log.
  assert.equal((await client.get('/admin/audit')).location, '/setup');
  assert.equal((await makeKeyAt(client, '/setup/security-keys', new SoftAuthenticator())).status, 303);
  const log = await client.get('/admin/audit');
  assert.match(textOf(log.body), /Allowed second factors changed/);
});

async function auditCount(world: TestWorld, org: string): Promise<number> {
  const rows = await world.db
    .selectFrom('audit_events')
    .select('id')
    .where('organisation_id', '=', org)
    .where('action', '=', 'allowed_factors_changed')
    .execute();
  return rows.length;
}

test('the same choice again, or an unknown one, saves nothing', async (t) => {
  const world = await buildWorld(t);
  const { org, client } = await superAdminOnManage2fa(world);
  const same = await client.post('/admin/2fa/factors', { allowedFactors: 'apps_and_keys', confirm: 'yes' });
  assert.equal(same.status, 303);
  assert.match(flashOn(await client.get('/admin/2fa')) ?? '', /Nothing changed/);
  const unknown = await client.post('/admin/2fa/factors', { allowedFactors: 'sms', confirm: 'yes' });
  assert.equal(unknown.status, 400);
  assert.equal(await auditCount(world, org), 0);
});

test('under "keys only" an authenticator app cannot be linked, on the 2FA page or at the setup screen', async (t) => {
  const world = await buildWorld(t);
  const { org, client } = await superAdminOnManage2fa(world);
  await allowOnly(client, 'keys_only');
  const key = new SoftAuthenticator();
  // The boss links a key (held at the setup screen until then), and is then signed in.
  const linked = await makeKeyAt(client, '/setup/security-keys', key);
  assert.equal(linked.status, 303, textOf(linked.body));
  const twoFactor = await client.get('/2fa');
  assert.equal(twoFactor.status, 200);
  assert.match(
    textOf(twoFactor.body),
    /Your organisation allows only security keys and passkeys, so an authenticator app cannot be linked/,
  );
  assert.doesNotMatch(twoFactor.body, /action="\/2fa\/devices"/, 'no form to add an app');
  const refused = await client.post('/2fa/devices', { name: 'Phone' });
  assert.equal(refused.status, 403);
  assert.match(textOf(refused.body), /an authenticator app cannot be linked/);

  // Someone who must set up: the setup screen offers only a key, and says what to do without one.
  const newcomer = await makeUser(world, org);
  await tenantOf(world, org).users.setTwoFactorRequirement(newcomer.id, true, null, world.clock.now());
  const browser = new Browser(world.app);
  const afterPassword = await browser.signIn(newcomer.email, 'correct horse battery');
  assert.equal(afterPassword.location, '/setup');
  const setup = await browser.get('/setup');
  assert.equal(setup.status, 200);
  assert.doesNotMatch(setup.body, /action="\/setup\/devices"/);
  assert.match(textOf(setup.body), /Security keys and passkeys need JavaScript and a browser that supports them/);
  assert.equal((await browser.post('/setup/devices', { name: 'Phone' })).status, 403);
  assert.equal((await tenantOf(world, org).devices.listForUser(newcomer.id)).length, 0);

  // Under "apps only" the reverse: no key can be added.
  await client.get('/admin/2fa');
  await allowOnly(client, 'apps_only');
  assert.equal((await browser.get('/setup/security-keys')).status, 403);
});

test('under "keys only" a person with a key and an app must use the key: the app is neither offered nor taken', async (t) => {
  const world = await buildWorld(t);
  const { org, client } = await superAdminOnManage2fa(world);
  const key = new SoftAuthenticator();
  const { person, secret } = await personWithAppAndKey(world, org, key);
  await allowOnly(client, 'keys_only');

  const browser = await atCodeStep(world, person.email);
  const asked = await browser.get('/login/code?with=app');
  assert.match(asked.body, /Use your security key or passkey/);
  assert.doesNotMatch(asked.body, /Use a code from your authenticator app instead/);
  const byApp = await browser.post('/login/code', { code: nextCode(world, secret) });
  assert.equal(byApp.status, 400, 'an app code is not taken');
  assert.equal(byApp.location, undefined);

  const options = keyOptionsOn<PublicKeyCredentialRequestOptionsJSON>(await browser.get('/login/code'));
  const byKey = await browser.post('/login/code', {
    with: 'key',
    answer: JSON.stringify(key.get(options, { origin: ORIGIN })),
  });
  assert.equal(byKey.location, '/account', textOf(byKey.body));
  assert.equal((await browser.get('/account')).status, 200, 'signed in with the key: nothing held');
});

test('a person with only an app signs in with it once more and is sent straight to add a key, then signed in', async (t) => {
  const world = await buildWorld(t);
  const { org, client } = await superAdminOnManage2fa(world);
  const person = await makeUser(world, org);
  const secret = await linkDevice(world, org, person.id);
  await allowOnly(client, 'keys_only');

  const browser = await atCodeStep(world, person.email);
  const step = await browser.get('/login/code');
  assert.match(textOf(step.body), /Sign in with your device this once: you will then be asked to add a security key/);
  const done = await browser.post('/login/code', { code: nextCode(world, secret) });
  assert.equal(done.status, 303, textOf(done.body));
  for (const path of ['/account', '/2fa', '/account/sessions']) {
    const held = await browser.get(path);
    assert.equal(held.location, '/setup', `${path} is not reached before a key is added`);
  }
  const setup = await browser.get('/setup');
  assert.match(textOf(setup.body), /Your organisation now accepts only security keys and passkeys/);
  assert.match(setup.body, /href="\/setup\/security-keys"/);

  const linked = await makeKeyAt(browser, '/setup/security-keys', new SoftAuthenticator());
  assert.equal(linked.status === 303 || recoveryCodesOn(linked) !== null, true, textOf(linked.body));
  const account = await browser.get('/account');
  assert.equal(account.status, 200, 'signed in once the key is added');
  const kinds = (await tenantOf(world, org).devices.listForUser(person.id)).map((d) => d.kind).sort();
  assert.deepEqual(kinds, ['totp', 'webauthn'], 'the app stays: an admin or the person removes it');
});

test('under "keys only" a recovery code still signs in a person who lost their key, and leads to adding a key', async (t) => {
  const world = await buildWorld(t);
  const { org, client } = await superAdminOnManage2fa(world);
  const { person } = await personWithAppAndKey(world, org, new SoftAuthenticator());
  const codes = await issueRecoveryCodes(world.deps, tenantOf(world, org), await userIn(world, org, person.id), CLIENT);
  await allowOnly(client, 'keys_only');

  const browser = await atCodeStep(world, person.email);
  const recovery = await browser.get('/login/code?with=recovery');
  assert.match(textOf(recovery.body), /Type one of the recovery codes you saved/);
  const done = await browser.post('/login/code', { with: 'recovery', code: codes[0] ?? '' });
  assert.equal(done.status, 303, textOf(done.body));
  assert.equal((await browser.get('/account')).location, '/setup');
  const setup = await browser.get('/setup');
  assert.match(textOf(setup.body), /Add one to continue/);
  assert.match(textOf(setup.body), /signing out and in again with it also lets you go on/);
  const linked = await makeKeyAt(browser, '/setup/security-keys', new SoftAuthenticator());
  assert.equal(linked.status, 303, textOf(linked.body));
  assert.equal((await browser.get('/account')).status, 200);
});

test('with both allowed (the default), nothing changes: an app code signs in without being held', async (t) => {
  const world = await buildWorld(t);
  const org = await makeOrganisation(world);
  const person = await makeUser(world, org);
  const browser = await signedIn(world, person.email, await linkDevice(world, org, person.id));
  const page: Page = await browser.get('/account');
  assert.equal(page.status, 200);
});
