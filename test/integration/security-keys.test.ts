// Security keys and passkeys through the real app, with a software authenticator that
// signs as a real one does: linking one (at the setup screen and on the 2FA page), signing
// in and confirming identity with it, replayed and cloned answers, passkeys that keep no
// counter or change their backup flags, answers for another site, and the enforcement
// rules a key counts in like any device.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type {
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
} from '@simplewebauthn/server';
import { resetTwoFactor } from '../../src/services/administration.js';
import { tenantFor } from '../../src/store/tenant.js';
import {
  buildWorld,
  DEFAULT_PUBLIC_URL,
  linkDevice,
  makeOrganisation,
  makeUser,
  PASSWORD,
  type TestWorld,
} from '../helpers/app.js';
import { Browser, recoveryCodesOn, textOf, type Page } from '../helpers/browser.js';
import { fromAddress } from '../helpers/security.js';
import { keyOptionsIn, SoftAuthenticator } from '../helpers/soft-authenticator.js';
import { atCodeStep, nextCode, requireOfUser } from './support.js';

const ORIGIN = new URL(DEFAULT_PUBLIC_URL).origin;
const CLIENT = { ip: '127.0.0.1', userAgent: 'test' };

/** The browser's options a page carries in its form's data-options attribute. */
function optionsOn<T>(page: Page): T {
  const options = keyOptionsIn<T>(page.body);
  assert.ok(options !== null, `no key options on the page: ${textOf(page.body).slice(0, 300)}`);
  return options;
}

/** Links `key` on the 2FA page of a signed-in browser, confirming identity first with the app's code. */
async function linkKeyOnTwoFactorPage(
  world: TestWorld,
  browser: Browser,
  key: SoftAuthenticator,
  secret: Uint8Array,
  name = 'YubiKey',
): Promise<Page> {
  let page = await browser.get('/2fa/security-keys');
  if (page.status === 303 && page.location?.startsWith('/confirm-identity')) {
    await browser.get(page.location);
    const confirmed = await browser.post('/confirm-identity', {
      next: '/2fa/security-keys',
      password: PASSWORD,
      code: nextCode(world, secret),
    });
    assert.equal(confirmed.status, 303, textOf(confirmed.body));
    page = await browser.get('/2fa/security-keys');
  }
  assert.equal(page.status, 200, textOf(page.body));
  assert.match(String(page.headers['content-security-policy'] ?? ''), /script-src 'self'/);
  const answer = key.create(optionsOn<PublicKeyCredentialCreationOptionsJSON>(page), { origin: ORIGIN });
  return browser.post('/2fa/security-keys', { name, answer: JSON.stringify(answer) });
}

/** A member with an authenticator app, signed in, who links `key`. */
async function personWithKey(world: TestWorld, key = new SoftAuthenticator()) {
  const org = await makeOrganisation(world);
  const user = await makeUser(world, org);
  const secret = await linkDevice(world, org, user.id);
  const browser = await atCodeStep(world, user.email);
  const signedIn = await browser.post('/login/code', { with: 'app', code: nextCode(world, secret) });
  assert.equal(signedIn.location, '/account', textOf(signedIn.body));
  const linked = await linkKeyOnTwoFactorPage(world, browser, key, secret);
  assert.equal(linked.status, 303, textOf(linked.body));
  assert.equal(linked.location, '/2fa');
  return { org, user, secret, key, tenant: tenantFor(world.db, org) };
}

/** A pending sign-in at the key step, and the answer `key` gives to its challenge. */
async function keyStep(
  world: TestWorld,
  email: string,
  key: SoftAuthenticator,
  ip = '203.0.113.10',
  at = { origin: ORIGIN },
) {
  const browser = await atCodeStep(world, email, ip);
  const page = await browser.get('/login/code');
  assert.equal(page.status, 200);
  assert.match(page.body, /Use your security key or passkey/);
  const options = optionsOn<PublicKeyCredentialRequestOptionsJSON>(page);
  return { browser, page, options, answer: JSON.stringify(key.get(options, at)) };
}

const sessionMethods = async (world: TestWorld) =>
  (await world.db.selectFrom('sessions').select(['stage', 'second_factor_method']).execute()).filter(
    (row) => row.stage === 'signed_in',
  );

