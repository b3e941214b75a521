// Security keys and passkeys in Chromium, with its virtual authenticator (the DevTools
// Protocol's WebAuthn domain): the browser itself makes and uses the keys, through
// Twofold's pages and scripts, as a person's laptop or YubiKey would. Twofold is named
// `localhost` in its public URL (browsers refuse WebAuthn on an IP address), so its
// relying party is `localhost`. Last, the organisation's "keys only" choice (issue 10): a
// super admin makes it, and a person with only an app is led to add a passkey.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import { after, before, describe, test, type TestContext } from 'node:test';
import type { Browser, CDPSession, Page } from 'playwright-core';
import { tenantFor } from '../../src/store/tenant.js';
import { linkDevice, makeOrganisation, makeUser, serveWorld, type ServedWorld } from '../helpers/app.js';
import { reservePort } from '../helpers/ports.js';
import {
  andWait,
  enterCode,
  flash,
  follow,
  heading,
  keepRecoveryCodes,
  launchBrowser,
  nextCode,
  pathOf,
  personIn,
  press,
  SCENARIO_TIMEOUT_MS,
  SCREENSHOTS,
  screenshotOf,
  signIn,
  signInWithCode,
  signOut,
  textOf,
  VIEWPORTS,
  visit,
} from './support.js';

const ORG = 'Acme Rail';
/** Past the 10 minutes after signing in in which changes ask nothing more. */
const STEP_UP_LAPSED_MINUTES = 11;

let browser: Browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser.close();
});

/** A person's browser with a virtual authenticator: a platform passkey that verifies the person and needs no touch. */
interface WithAuthenticator {
  page: Page;
  cdp: CDPSession;
  authenticatorId: string;
}

async function browserWithAuthenticator(
  t: TestContext,
  world: ServedWorld,
  options: { javaScript?: boolean; webAuthn?: boolean } = {},
): Promise<WithAuthenticator> {
  const context = await browser.newContext({
    baseURL: world.baseUrl,
    viewport: { width: 1280, height: 900 },
    javaScriptEnabled: options.javaScript ?? true,
  });
  t.after(() => context.close());
  // A browser without WebAuthn: what SimpleWebAuthn's browserSupportsWebAuthn() looks for is gone.
  if (options.webAuthn === false) {
    await context.addInitScript(() => {
      Reflect.deleteProperty(window, 'PublicKeyCredential');
    });
  }
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable', { enableUI: false });
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  return { page, cdp, authenticatorId };
}

async function credentialsOf(person: WithAuthenticator) {
  return (await person.cdp.send('WebAuthn.getCredentials', { authenticatorId: person.authenticatorId })).credentials;
}

type Credential = Awaited<ReturnType<typeof credentialsOf>>[number];

async function onlyCredential(person: WithAuthenticator): Promise<Credential> {
  const credentials = await credentialsOf(person);
  assert.equal(credentials.length, 1, 'one key in the authenticator');
  const [credential] = credentials;
  assert.ok(credential);
  return credential;
}

/**
 * On the step-up page ("Confirm it is you"): the password, then the app's code or the key.
 * Lands where the step-up was for.
 */
async function confirmItIsYou(
  page: Page,
  password: string,
  second: { code: string } | { key: true } | null,
): Promise<void> {
  assert.equal(pathOf(page), '/confirm-identity', await textOf(page, 'main'));
  await page.getByLabel('Password', { exact: true }).fill(password);
  if (second === null) {
    await press(page, 'Confirm');
  } else if ('code' in second) {
    await page.getByLabel('6-digit code').fill(second.code);
    await press(page, 'Confirm');
  } else {
    await press(page, 'Confirm with your security key or passkey');
  }
}

/** On the 2FA page: "Add a security key or passkey", named, made by the browser's authenticator. */
async function addKeyOnPage(page: Page, name: string): Promise<void> {
  assert.equal(await heading(page), 'Add a security key or passkey', await textOf(page, 'main'));
  await page.getByLabel('Name', { exact: true }).fill(name);
  await press(page, 'Add the key');
}

/** At the key step of a sign-in: the button, the authenticator answers, the form posts itself. */
async function useKey(page: Page): Promise<void> {
  const said = await textOf(page, 'main');
  assert.equal(await heading(page), 'Use your security key', said);
  // Where the browser can use a key, the script turns the button on and says how.
  assert.match(said, /Press the button, then follow your browser’s prompt\./, said);
  await press(page, 'Use your security key or passkey');
}

