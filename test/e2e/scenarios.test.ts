// The scenarios of the product, walked in Chromium through the pages as a person would:
// each test has its own server, database and clock, and people with their own browsers.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, test, type TestContext } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { linkDevice, makeOrganisation, makeUser, serveWorld, type ServedWorld } from '../helpers/app.js';
import {
  enterCode,
  flash,
  follow,
  heading,
  keepRecoveryCodes,
  launchBrowser,
  linkDeviceOnPage,
  nextCode,
  pathOf,
  personIn,
  press,
  readSecretAndQr,
  assertQrDescribes,
  SCENARIO_TIMEOUT_MS,
  signIn,
  signInWithCode,
  signOut,
  textOf,
  visit,
  wrongCode,
} from './support.js';

const ORG = 'Acme Rail';
/** The tests' clock starts at 22 Nov 2026, 12:00 UTC; a week later is the usual start date. */
const IN_A_WEEK_INPUT = '2026-11-29T12:00';
const IN_A_WEEK_SHOWN = '29 Nov 2026, 12:00 (UTC)';
const PAST_THE_START = new Date('2026-11-29T12:05:00Z');
const BLOCKED =
  'Your deadline for setting up two-factor authentication has passed, so you cannot sign in. Contact your administrator: they can give you a new deadline.';

let browser: Browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser.close();
});

async function browserOf(t: TestContext, world: ServedWorld): Promise<Page> {
  const { context, page } = await personIn(browser, world);
  t.after(() => context.close());
  return page;
}

/** An organisation with its first super admin, as `twofold org create` leaves it. */
async function organisationWithSuperAdmin(world: ServedWorld, options: { withDevice?: boolean } = {}) {
  const organisationId = await makeOrganisation(world, ORG);
  const admin = await makeUser(world, organisationId, {
    email: 'ada@acme.test',
    name: 'Ada',
    role: 'super_admin',
  });
  const secret = options.withDevice ? await linkDevice(world, organisationId, admin.id) : null;
  return { organisationId, admin: { ...admin, secret } };
}

async function signInAdmin(
  page: Page,
  world: ServedWorld,
  admin: { email: string; password: string; secret: Uint8Array | null },
): Promise<void> {
  if (admin.secret === null) {
    await signIn(page, admin.email, admin.password);
    assert.equal(pathOf(page), '/account', await textOf(page, 'main'));
  } else {
    await signInWithCode(page, world, admin.email, admin.password, admin.secret);
  }
}

/** Manage 2FA: require it for everyone from a date, confirming it cannot be undone. */
async function requireForEveryoneFrom(page: Page, localDateTime: string): Promise<void> {
  await follow(page, 'Manage 2FA');
  await page.getByLabel('From a date').check();
  await page.getByLabel('Start date and time in UTC').fill(localDateTime);
  await page.getByLabel('I understand that once it starts').check();
  await press(page, 'Require 2FA for everyone');
}

function assertIncludes(text: string, part: string): void {
  assert.ok(text.includes(part), `expected "${part}" in: ${text}`);
}

async function openUserPage(page: Page, name: string): Promise<void> {
  await follow(page, 'Users');
  await follow(page, name);
  assert.equal(await heading(page), name);
}