test('a key linked on the 2FA page is listed beside the app, and the code step then offers it first', async (t) => {
  const world = await buildWorld(t);
  const { user, tenant, key } = await personWithKey(world);
  const devices = await tenant.devices.listForUser(user.id);
  assert.deepEqual(
    devices.map((d) => [d.name, d.kind, d.confirmedAt !== null]),
    [
      ['Phone', 'totp', true],
      ['YubiKey', 'webauthn', true],
    ],
  );
  const stored = await world.db
    .selectFrom('devices')
    .select(['sealed_secret', 'credential_id'])
    .where('kind', '=', 'webauthn')
    .executeTakeFirstOrThrow();
  assert.equal(stored.credential_id, key.id);
  assert.doesNotMatch(stored.sealed_secret, /^pQEC/, 'the public key is sealed, not stored as it is');

  const { browser, page, answer } = await keyStep(world, user.email, key);
  assert.match(page.body, /Use a code from your authenticator app instead/);
  assert.match(page.body, /<script src="\/static\/security-key.js"><\/script>/);
  const signedIn = await browser.post('/login/code', { with: 'key', answer });
  assert.equal(signedIn.location, '/account', textOf(signedIn.body));
  assert.deepEqual(
    (await sessionMethods(world)).map((s) => s.second_factor_method).sort(),
    ['hwk', 'hwk'],
    'the first session signed in with an app code, then made the key (which takes the key); the second used the key',
  );
  const twoFactorPage = await browser.get('/2fa');
  assert.match(textOf(twoFactorPage.body), /YubiKey Security key or passkey/);
  const script = await browser.get('/static/security-key.js');
  assert.equal(script.status, 200);
  const library = await browser.get('/static/simplewebauthn-browser.js');
  assert.match(library.body, /SimpleWebAuthnBrowser/);
  const other = await browser.get('/account');
  assert.match(
    String(other.headers['content-security-policy'] ?? ''),
    /script-src 'none'/,
    'other pages run no script',
  );
});

test('an answer is accepted once: sent again it is refused, and 12 copies at once sign in exactly one', async (t) => {
  const world = await buildWorld(t);
  const { user, tenant, key } = await personWithKey(world);
  const { browser, answer } = await keyStep(world, user.email, key);
  assert.equal((await browser.post('/login/code', { with: 'key', answer })).location, '/account');
  const again = await atCodeStep(world, user.email, '198.51.100.1');
  const replayed = await again.post('/login/code', { with: 'key', answer });
  assert.equal(replayed.status, 400);
  assert.match(textOf(replayed.body), /That key or passkey is not one linked|already used/);

  const copies = 12;
  const step = await keyStep(world, user.email, key);
  const browsers = await Promise.all(
    Array.from({ length: copies }, async (_, i) => {
      const b = new Browser(world.app, fromAddress(`198.51.100.${i + 10}`));
      await b.get('/login');
      await b.post('/login', { email: user.email, password: PASSWORD });
      return b;
    }),
  );
  const answers = await Promise.all(
    [step.browser, ...browsers].map((b) => b.post('/login/code', { with: 'key', answer: step.answer })),
  );
  const signedIn = answers.filter((a) => a.status === 303 && a.location === '/account');
  t.diagnostic(`security key replay: ${signedIn.length} of ${copies + 1} simultaneous submissions signed in`);
  assert.equal(signedIn.length, 1);
  const counted = await tenant.users.codeAttemptsOf(user.id);
  assert.ok(counted.failures <= copies, 'copies of a right answer are not a lock-out');
});

test('a counter that goes backwards is refused and recorded as a possible copy of the key', async (t) => {
  const world = await buildWorld(t);
  const { user, tenant, key } = await personWithKey(world);
  const first = await keyStep(world, user.email, key);
  assert.equal((await first.browser.post('/login/code', { with: 'key', answer: first.answer })).location, '/account');
  key.signCount = 0; // a copy of the key, made before that use
  const copy = await keyStep(world, user.email, key);
  const refused = await copy.browser.post('/login/code', { with: 'key', answer: copy.answer });
  assert.equal(refused.status, 400);
  assert.match(textOf(refused.body), /counter went backwards/);
  const clones = await world.db
    .selectFrom('audit_events')
    .select('action')
    .where('action', '=', 'security_key_possible_clone')
    .execute();
  assert.equal(clones.length, 1, 'audited as a possible clone');
  assert.equal((await tenant.users.codeAttemptsOf(user.id)).failures, 1, 'counted as a wrong attempt');
});

test('a passkey that keeps no counter, and whose backup flags change after syncing, signs in every time', async (t) => {
  const world = await buildWorld(t);
  const key = new SoftAuthenticator({ counter: 'none' });
  const { user } = await personWithKey(world, key);
  for (let i = 0; i < 3; i += 1) {
    if (i === 2) key.backedUp = true; // synced to the person's other devices
    const step = await keyStep(world, user.email, key, `198.51.100.${i + 1}`);
    const answer = await step.browser.post('/login/code', { with: 'key', answer: step.answer });
    assert.equal(answer.location, '/account', `use ${i + 1}: ${textOf(answer.body)}`);
  }
  const methods = (await sessionMethods(world)).map((s) => s.second_factor_method);
  assert.ok(methods.includes('swk'), 'a synced passkey is a software key');
});

