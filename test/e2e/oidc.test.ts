// Signing in to an application with Twofold, in Chromium: a demo application
// (demo-relying-party.ts, another site than Twofold's) sends the person to Twofold, who
// signs in on Twofold's own pages and comes back signed in; or is held at the setup screen
// first; or is told they have no access. The clock starts at the real time, since the
// application checks the tokens' times against it. Screenshots of Twofold's pages on the
// way go to test-results/screenshots/oidc-*.png.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { after, before, describe, test, type TestContext } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { ACR_TWO_FACTOR } from '../../src/domain/sign-in-for-applications.js';
import { codeAt } from '../../src/domain/totp.js';
import { createApplication } from '../../src/services/applications.js';
import { tenantFor } from '../../src/store/tenant.js';
import { frozenClock, linkDevice, makeOrganisation, makeUser, serveWorld, type ServedWorld } from '../helpers/app.js';
import { DEMO_NAME, serveDemoRelyingParty, type DemoRelyingParty } from './demo-relying-party.js';
import {
  assertQrDescribes,
  enterCode,
  flash,
  follow,
  heading,
  keepRecoveryCodes,
  launchBrowser,
  pathOf,
  personIn,
  press,
  readSecretAndQr,
  screenshotOf,
  SCREENSHOTS,
  textOf,
  VIEWPORTS,
} from './support.js';

/** Each scenario takes a few seconds; this bounds a hung one. */
const TIMEOUT_MS = 120_000;

let browser: Browser;
before(async () => {
  browser = await launchBrowser();
  mkdirSync(SCREENSHOTS, { recursive: true });
});
after(async () => {
  await browser.close();
});

/** A world whose clock starts now, with the demo application registered in `Acme Rail`. */
async function worldWithDemo(t: TestContext, options: { requireTwoFactor?: boolean } = {}) {
  const world = await serveWorld(t, { clock: frozenClock(new Date()) });
  const organisationId = await makeOrganisation(world, 'Acme Rail');
  const demo = await serveDemoRelyingParty(t, world.baseUrl, async (redirectUri) => {
    const created = await createApplication(
      world.deps,
      tenantFor(world.db, organisationId),
      { actor: null, client: null },
      {
        name: DEMO_NAME,
        redirectUris: [redirectUri],
        postLogoutRedirectUris: [],
        requireTwoFactor: options.requireTwoFactor ?? false,
      },
    );
    assert.ok(created.ok);
    return { clientId: created.application.id, clientSecret: created.clientSecret };
  });
  return { world, organisationId, demo };
}

interface Person {
  page: Page;
  /** What Chromium refused under the Content-Security-Policy, as it says in the console. */
  refusals: string[];
}

async function personAt(t: TestContext, world: ServedWorld): Promise<Person> {
  const { context, page } = await personIn(browser, world);
  t.after(() => context.close());
  const refusals: string[] = [];
  page.on('console', (line) => {
    if (/Content Security Policy/i.test(line.text())) refusals.push(line.text());
  });
  return { page, refusals };
}

async function screenshots(page: Page, name: string): Promise<void> {
  for (const [size, viewport] of Object.entries(VIEWPORTS)) {
    await page.setViewportSize(viewport);
    await screenshotOf(page, page, { path: `${SCREENSHOTS}oidc-${name}-${size}.png`, fullPage: true });
  }
  await page.setViewportSize(VIEWPORTS.desktop);
}

/** The demo's "Sign in with Twofold": Twofold's sign-in page, saying what for. */
async function startAtTheDemo(page: Page, demo: DemoRelyingParty): Promise<void> {
  await page.goto(demo.url);
  assert.equal(await heading(page), DEMO_NAME);
  assert.match(await textOf(page, 'main'), /You are not signed in\./);
  await follow(page, 'Sign in with Twofold');
  assert.equal(pathOf(page), '/login', await textOf(page, 'main'));
  assert.equal(await flash(page), `Sign in to continue to ${DEMO_NAME}.`);
}

async function givePassword(page: Page, email: string, password: string): Promise<void> {
  await page.getByLabel('Email address').fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await press(page, 'Sign in');
}

/** Waits for the way back (the continue page moves on by itself) to end at the demo's start page. */
async function backAtTheDemo(page: Page, demo: DemoRelyingParty): Promise<{ sub: string; email: string; acr: string }> {
  await page.waitForURL(`${demo.url}/`);
  assert.equal(await heading(page), DEMO_NAME);
  assert.match(await textOf(page, 'main'), /You are signed in\./);
  return { sub: await textOf(page, '#sub'), email: await textOf(page, '#email'), acr: await textOf(page, '#acr') };
}