describe('Twofold in a browser', () => {
  test(
    'the super admin signs in and adds two users, who set their passwords with the one-time link',
    { timeout: SCENARIO_TIMEOUT_MS },
    async (t) => {
      const world = await serveWorld(t);
      const { admin } = await organisationWithSuperAdmin(world);
      const adminPage = await browserOf(t, world);

      await signIn(adminPage, admin.email, admin.password);
      assert.equal(pathOf(adminPage), '/account', 'no device and 2FA not required: straight in');
      assert.equal(await heading(adminPage), 'Welcome, Ada');
      assert.equal(await adminPage.locator('.banner').count(), 0);

      for (const [name, email] of [
        ['Ben Okafor', 'ben@acme.test'],
        ['Cleo Park', 'cleo@acme.test'],
      ] as const) {
        await follow(adminPage, 'Users');
        await follow(adminPage, 'Add a user');
        assert.equal(await heading(adminPage), 'Add a user');
        await adminPage.getByLabel('Name', { exact: true }).fill(name);
        await adminPage.getByLabel('Email address').fill(email);
        await adminPage.getByLabel('Role').selectOption({ label: 'User' });
        await press(adminPage, 'Create user');
        assert.equal(await heading(adminPage), `${name} is added`);
        const link = await textOf(adminPage, '.secret code');
        assert.ok(link.startsWith(`${world.baseUrl}/set-password/`), link);

        const newcomer = await browserOf(t, world);
        await newcomer.goto(link);
        assert.equal(await heading(newcomer), 'Set your password');
        assert.match(await textOf(newcomer, 'main'), new RegExp(`Choose the password for ${email}`));
        await newcomer.getByLabel('New password', { exact: true }).fill('tulip orbit canal 42');
        await newcomer.getByLabel('Repeat the new password').fill('tulip orbit canal 42');
        await press(newcomer, 'Set password');
        assert.equal(pathOf(newcomer), '/login');
        assert.equal(await flash(newcomer), 'Your password is set. Sign in with it now.');

        await signIn(newcomer, email, 'tulip orbit canal 42');
        assert.equal(pathOf(newcomer), '/account');
        assert.equal(await heading(newcomer), `Welcome, ${name}`);

        await newcomer.goto(link);
        assert.match(await textOf(newcomer, 'main'), /already been used/, 'the link works once');
      }

      await follow(adminPage, 'Users');
      const list = await textOf(adminPage, 'main');
      assert.match(list, /3 users\./);
      assert.match(list, /Ben Okafor ben@acme\.test/);
      assert.match(list, /Cleo Park cleo@acme\.test/);
    },
  );

  test(
    'the super admin requires 2FA for everyone from a date and sees it scheduled',
    { timeout: SCENARIO_TIMEOUT_MS },
    async (t) => {
      const world = await serveWorld(t);
      const { organisationId, admin } = await organisationWithSuperAdmin(world);
      await makeUser(world, organisationId, {
        email: 'ben@acme.test',
        name: 'Ben',
      });
      const page = await browserOf(t, world);
      await signInAdmin(page, world, admin);

      await follow(page, 'Manage 2FA');
      assert.match(await textOf(page, 'main'), /Two-factor authentication is not required for everyone\./);
      await requireForEveryoneFrom(page, IN_A_WEEK_INPUT);

      assert.equal(pathOf(page), '/admin/2fa');
      assert.equal(
        await flash(page),
        `Two-factor authentication will be required for everyone from ${IN_A_WEEK_SHOWN}.`,
      );
      assertIncludes(await textOf(page, '.lead'), `will be required for everyone from ${IN_A_WEEK_SHOWN}.`);
      assert.equal(await page.getByLabel('Start date and time in UTC').inputValue(), IN_A_WEEK_INPUT);
      assert.equal(
        await page.getByRole('button', { name: 'Cancel the requirement' }).count(),
        1,
        'still cancellable before it starts',
      );

      await follow(page, 'Users');
      const ben = await textOf(page, 'tbody tr:has-text("Ben")');
      assertIncludes(ben, `Due by ${IN_A_WEEK_SHOWN}`);
    },
  );

  test(
    'a user in the grace period is reminded, links two devices, and signs in with either',
    { timeout: SCENARIO_TIMEOUT_MS },
    async (t) => {
      const world = await serveWorld(t);
      const { organisationId, admin } = await organisationWithSuperAdmin(world);
      const dana = await makeUser(world, organisationId, {
        email: 'dana@acme.test',
        name: 'Dana',
      });
      const adminPage = await browserOf(t, world);
      await signInAdmin(adminPage, world, admin);
      await requireForEveryoneFrom(adminPage, IN_A_WEEK_INPUT);

      const page = await browserOf(t, world);
      await signIn(page, dana.email, dana.password);
      assert.equal(pathOf(page), '/account');
      assert.equal(
        await textOf(page, '.banner'),
        `Set up two-factor authentication before ${IN_A_WEEK_SHOWN} (7 days left). Set it up now`,
      );
      await follow(page, 'Set it up now');
      assert.equal(pathOf(page), '/2fa');
      assertIncludes(await textOf(page, '.lead'), `Add a device before ${IN_A_WEEK_SHOWN}.`);
      assert.match(await textOf(page, 'main'), /You have no linked devices\./);

      // First device, with a wrong code before the right one.
      await page.getByLabel('Device name').fill('Pixel 8');
      await press(page, 'Add');
      assert.equal(await heading(page), 'Link Pixel 8');
      const pixel = await readSecretAndQr(page);
      assertQrDescribes(pixel, ORG, dana.email);
      await enterCode(page, wrongCode(pixel.secret, world.clock.now()));
      assert.equal(await heading(page), 'Link Pixel 8', 'still on the same step');
      assert.equal(
        await textOf(page, '.field .error'),
        'That code is not right. Check you are reading the entry for this account and try the code your app shows now.',
      );
      assert.equal((await readSecretAndQr(page)).base32, pixel.base32, 'the same key to retry with');
      await enterCode(page, nextCode(world, pixel.secret));
      // Her first device came with recovery codes: Download saves them as a .txt, and
      // printing the page prints the codes alone.
      const shownCodes = await page.locator('ol.recovery-codes li').allInnerTexts();
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        page.getByRole('link', { name: 'Download (.txt)' }).click(),
      ]);
      assert.equal(download.suggestedFilename(), 'twofold-recovery-codes.txt');
      const saved = await readFile(await download.path(), 'utf8');
      for (const code of shownCodes) assert.ok(saved.includes(`\n${code}\n`), `${code} is in the file`);
      await page.emulateMedia({ media: 'print' });
      assert.equal(await page.locator('ol.recovery-codes').isVisible(), true);
      for (const hidden of ['header.top', '.actions', 'text=I have kept them, continue']) {
        assert.equal(await page.locator(hidden).isVisible(), false, `${hidden} is not printed`);
      }
      await page.emulateMedia({ media: 'screen' });
      const kept = await keepRecoveryCodes(page);
      assert.deepEqual(kept.codes, shownCodes);
      assert.equal(kept.lead, 'Pixel 8 is linked. You can sign in with a code from it.');
      assert.equal(pathOf(page), '/2fa');
      assert.match(await textOf(page, 'main'), /10 of 10 recovery codes are left\./);

      const iphone = await linkDeviceOnPage(page, world, 'Work iPhone', {
        organisation: ORG,
        email: dana.email,
      });
      assert.equal(pathOf(page), '/2fa');
      assert.equal(await flash(page), 'Work iPhone is linked. You can sign in with a code from it.');
      const devices = await page.locator('table tbody tr td:first-child').allInnerTexts();
      assert.deepEqual(devices.sort(), ['Pixel 8', 'Work iPhone']);
      assert.equal(await page.locator('.banner').count(), 0, 'no reminder once a device is linked');
      assert.match(await textOf(page, '.lead'), /Two-factor authentication is on, as your organisation requires\./);

      await signOut(page);
      assert.equal(await flash(page), 'You have signed out.');
      await signInWithCode(page, world, dana.email, dana.password, pixel.secret);
      assert.equal(await heading(page), 'Welcome, Dana');

      await signOut(page);
      await signInWithCode(page, world, dana.email, dana.password, iphone);
      assert.equal(await heading(page), 'Welcome, Dana');
    },
  );

  test(
    'once the start date is reached, a user without a device is held at the setup screen until they link one',
    { timeout: SCENARIO_TIMEOUT_MS },
    async (t) => {
      const world = await serveWorld(t);
      const { organisationId, admin } = await organisationWithSuperAdmin(world);
      const eve = await makeUser(world, organisationId, {
        email: 'eve@acme.test',
        name: 'Eve',
      });
      const adminPage = await browserOf(t, world);
      await signInAdmin(adminPage, world, admin);
      await requireForEveryoneFrom(adminPage, IN_A_WEEK_INPUT);

      world.clock.set(PAST_THE_START);
      const page = await browserOf(t, world);
      await signIn(page, eve.email, eve.password);
      assert.equal(pathOf(page), '/setup');
      assert.equal(await heading(page), 'Set up two-factor authentication');
      assert.equal(
        await textOf(page, '.lead'),
        'Your deadline for setting up two-factor authentication has passed. Link an authenticator app to continue.',
      );
      assert.equal(await page.getByRole('navigation', { name: 'Main' }).count(), 0, 'nothing else to go to');

      for (const elsewhere of ['/account', '/2fa', '/admin/users', '/admin/2fa']) {
        await visit(page, elsewhere);
        assert.equal(pathOf(page), '/setup', `${elsewhere} leads back to the setup screen`);
      }

      await linkDeviceOnPage(page, world, 'Pixel 8', {
        organisation: ORG,
        email: eve.email,
      });
      const { lead } = await keepRecoveryCodes(page);
      assert.match(lead, /^Pixel 8 is linked and you are signed in\./);
      assert.equal(pathOf(page), '/account');
      await follow(page, 'Two-Factor Authentication (2FA)');
      assert.equal(pathOf(page), '/2fa');
      assert.deepEqual(await page.locator('table tbody tr td:first-child').allInnerTexts(), ['Pixel 8']);
    },
  );

  test(
    'in the mode that refuses overdue users, one is refused until the super admin gives them a personal deadline',
    { timeout: SCENARIO_TIMEOUT_MS },
    async (t) => {
      const world = await serveWorld(t);
      const { organisationId, admin } = await organisationWithSuperAdmin(world, { withDevice: true });
      const finn = await makeUser(world, organisationId, {
        email: 'finn@acme.test',
        name: 'Finn',
      });
      const adminPage = await browserOf(t, world);
      await signInAdmin(adminPage, world, admin);
      await requireForEveryoneFrom(adminPage, IN_A_WEEK_INPUT);
      await adminPage.getByLabel('They cannot sign in until an administrator gives them a new deadline').check();
      await press(adminPage, 'Save');
      assert.equal(await flash(adminPage), 'Saved what happens after a deadline.');
      assert.ok(
        await adminPage.getByLabel('They cannot sign in until an administrator gives them a new deadline').isChecked(),
      );

      world.clock.set(PAST_THE_START);
      const page = await browserOf(t, world);
      await signIn(page, finn.email, finn.password);
      assert.equal(pathOf(page), '/login');
      assert.equal(await textOf(page, '[role="alert"]'), BLOCKED);

      await signInAdmin(adminPage, world, admin);
      await follow(adminPage, 'Users');
      assert.match(await textOf(adminPage, 'tbody tr:has-text("Finn")'), /Overdue/);
      await follow(adminPage, 'Finn');
      await adminPage.getByLabel('Personal deadline in UTC').fill('2026-12-02T12:00');
      await press(adminPage, 'Save two-factor settings');
      assert.equal(await flash(adminPage), 'The two-factor settings are saved.');

      await signIn(page, finn.email, finn.password);
      assert.equal(pathOf(page), '/account');
      assert.equal(
        await textOf(page, '.banner'),
        'Set up two-factor authentication before 2 Dec 2026, 12:00 (UTC) (3 days left). Set it up now',
      );
    },
  );

  test(
    'a super admin requires 2FA of one user in an organisation without an org-wide requirement',
    { timeout: SCENARIO_TIMEOUT_MS },
    async (t) => {
      const world = await serveWorld(t);
      const { organisationId, admin } = await organisationWithSuperAdmin(world);
      const gil = await makeUser(world, organisationId, {
        email: 'gil@acme.test',
        name: 'Gil',
      });
      const page = await browserOf(t, world);
      await signIn(page, gil.email, gil.password);
      assert.equal(pathOf(page), '/account', 'not required yet: straight in');
      assert.equal(await page.locator('.banner').count(), 0);
      await signOut(page);

      const adminPage = await browserOf(t, world);
      await signInAdmin(adminPage, world, admin);
      await openUserPage(adminPage, 'Gil');
      await adminPage.getByLabel('Require two-factor authentication').check();
      await press(adminPage, 'Save two-factor settings');
      assert.equal(await flash(adminPage), 'The two-factor settings are saved.');
      assert.match(
        await textOf(adminPage, '#twofa-heading + p'),
        /Two-factor authentication is required of them now: they link a device at their next sign-in\./,
      );

      await signIn(page, gil.email, gil.password);
      assert.equal(pathOf(page), '/setup');
      assert.equal(
        await textOf(page, '.lead'),
        'Your organisation requires two-factor authentication for your account. Link an authenticator app to continue.',
      );
      await press(page, 'Cancel and sign out');
      assert.equal(pathOf(page), '/login');
    },
  );

  test(
    'resetting a user’s 2FA ends their session and sends them to the setup screen at the next sign-in',
    { timeout: SCENARIO_TIMEOUT_MS },
    async (t) => {
      const world = await serveWorld(t);
      const { organisationId, admin } = await organisationWithSuperAdmin(world);
      const hana = await makeUser(world, organisationId, {
        email: 'hana@acme.test',
        name: 'Hana',
      });
      const hanaSecret = await linkDevice(world, organisationId, hana.id, 'Pixel 8');
      const page = await browserOf(t, world);
      await signInWithCode(page, world, hana.email, hana.password, hanaSecret);

      const adminPage = await browserOf(t, world);
      await signInAdmin(adminPage, world, admin);
      await openUserPage(adminPage, 'Hana');
      await follow(adminPage, 'Reset 2FA');
      assert.equal(await heading(adminPage), 'Reset 2FA');
      assert.match(await textOf(adminPage, 'main'), /Their linked device is removed\. Their sessions end now\./);
      await press(adminPage, 'Reset 2FA for Hana');
      assert.equal(pathOf(adminPage), `/admin/users/${hana.id}`);
      assert.match(await flash(adminPage), /^Two-factor authentication is reset for Hana\./);
      assert.match(await textOf(adminPage, 'main'), /No linked devices\./);

      await visit(page, '/2fa');
      assert.equal(pathOf(page), '/login', 'the session Hana had is over');

      await signIn(page, hana.email, hana.password);
      assert.equal(pathOf(page), '/setup');
      assert.equal(
        await textOf(page, '.lead'),
        'Your administrator has reset your two-factor authentication. Link an authenticator app again to continue.',
      );
      assert.equal(await page.getByLabel('6-digit code').count(), 0, 'the old device is not asked for');
    },
  );

  test(
    'deactivating ends the session and blocks sign-in; reactivating keeps the devices',
    { timeout: SCENARIO_TIMEOUT_MS },
    async (t) => {
      const world = await serveWorld(t);
      const { organisationId, admin } = await organisationWithSuperAdmin(world);
      const ivan = await makeUser(world, organisationId, {
        email: 'ivan@acme.test',
        name: 'Ivan',
      });
      const ivanSecret = await linkDevice(world, organisationId, ivan.id, 'Pixel 8');
      const page = await browserOf(t, world);
      await signInWithCode(page, world, ivan.email, ivan.password, ivanSecret);

      const adminPage = await browserOf(t, world);
      await signInAdmin(adminPage, world, admin);
      await openUserPage(adminPage, 'Ivan');
      await adminPage.getByRole('radio', { name: 'Inactive', exact: true }).check();
      await press(adminPage, 'Save profile');
      assert.equal(await flash(adminPage), 'The profile is saved.');

      await visit(page, '/account');
      assert.equal(pathOf(page), '/login', 'the session Ivan had is over');
      await signIn(page, ivan.email, ivan.password);
      assert.equal(pathOf(page), '/login');
      assert.equal(
        await textOf(page, '[role="alert"]'),
        'This account has been deactivated. Contact your administrator.',
      );

      await adminPage.getByRole('radio', { name: 'Active', exact: true }).check();
      await press(adminPage, 'Save profile');
      assert.equal(await flash(adminPage), 'The profile is saved.');
      assert.match(await textOf(adminPage, 'main'), /Pixel 8/);

      // Back with the device he had: asked for its code, not for a new device.
      await signInWithCode(page, world, ivan.email, ivan.password, ivanSecret);
    },
  );

  test(
    'an active requirement cannot be turned off: the page shows it locked and a forged cancel is refused',
    { timeout: SCENARIO_TIMEOUT_MS },
    async (t) => {
      const world = await serveWorld(t);
      const { organisationId, admin } = await organisationWithSuperAdmin(world, { withDevice: true });
      const jo = await makeUser(world, organisationId, {
        email: 'jo@acme.test',
        name: 'Jo',
      });
      const page = await browserOf(t, world);
      await signInAdmin(page, world, admin);

      await follow(page, 'Manage 2FA');
      await page.getByLabel('Starting now').check();
      await page.getByLabel('I understand that once it starts').check();
      await press(page, 'Require 2FA for everyone');
      assert.equal(await flash(page), 'Two-factor authentication is now required for everyone.');
      assert.match(
        await textOf(page, '.locked'),
        /^Locked\. Two-factor authentication is required for everyone in the organisation since .* It cannot be turned off\.$/,
      );
      assert.equal(await page.getByRole('button', { name: 'Cancel the requirement' }).count(), 0);
      assert.equal(await page.getByRole('button', { name: 'Require 2FA for everyone' }).count(), 0);

      const csrf = await page.locator('input[name="_csrf"]').first().inputValue();
      const forged = await page.request.post('/admin/2fa/cancel', {
        form: { _csrf: csrf },
        maxRedirects: 0,
      });
      assert.equal(forged.status(), 409);

      await visit(page, '/admin/2fa');
      assert.match(await textOf(page, '.locked'), /^Locked\./, 'still required');
      const other = await browserOf(t, world);
      await signIn(other, jo.email, jo.password);
      assert.equal(pathOf(other), '/setup', 'and still enforced');
    },
  );

  test(
    'a cancel that arrives just after the start is refused, and the page says why',
    { timeout: SCENARIO_TIMEOUT_MS },
    async (t) => {
      const world = await serveWorld(t);
      const { admin } = await organisationWithSuperAdmin(world, {
        withDevice: true,
      });
      const page = await browserOf(t, world);
      await signInAdmin(page, world, admin);
      await requireForEveryoneFrom(page, '2026-11-22T12:20');
      assert.equal(await page.getByRole('button', { name: 'Cancel the requirement' }).count(), 1);

      world.clock.advanceMinutes(25); // the admin reads the page while the start comes
      const refused = page.waitForResponse((r) => r.url().endsWith('/admin/2fa/cancel'));
      await press(page, 'Cancel the requirement');
      assert.equal((await refused).status(), 409);
      assert.match(await textOf(page, '.locked'), /^Locked\./, 'still required');
      assertIncludes(
        await textOf(page, 'main'),
        'Two-factor authentication is already required for everyone, and that cannot be turned off.',
      );
    },
  );
});