test('an answer made for another site or relying party is refused and counted', async (t) => {
  const world = await buildWorld(t);
  const { user, tenant, key } = await personWithKey(world);
  for (const at of [{ origin: 'https://tw0fold.example' }, { origin: ORIGIN, rpId: 'tw0fold.example' }]) {
    const step = await keyStep(world, user.email, key, '203.0.113.10', at);
    const refused = await step.browser.post('/login/code', { with: 'key', answer: step.answer });
    assert.equal(refused.status, 400, JSON.stringify(at));
    assert.match(textOf(refused.body), /not one linked to your account, or its answer was not for this page/);
  }
  assert.equal((await tenant.users.codeAttemptsOf(user.id)).failures, 2);
});

test('whatever the answer field holds, the answer is a plain 400 and nothing is counted', async (t) => {
  const world = await buildWorld(t);
  const { user, tenant } = await personWithKey(world);
  const browser = await atCodeStep(world, user.email);
  for (const answer of [
    '',
    'not json',
    '{}',
    '[]',
    'null',
    '{"type":"public-key"}',
    '{'.repeat(5000),
    JSON.stringify({
      id: 'x',
      rawId: 'x',
      type: 'public-key',
      response: { clientDataJSON: '!!', authenticatorData: '??', signature: '' },
    }),
  ]) {
    const answered = await browser.post('/login/code', { with: 'key', answer });
    assert.equal(answered.status, 400, answer.slice(0, 40));
  }
  const tooLong = await browser.post('/login/code', { with: 'key', answer: 'x'.repeat(13_000) });
  assert.equal(tooLong.status, 400);
  assert.ok((await tenant.users.codeAttemptsOf(user.id)).failures <= 1, 'unreadable answers are no guesses');
});

test('a person required to use 2FA can set up with only a key, is enrolled by it, confirms identity with it, and an admin reset removes it', async (t) => {
  const world = await buildWorld(t);
  const org = await makeOrganisation(world);
  const user = await makeUser(world, org);
  await requireOfUser(world, org, user.id);
  const tenant = tenantFor(world.db, org);
  const key = new SoftAuthenticator();
  const browser = new Browser(world.app);
  await browser.get('/login');
  const afterPassword = await browser.post('/login', { email: user.email, password: PASSWORD });
  assert.equal(afterPassword.location, '/setup', textOf(afterPassword.body));
  const setup = await browser.get('/setup');
  assert.match(setup.body, /href="\/setup\/security-keys"/);
  const page = await browser.get('/setup/security-keys');
  assert.equal(page.status, 200, textOf(page.body));
  const answer = key.create(optionsOn<PublicKeyCredentialCreationOptionsJSON>(page), { origin: ORIGIN });
  const linked = await browser.post('/setup/security-keys', { name: 'Laptop passkey', answer: JSON.stringify(answer) });
  // A first device, a key too, comes with the recovery codes, shown once on the way on.
  const shown = recoveryCodesOn(linked);
  assert.ok(shown !== null, textOf(linked.body));
  assert.equal(shown.codes.length, 10);
  assert.equal(shown.continueTo, '/account');
  assert.equal(await tenant.devices.countConfirmed(user.id), 1);

  // Step-up with the key alone: no code field, the key's button.
  const confirm = await browser.get('/confirm-identity?next=/2fa');
  assert.doesNotMatch(confirm.body, /name="code"/);
  const stepUp = key.get(optionsOn<PublicKeyCredentialRequestOptionsJSON>(confirm), { origin: ORIGIN });
  const confirmed = await browser.post('/confirm-identity', {
    next: '/2fa',
    password: PASSWORD,
    answer: JSON.stringify(stepUp),
  });
  assert.equal(confirmed.location, '/2fa', textOf(confirmed.body));

  // The last key of a person who must use 2FA stays.
  const [device] = await tenant.devices.listForUser(user.id);
  assert.ok(device);
  const removal = await browser.get(`/2fa/devices/${device.id}/remove`);
  assert.match(textOf(removal.body), /cannot be removed/);

  const found = await tenant.users.findById(user.id);
  assert.ok(found);
  await resetTwoFactor(world.deps, tenant, { actor: null, client: CLIENT }, found);
  assert.equal(await tenant.devices.countConfirmed(user.id), 0);
});

test('a key answer made for one challenge is refused as a new key, and a key is linked once', async (t) => {
  const world = await buildWorld(t);
  const { user, secret, key } = await personWithKey(world);
  const browser = await atCodeStep(world, user.email);
  const step = await browser.get('/login/code');
  const signedIn = await browser.post('/login/code', {
    with: 'key',
    answer: JSON.stringify(key.get(optionsOn<PublicKeyCredentialRequestOptionsJSON>(step), { origin: ORIGIN })),
  });
  assert.equal(signedIn.location, '/account');
  const again = await linkKeyOnTwoFactorPage(world, browser, key, secret, 'Same key');
  assert.equal(again.status, 400);
  assert.match(textOf(again.body), /already linked/);
  const noAnswer = await browser.post('/2fa/security-keys', { name: 'Nothing', answer: '' });
  assert.equal(noAnswer.status, 400);
  assert.match(textOf(noAnswer.body), /No security key or passkey was made/);
});