/**
 * The key's answer to the challenge on Twofold's key step (open in `page`), made by a page
 * at `url` that asks the browser itself, with `rpId` (Twofold's own unless given). The same
 * tab goes there (the virtual authenticator belongs to it) and comes back to the key step,
 * whose earlier challenge is still open.
 */
async function answerMadeAt(page: Page, url: string, rpId?: string): Promise<string> {
  const options = await page.locator('form[data-security-key]').getAttribute('data-options');
  assert.ok(options !== null, 'no key options on the page');
  await page.goto(url);
  const answer = await page.evaluate(
    async ({ json, rpId }) => {
      const o = JSON.parse(json) as { challenge: string; rpId: string; allowCredentials: { id: string }[] };
      const bytes = (b64url: string) =>
        Uint8Array.from(atob(b64url.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
      const text = (buffer: ArrayBuffer) =>
        btoa(String.fromCharCode(...new Uint8Array(buffer)))
          .replace(/\+/g, '-')
          .replace(/\//g, '_')
          .replace(/=+$/, '');
      const credential = (await navigator.credentials.get({
        publicKey: {
          challenge: bytes(o.challenge),
          rpId: rpId ?? o.rpId,
          allowCredentials: o.allowCredentials.map((c) => ({ type: 'public-key' as const, id: bytes(c.id) })),
          userVerification: 'preferred',
          timeout: 20_000,
        },
      })) as PublicKeyCredential;
      const response = credential.response as AuthenticatorAssertionResponse;
      return JSON.stringify({
        id: credential.id,
        rawId: credential.id,
        type: 'public-key',
        response: {
          clientDataJSON: text(response.clientDataJSON),
          authenticatorData: text(response.authenticatorData),
          signature: text(response.signature),
        },
        clientExtensionResults: {},
      });
    },
    { json: options, rpId },
  );
  await visit(page, '/login/code');
  assert.equal(await heading(page), 'Use your security key');
  return answer;
}

/** What the browser wrote into an answer's client data: the origin that asked, and for what. */
function whatWasSigned(answer: string): { origin: string; type: string } {
  const { response } = JSON.parse(answer) as { response: { clientDataJSON: string } };
  const data = JSON.parse(Buffer.from(response.clientDataJSON, 'base64url').toString('utf8')) as {
    origin: string;
    type: string;
  };
  return { origin: data.origin, type: data.type };
}

/** Posts `answer` through Twofold's own key form (with its token), as a relay would; Twofold must refuse it plainly. */
async function relayToTwofold(page: Page, answer: string): Promise<void> {
  const answered = page.waitForResponse((r) => r.url().endsWith('/login/code') && r.request().method() === 'POST');
  await andWait(page, () =>
    page.evaluate((value) => {
      const form = document.querySelector<HTMLFormElement>('form[data-security-key]');
      const field = form?.querySelector<HTMLInputElement>('input[name="answer"]');
      if (!form || !field) throw new Error('no key form');
      field.value = value;
      form.submit();
    }, answer),
  );
  assert.equal((await answered).status(), 400);
  assert.equal(pathOf(page), '/login/code');
  assert.match(
    await textOf(page, '.error'),
    /That key or passkey is not one linked to your account, or its answer was not for this page/,
  );
}

async function auditActions(world: ServedWorld, action: string): Promise<number> {
  const rows = await world.db.selectFrom('audit_events').select('action').where('action', '=', action).execute();
  return rows.length;
}

async function signInMethods(world: ServedWorld, userId: string): Promise<(string | null)[]> {
  const rows = await world.db
    .selectFrom('sessions')
    .select(['second_factor_method'])
    .where('user_id', '=', userId)
    .where('stage', '=', 'signed_in')
    .execute();
  return rows.map((r) => r.second_factor_method);
}

/** A person with an authenticator app (seeded), signed in with it, who adds a passkey on the 2FA page. */
async function personWithPasskey(t: TestContext, world: ServedWorld, email = 'ben@acme.test') {
  const organisationId = await makeOrganisation(world, ORG);
  const user = await makeUser(world, organisationId, { email, name: 'Ben Okafor' });
  const secret = await linkDevice(world, organisationId, user.id, 'Pixel 8');
  const person = await browserWithAuthenticator(t, world);
  const { page } = person;
  await signInWithCode(page, world, user.email, user.password, secret);
  world.clock.advanceMinutes(STEP_UP_LAPSED_MINUTES);
  await visitTwoFactor(page);
  await follow(page, 'Add a security key or passkey');
  // Adding a key changes how the account is protected: password and code first.
  await confirmItIsYou(page, user.password, { code: nextCode(world, secret) });
  await addKeyOnPage(page, 'Passkey on my laptop');
  return { organisationId, user, secret, person, tenant: tenantFor(world.db, organisationId) };
}

async function visitTwoFactor(page: Page): Promise<void> {
  await follow(page, 'Two-Factor Authentication (2FA)');
  assert.equal(pathOf(page), '/2fa');
}

describe('security keys and passkeys in Chromium', () => {
  test(
    'a person signed in with an app code adds a passkey after confirming it is them, and signs in with it',
    { timeout: SCENARIO_TIMEOUT_MS },
    async (t) => {
      const world = await serveWorld(t, { hostName: 'localhost' });
      const { user, person, tenant } = await personWithPasskey(t, world);
      const { page } = person;
      // A second device brings no recovery codes: straight back to the 2FA page, the key listed.
      assert.equal(pathOf(page), '/2fa', await textOf(page, 'main'));
      assert.match(await flash(page), /Passkey on my laptop/);
      const rows = await page.locator('table tbody tr').allInnerTexts();
      assert.ok(
        rows.some((row) => /Passkey on my laptop/.test(row) && /Security key or passkey/.test(row)),
        rows.join(' | '),
      );
      const credential = await onlyCredential(person);
      assert.equal(credential.rpId, 'localhost');
      const stored = await tenant.devices.securityKeys(user.id);
      assert.deepEqual(
        stored.map((k) => k.credentialId),
        [Buffer.from(credential.credentialId, 'base64').toString('base64url')],
        'the key Twofold linked is the one in the authenticator',
      );

      await signOut(page);
      await signIn(page, user.email, user.password);
      assert.equal(pathOf(page), '/login/code');
      // The key is offered first, with the other ways as links.
      const step = await textOf(page, 'main');
      assert.match(step, /Use a code from your authenticator app instead/);
      assert.match(step, /Use a recovery code instead/);
      await useKey(page);
      assert.equal(pathOf(page), '/account', await textOf(page, 'main'));
      assert.equal(await heading(page), 'Welcome, Ben Okafor');
      assert.ok((await onlyCredential(person)).signCount > 0, 'the virtual authenticator counts its uses');
      assert.ok((await signInMethods(world, user.id)).includes('hwk'), 'the session records a device-bound key');
      await visitTwoFactor(page);
      assert.match(await textOf(page, 'table'), /Passkey on my laptop/);
    },
  );

  test(
    'a first passkey brings recovery codes; one signs in, saying how many are left; a new set voids the old',
    { timeout: SCENARIO_TIMEOUT_MS },
    async (t) => {
      const world = await serveWorld(t, { hostName: 'localhost' });
      const organisationId = await makeOrganisation(world, ORG);
      const user = await makeUser(world, organisationId, { email: 'cleo@acme.test', name: 'Cleo Park' });
      const person = await browserWithAuthenticator(t, world);
      const { page } = person;
      // No device yet and 2FA not required: the password alone signs in, and confirms it is her.
      await signIn(page, user.email, user.password);
      assert.equal(pathOf(page), '/account');
      world.clock.advanceMinutes(STEP_UP_LAPSED_MINUTES);
      await visitTwoFactor(page);
      await follow(page, 'Add a security key or passkey');
      await confirmItIsYou(page, user.password, null);
      await addKeyOnPage(page, 'Phone passkey');
      const first = await keepRecoveryCodes(page);
      assert.match(first.lead, /Phone passkey/);
      assert.equal(pathOf(page), '/2fa');

      // A recovery code instead of the key.
      await signOut(page);
      await signIn(page, user.email, user.password);
      assert.equal(await heading(page), 'Use your security key');
      await follow(page, 'Use a recovery code instead');
      assert.equal(await heading(page), 'Enter a recovery code');
      await page.getByLabel('Recovery code').fill((first.codes[0] ?? '').toUpperCase().replace(/-/g, ' '));
      await press(page, 'Verify');
      assert.equal(pathOf(page), '/account', await textOf(page, 'main'));
      assert.equal(
        await flash(page),
        'You signed in with a recovery code; 9 are left. Check that your devices still work.',
      );

      // A new set, after confirming with password and key; the old codes stop working.
      world.clock.advanceMinutes(STEP_UP_LAPSED_MINUTES);
      await visitTwoFactor(page);
      await follow(page, 'Recovery codes');
      await press(page, 'Generate new recovery codes');
      await confirmItIsYou(page, user.password, { key: true });
      assert.equal(pathOf(page), '/2fa/recovery-codes', await textOf(page, 'main'));
      await press(page, 'Generate new recovery codes');
      const second = await keepRecoveryCodes(page);
      assert.match(second.lead, /no longer work/);
      assert.equal(second.codes.filter((code) => first.codes.includes(code)).length, 0);

      await signOut(page);
      await signIn(page, user.email, user.password);
      await follow(page, 'Use a recovery code instead');
      await page.getByLabel('Recovery code').fill(first.codes[1] ?? '');
      await press(page, 'Verify');
      assert.equal(pathOf(page), '/login/code', 'a code of the old set is refused');
      assert.match(await textOf(page, '.error'), /not right|not one of/i);
      await page.getByLabel('Recovery code').fill(second.codes[0] ?? '');
      await press(page, 'Verify');
      assert.equal(pathOf(page), '/account', await textOf(page, 'main'));
      assert.match(await flash(page), /9 are left/);
    },
  );

  test(
    'a copy of the key whose counter went backwards is refused and audited as a possible copy',
    { timeout: SCENARIO_TIMEOUT_MS },
    async (t) => {
      const world = await serveWorld(t, { hostName: 'localhost' });
      const { user, person, tenant } = await personWithPasskey(t, world);
      const { page } = person;
      // Two sign-ins with the key: Twofold now holds a counter above 1.
      for (let i = 0; i < 2; i += 1) {
        await signOut(page);
        await signIn(page, user.email, user.password);
        await useKey(page);
        assert.equal(pathOf(page), '/account', await textOf(page, 'main'));
      }
      const original = await onlyCredential(person);
      const [stored] = await tenant.devices.securityKeys(user.id);
      assert.ok(stored !== undefined && stored.signCount >= 2, `stored counter ${stored?.signCount}`);
      assert.equal(stored.signCount, original.signCount, 'Twofold stored what the key counted');

      // The copy: the same key pair, made before those uses, with its counter at 0.
      await person.cdp.send('WebAuthn.removeCredential', {
        authenticatorId: person.authenticatorId,
        credentialId: original.credentialId,
      });
      await person.cdp.send('WebAuthn.addCredential', {
        authenticatorId: person.authenticatorId,
        credential: { ...original, signCount: 0 },
      });
      await signOut(page);
      await signIn(page, user.email, user.password);
      await useKey(page);
      assert.equal(pathOf(page), '/login/code');
      assert.match(await textOf(page, '.error'), /counter went backwards, as a copy of the key would do/);
      assert.equal((await onlyCredential(person)).signCount, 1, 'the copy signed with counter 1');
      assert.equal(await auditActions(world, 'security_key_possible_clone'), 1);
      assert.equal((await tenant.users.codeAttemptsOf(user.id)).failures, 1, 'counted as a wrong attempt');
      const [after] = await tenant.devices.securityKeys(user.id);
      assert.equal(after?.signCount, stored.signCount, 'the stored counter is unchanged');
    },
  );

  test(
    'answers the key gave another origin, or another relying party with the same key pair, are refused with a plain sentence',
    { timeout: SCENARIO_TIMEOUT_MS },
    async (t) => {
      const world = await serveWorld(t, { hostName: 'localhost' });
      const { user, person, tenant } = await personWithPasskey(t, world);
      const { page } = person;
      await signOut(page);
      // A look-alike sign-in page elsewhere, relaying Twofold's challenge as a phishing proxy does.
      const port = await reservePort();
      const phishing = createServer((_request, response) => {
        response.writeHead(200, { 'content-type': 'text/html' });
        response.end('<!doctype html><title>Sign in</title><h1>Sign in</h1>');
      });
      await new Promise<void>((resolve) => phishing.listen(port, '127.0.0.1', resolve));
      t.after(() => new Promise<void>((resolve) => phishing.close(() => resolve())));
      await signIn(page, user.email, user.password);

      // 1. Another origin of the same host: the browser lets it use the key (the relying party
      // `localhost` is its host too) and writes its own origin into the answer.
      const sameRp = await answerMadeAt(page, `http://localhost:${port}/`);
      assert.deepEqual(whatWasSigned(sameRp), { origin: `http://localhost:${port}`, type: 'webauthn.get' });
      await relayToTwofold(page, sameRp);

      // 2. Another relying party: the key's credential, with the very same id and private
      // key, is for `tw0fold.localhost`, and that site asks for it.
      const original = await onlyCredential(person);
      const holding = async (credential: typeof original) => {
        const [held] = await credentialsOf(person);
        if (held !== undefined) {
          await person.cdp.send('WebAuthn.removeCredential', {
            authenticatorId: person.authenticatorId,
            credentialId: held.credentialId,
          });
        }
        await person.cdp.send('WebAuthn.addCredential', { authenticatorId: person.authenticatorId, credential });
      };
      await holding({ ...original, rpId: 'tw0fold.localhost' });
      const otherRp = await answerMadeAt(page, `http://tw0fold.localhost:${port}/`, 'tw0fold.localhost');
      assert.equal(whatWasSigned(otherRp).origin, `http://tw0fold.localhost:${port}`);
      await relayToTwofold(page, otherRp);
      await holding(original);

      assert.equal((await tenant.users.codeAttemptsOf(user.id)).failures, 2, 'each counted as a wrong attempt');
      // Past the wait that two wrong attempts start, the same key asked by Twofold's own page signs in.
      world.clock.advanceMinutes(1);
      await visit(page, '/login/code');
      await useKey(page);
      assert.equal(pathOf(page), '/account', await textOf(page, 'main'));
    },
  );

  test(
    'a browser without WebAuthn, or without JavaScript, is told so and signs in another way',
    { timeout: SCENARIO_TIMEOUT_MS },
    async (t) => {
      const world = await serveWorld(t, { hostName: 'localhost' });
      const { user, secret } = await personWithPasskey(t, world);
      for (const kind of ['no WebAuthn', 'no JavaScript'] as const) {
        const { page } = await browserWithAuthenticator(
          t,
          world,
          kind === 'no WebAuthn' ? { webAuthn: false } : { javaScript: false },
        );
        await signIn(page, user.email, user.password);
        assert.equal(await heading(page), 'Use your security key', kind);
        const said = await textOf(page, 'main');
        // Nothing asks for a press of a button that does nothing.
        assert.doesNotMatch(said, /press the button/i, kind);
        assert.equal(
          await page.getByRole('button', { name: 'Use your security key or passkey' }).isDisabled(),
          true,
          `${kind}: the button is off`,
        );
        if (kind === 'no WebAuthn') {
          assert.match(said, /This browser cannot use security keys or passkeys\. Use another way below/, kind);
          // What it looks like, for a person to look at: the sentence, the button off, the other ways.
          mkdirSync(SCREENSHOTS, { recursive: true });
          for (const [size, viewport] of Object.entries(VIEWPORTS)) {
            await page.setViewportSize(viewport);
            await screenshotOf(page, page, { path: `${SCREENSHOTS}code-entry-security-key-unsupported-${size}.png` });
          }
        } else {
          assert.match(said, /Security keys and passkeys need JavaScript, which is off in this browser/, kind);
        }
        await follow(page, 'Use a code from your authenticator app instead');
        await enterCode(page, nextCode(world, secret));
        assert.equal(pathOf(page), '/account', `${kind}: ${await textOf(page, 'main')}`);
      }
    },
  );

  test(
    'under "keys only" a person with only an app signs in with it once, is held until they add a passkey, then signs in with the key alone',
    { timeout: SCENARIO_TIMEOUT_MS },
    async (t) => {
      const world = await serveWorld(t, { hostName: 'localhost' });
      const organisationId = await makeOrganisation(world, ORG);
      // The super admin has no device (2FA not required): the change does not hold her.
      const admin = await makeUser(world, organisationId, { email: 'ada@acme.test', name: 'Ada', role: 'super_admin' });
      const ben = await makeUser(world, organisationId, { email: 'ben@acme.test', name: 'Ben Okafor' });
      const secret = await linkDevice(world, organisationId, ben.id, 'Pixel 8');

      const { context, page: adminPage } = await personIn(browser, world);
      t.after(() => context.close());
      await signIn(adminPage, admin.email, admin.password);
      assert.equal(pathOf(adminPage), '/account', await textOf(adminPage, 'main'));
      await follow(adminPage, 'Manage 2FA');
      const keysOnly = adminPage.getByLabel('Security keys and passkeys only (phishing-resistant)');
      assert.equal(await adminPage.getByLabel('Authenticator apps, and security keys and passkeys').isChecked(), true);
      await keysOnly.check();
      await press(adminPage, 'Review the change');
      const preview = await textOf(adminPage, 'main');
      assert.match(
        preview,
        /From Authenticator apps, and security keys and passkeys to Security keys and passkeys only \(phishing-resistant\)\./,
      );
      assert.match(preview, /1 active person has only authenticator apps\. At their next sign-in they use one/);
      assert.match(preview, /0 active people have a security key or passkey and authenticator apps/);
      assert.match(preview, /1 active person has no device yet/);
      assert.doesNotMatch(preview, /You too/);
      assert.equal((await tenantFor(world.db, organisationId).organisation.get()).allowedFactors, 'apps_and_keys');
      await press(adminPage, 'Save: Security keys and passkeys only (phishing-resistant)');
      assert.equal(pathOf(adminPage), '/admin/2fa');
      assert.equal(
        await flash(adminPage),
        'Saved. People may now use: Security keys and passkeys only (phishing-resistant).',
      );
      assert.equal(await keysOnly.isChecked(), true);

      // Ben, with only an app: the code this once, then held at the step that asks for a key.
      const person = await browserWithAuthenticator(t, world);
      const { page } = person;
      await signIn(page, ben.email, ben.password);
      assert.equal(pathOf(page), '/login/code', await textOf(page, 'main'));
      assert.match(
        await textOf(page, 'main'),
        /Sign in with your device this once: you will then be asked to add a security key or passkey/,
      );
      await enterCode(page, nextCode(world, secret));
      assert.equal(pathOf(page), '/setup', await textOf(page, 'main'));
      assert.equal(await heading(page), 'Add a security key or passkey');
      assert.match(await textOf(page, '.lead'), /^Your organisation now accepts only security keys and passkeys/);
      assert.equal(await page.getByLabel('Device name').count(), 0, 'no app can be linked');
      assert.equal(await page.getByRole('navigation', { name: 'Main' }).count(), 0, 'nothing else to go to');
      for (const elsewhere of ['/account', '/2fa']) {
        await visit(page, elsewhere);
        assert.equal(pathOf(page), '/setup', `${elsewhere} leads back to the step`);
      }
      assert.equal(await credentialsOf(person).then((c) => c.length), 0);

      await follow(page, 'Add a security key or passkey');
      assert.equal(pathOf(page), '/setup/security-keys');
      await addKeyOnPage(page, 'Passkey on my laptop');
      // His app was his first device: a key added later brings no recovery codes.
      assert.equal(pathOf(page), '/account', await textOf(page, 'main'));
      assert.equal(await heading(page), 'Welcome, Ben Okafor');
      assert.match(await flash(page), /Passkey on my laptop/);
      assert.equal((await onlyCredential(person)).rpId, 'localhost');

      // Signing in again offers the key alone, and the key signs in.
      await signOut(page);
      await signIn(page, ben.email, ben.password);
      assert.equal(pathOf(page), '/login/code');
      const step = await textOf(page, 'main');
      assert.doesNotMatch(step, /authenticator app/, 'the app is not offered');
      await useKey(page);
      assert.equal(pathOf(page), '/account', await textOf(page, 'main'));
      assert.equal(await heading(page), 'Welcome, Ben Okafor');
      await visitTwoFactor(page);
      assert.match(await textOf(page, 'main'), /an authenticator app cannot be linked/);
      assert.ok((await signInMethods(world, ben.id)).includes('hwk'), 'the session records the key');
    },
  );
});