describe('signing in to an application with Twofold, in Chromium', () => {
  test(
    'a person with a device gives password and code on Twofold and comes back signed in with 2FA',
    { timeout: TIMEOUT_MS },
    async (t) => {
      const { world, organisationId, demo } = await worldWithDemo(t);
      const ada = await makeUser(world, organisationId, { email: 'ada@acme.test', name: 'Ada Lovelace' });
      const secret = await linkDevice(world, organisationId, ada.id);
      const { page, refusals } = await personAt(t, world);

      await startAtTheDemo(page, demo);
      await screenshots(page, 'login');
      await givePassword(page, ada.email, ada.password);
      assert.equal(pathOf(page), '/login/code', await textOf(page, 'main'));
      await screenshots(page, 'code');
      await enterCode(page, codeAt(secret, world.clock.now()));

      // The code's form post ends at the continue page; from there, by itself, to the demo.
      const signedIn = await backAtTheDemo(page, demo);
      assert.deepEqual(signedIn, { sub: ada.id, email: ada.email, acr: ACR_TWO_FACTOR });
      await screenshots(page, 'demo-signed-in');

      // Signed in to Twofold already: the demo's next sign-in needs nothing more of her.
      await follow(page, 'Sign in with Twofold');
      assert.deepEqual(await backAtTheDemo(page, demo), signedIn);
      assert.deepEqual(refusals, [], 'Chromium refused something under the Content-Security-Policy');
    },
  );

  test(
    'for an application that requires 2FA, a person without a device is held at the setup screen, links one and is sent back',
    { timeout: TIMEOUT_MS },
    async (t) => {
      const { world, organisationId, demo } = await worldWithDemo(t, { requireTwoFactor: true });
      const dayAgo = new Date(world.clock.now().getTime() - 24 * 3600_000);
      assert.ok(await tenantFor(world.db, organisationId).organisation.setRequireAllFrom(dayAgo, world.clock.now()));
      const ben = await makeUser(world, organisationId, { email: 'ben@acme.test', name: 'Ben Okafor' });
      const { page, refusals } = await personAt(t, world);

      await startAtTheDemo(page, demo);
      await givePassword(page, ben.email, ben.password);
      assert.equal(pathOf(page), '/setup', await textOf(page, 'main'));
      assert.equal(await heading(page), 'Set up two-factor authentication');
      assert.equal(await page.getByRole('navigation', { name: 'Main' }).count(), 0, 'nothing else to go to');
      await screenshots(page, 'setup');

      await page.getByLabel('Device name').fill('Pixel 8');
      await press(page, 'Add');
      assert.equal(await heading(page), 'Link Pixel 8');
      const shown = await readSecretAndQr(page);
      assertQrDescribes(shown, 'Acme Rail', ben.email);
      await screenshots(page, 'setup-confirm-qr');

      // The first device's recovery codes, shown once; kept, the person continues to the
      // application. Held on the continue page to look at it (its move onwards answered
      // 204, which leaves a page where it is), then onwards by its link.
      const resume = (url: URL) => /^\/oidc\/auth\/[^/]+$/.test(url.pathname);
      await page.route(resume, (route) => route.fulfill({ status: 204 }));
      await enterCode(page, codeAt(shown.secret, world.clock.now()));
      assert.equal(await heading(page), 'Your recovery codes');
      await screenshots(page, 'setup-recovery-codes');
      const { lead } = await keepRecoveryCodes(page);
      assert.match(lead, /^Pixel 8 is linked and you are signed in\./);
      assert.match(pathOf(page), /^\/oidc\/interaction\//);
      assert.equal(await heading(page), `Continue to ${DEMO_NAME}`);
      assert.equal(
        await page.locator('meta[http-equiv="refresh"]').getAttribute('content'),
        `0;url=${await page.getByRole('link', { name: `Continue to ${DEMO_NAME}` }).getAttribute('href')}`,
      );
      await screenshots(page, 'continue');
      await page.unroute(resume);
      await page.getByRole('link', { name: `Continue to ${DEMO_NAME}` }).click();

      const signedIn = await backAtTheDemo(page, demo);
      assert.deepEqual(signedIn, { sub: ben.id, email: ben.email, acr: ACR_TWO_FACTOR });
      assert.equal(await tenantFor(world.db, organisationId).devices.countConfirmed(ben.id), 1);
      assert.deepEqual(refusals, [], 'Chromium refused something under the Content-Security-Policy');
    },
  );

  test('a person of another organisation is told they have no access, and the demo signs no one in', async (t) => {
    const { world, demo } = await worldWithDemo(t);
    const otherOrganisation = await makeOrganisation(world, 'Beta Freight');
    const cleo = await makeUser(world, otherOrganisation, { email: 'cleo@beta.test', name: 'Cleo Park' });
    const { page, refusals } = await personAt(t, world);

    await startAtTheDemo(page, demo);
    await givePassword(page, cleo.email, cleo.password);
    assert.match(pathOf(page), /^\/oidc\/interaction\//);
    assert.equal(await heading(page), 'No access to this application');
    const said = await textOf(page, 'main');
    assert.match(said, /Your account has no access to this application\./);
    assert.doesNotMatch(said, /Acme|Demo Wiki/, 'nothing is said of the application’s organisation');
    await screenshots(page, 'no-access');

    await page.goto(demo.url);
    assert.match(await textOf(page, 'main'), /You are not signed in\./);
    assert.deepEqual(refusals, [], 'Chromium refused something under the Content-Security-Policy');
  });
});
