// Every page, in each state a person meets it, checked with axe-core at a phone and a
// desktop size, with a full-page screenshot of each into test-results/screenshots/.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { after, before, describe, test, type TestContext } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { tenantFor } from '../../src/store/tenant.js';
import { linkDevice, linkSecurityKey, makeOrganisation, makeUser, serveWorld } from '../helpers/app.js';
import {
  andWait,
  enterCode,
  follow,
  heading,
  launchBrowser,
  nextCode,
  pathOf,
  personIn,
  press,
  readSecretAndQr,
  SCENARIO_TIMEOUT_MS,
  SCREENSHOTS,
  screenshotOf,
  settled,
  signIn,
  signInWithCode,
  textOf,
  visit,
  VIEWPORTS,
  wrongCode,
} from './support.js';

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

interface Violation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string; html: string; summary: string }[];
}

async function axeViolations(page: Page): Promise<Violation[]> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ content: AXE_SOURCE });
  return page.evaluate(async () => {
    const { axe } = window as unknown as { axe: typeof import('axe-core') };
    const results = await axe.run(document, { resultTypes: ['violations'] });
    return results.violations.map((v) => ({
      id: v.id,
      impact: v.impact ?? null,
      help: v.help,
      nodes: v.nodes.map((n) => ({
        target: n.target.join(' '),
        html: n.html,
        summary: n.failureSummary ?? '',
      })),
    }));
  });
}

function describeViolations(violations: Violation[]): string {
  return violations
    .map(
      (v) =>
        `[${v.impact}] ${v.id}: ${v.help}\n${v.nodes.map((n) => `    ${n.target}\n    ${n.html}\n    ${n.summary.replace(/\n/g, '\n    ')}`).join('\n')}`,
    )
    .join('\n');
}

/** Screenshots at both sizes, no sideways scrolling on a phone, no serious or critical axe finding at either size. */
async function checkPage(t: TestContext, page: Page, name: string): Promise<void> {
  const serious: string[] = [];
  for (const [viewport, size] of Object.entries(VIEWPORTS)) {
    await page.setViewportSize(size);
    await screenshotOf(page, page, { path: `${SCREENSHOTS}${name}-${viewport}.png`, fullPage: true });
    if (viewport === 'phone') {
      const { scrollWidth, innerWidth } = await page.evaluate(() => ({
        scrollWidth: document.documentElement.scrollWidth,
        innerWidth: window.innerWidth,
      }));
      assert.ok(
        scrollWidth <= innerWidth,
        `${name} scrolls sideways on a phone: ${scrollWidth}px wide in a ${innerWidth}px window`,
      );
    }
    const violations = await axeViolations(page);
    const [bad, other] = [
      violations.filter((v) => v.impact === 'serious' || v.impact === 'critical'),
      violations.filter((v) => v.impact !== 'serious' && v.impact !== 'critical'),
    ];
    if (other.length > 0) t.diagnostic(`${name} (${viewport}), lesser findings:\n${describeViolations(other)}`);
    if (bad.length > 0) serious.push(`${viewport}:\n${describeViolations(bad)}`);
  }
  assert.equal(serious.length, 0, `${name} has serious or critical accessibility violations:\n${serious.join('\n')}`);
}

/** The most lines of text one user of the users list takes on a phone. */
const USERS_LIST_LINES_ON_A_PHONE = 4;

/** How many lines of text the tallest row of the users list takes at the page's size now. */
async function tallestUserRowInLines(page: Page): Promise<number> {
  return page.evaluate(() => {
    const rows = [...document.querySelectorAll('table.users tbody tr')];
    return Math.max(
      ...rows.map((row) => {
        const style = getComputedStyle(row);
        const content =
          row.getBoundingClientRect().height - parseFloat(style.paddingTop) - parseFloat(style.paddingBottom);
        return Math.round(content / parseFloat(style.lineHeight));
      }),
    );
  });
}

let browser: Browser;
before(async () => {
  browser = await launchBrowser();
  mkdirSync(SCREENSHOTS, { recursive: true });
});
after(async () => {
  await browser.close();
});

describe('accessibility and layout of every page', () => {
  test('each page passes axe-core and fits a phone', { timeout: SCENARIO_TIMEOUT_MS }, async (t) => {
    const world = await serveWorld(t);
    const org = 'Acme Rail';
    const organisationId = await makeOrganisation(world, org);
    const ada = await makeUser(world, organisationId, {
      email: 'ada@acme.test',
      name: 'Ada Lovelace',
      role: 'super_admin',
    });
    const adaSecret = await linkDevice(world, organisationId, ada.id, 'Pixel 7');
    const ben = await makeUser(world, organisationId, {
      email: 'ben@acme.test',
      name: 'Ben Okafor',
    });
    const dan = await makeUser(world, organisationId, {
      email: 'dan@acme.test',
      name: 'Dan Ruiz',
    });
    const eve = await makeUser(world, organisationId, {
      email: 'eve@acme.test',
      name: 'Eve Adeyemi',
    });

    const person = async () => {
      const { context, page } = await personIn(browser, world, {
        bypassCSP: true,
      });
      t.after(() => context.close());
      return page;
    };
    const check = (page: Page, name: string, expectedPath?: string) =>
      t.test(name, async (st) => {
        if (expectedPath !== undefined) assert.equal(pathOf(page), expectedPath, await textOf(page, 'main'));
        await checkPage(st, page, name);
      });

    // Signing in, and the super admin's pages while nothing is required of everyone.
    const visitor = await person();
    await visit(visitor, '/login');
    await check(visitor, 'login', '/login');
    await visitor.getByLabel('Email address').fill(ada.email);
    await visitor.getByLabel('Password', { exact: true }).fill('not the password');
    await press(visitor, 'Sign in');
    await check(visitor, 'login-refused', '/login');
    await follow(visitor, 'Forgot your password?');
    await check(visitor, 'forgot-password', '/forgot-password');
    await visitor.getByLabel('Email address').fill(ada.email);
    await press(visitor, 'Email me a link');
    await check(visitor, 'forgot-password-sent', '/forgot-password');

    const admin = await person();
    await signIn(admin, ada.email, ada.password);
    await check(admin, 'code-entry', '/login/code');
    await enterCode(admin, wrongCode(adaSecret, world.clock.now()));
    await check(admin, 'code-entry-wrong-code', '/login/code');
    await enterCode(admin, nextCode(world, adaSecret));
    await check(admin, 'account', '/account');
    await follow(admin, 'Change your password');
    await check(admin, 'change-password', '/account/password');
    await admin.getByLabel('Current password').fill('not the password');
    await admin.getByLabel('New password', { exact: true }).fill('short');
    await admin.getByLabel('Repeat the new password').fill('short');
    await press(admin, 'Change password');
    await check(admin, 'change-password-error', '/account/password');

    await follow(admin, 'Users');
    await check(admin, 'users-list', '/admin/users');
    await t.test('users-list is compact on a phone', async () => {
      await admin.setViewportSize(VIEWPORTS.phone);
      await settled(admin);
      const lines = await tallestUserRowInLines(admin);
      await admin.setViewportSize(VIEWPORTS.desktop);
      assert.ok(
        lines <= USERS_LIST_LINES_ON_A_PHONE,
        `a user takes ${lines} lines on a phone, more than ${USERS_LIST_LINES_ON_A_PHONE}`,
      );
    });
    await follow(admin, 'Add a user');
    await check(admin, 'add-user', '/admin/users/new');
    await admin.getByLabel('Name', { exact: true }).fill('Ben Again');
    await admin.getByLabel('Email address').fill(ben.email);
    await press(admin, 'Create user');
    await check(admin, 'add-user-error');
    await admin.getByLabel('Name', { exact: true }).fill('Cleo Park-Vandermeulen');
    await admin.getByLabel('Email address').fill('cleo.park-vandermeulen@acme-rail-operations.example');
    await press(admin, 'Create user');
    assert.equal(await heading(admin), 'Cleo Park-Vandermeulen is added');
    await check(admin, 'link-issued');
    const link = await textOf(admin, '.secret code');

    const newcomer = await person();
    await newcomer.goto(link);
    await check(newcomer, 'set-password-link');

    await follow(admin, 'All users');
    await follow(admin, 'Ben Okafor');
    await check(admin, 'user-page');
    await follow(admin, 'Reset 2FA');
    await check(admin, 'reset-confirmation');

    await follow(admin, 'Manage 2FA');
    await check(admin, 'manage-2fa-off', '/admin/2fa');
    await admin.getByLabel('Start date and time in UTC').fill('2026-11-29T12:00');
    await admin.getByLabel('I understand that once it starts').check();
    await press(admin, 'Require 2FA for everyone');
    await check(admin, 'manage-2fa-scheduled', '/admin/2fa');

    // A user in the grace period links devices on the 2FA page.
    const user = await person();
    await signIn(user, ben.email, ben.password);
    await check(user, 'account-with-reminder', '/account');
    await follow(user, 'Set it up now');
    await check(user, '2fa-no-devices', '/2fa');
    await user.getByLabel('Device name').fill('Pixel 8');
    await press(user, 'Add');
    await check(user, '2fa-confirm-qr');
    const pixel = await readSecretAndQr(user);
    await enterCode(user, wrongCode(pixel.secret, world.clock.now()));
    await check(user, '2fa-confirm-wrong-code');
    await enterCode(user, nextCode(world, pixel.secret));
    await check(user, '2fa-first-device-recovery-codes');
    await follow(user, 'I have kept them, continue');
    await user.getByLabel('Device name').fill('Work iPhone');
    await press(user, 'Add');
    await enterCode(user, nextCode(world, (await readSecretAndQr(user)).secret));
    await check(user, '2fa-devices', '/2fa');
    await follow(user, 'Recovery codes');
    await check(user, 'recovery-codes', '/2fa/recovery-codes');
    await press(user, 'Generate new recovery codes');
    await check(user, 'recovery-codes-new', '/2fa/recovery-codes');
    await follow(user, 'I have kept them, continue');
    await follow(user, 'Remove Pixel 8');
    await check(user, 'remove-device');
    // Security keys and passkeys: adding one (and a browser that made none), the list with
    // one, confirming with one, and the code step offering one, with its other ways.
    await visit(user, '/2fa/security-keys');
    await check(user, 'add-security-key', '/2fa/security-keys');
    await user.getByLabel('Name', { exact: true }).fill('YubiKey 5C NFC on my keyring');
    await andWait(user, () =>
      user.locator('form[data-security-key]').evaluate((form) => (form as HTMLFormElement).submit()),
    );
    await check(user, 'add-security-key-error', '/2fa/security-keys');
    await linkSecurityKey(world, organisationId, ben.id, 'YubiKey 5C NFC on my keyring');
    await visit(user, '/2fa');
    await check(user, '2fa-with-security-key', '/2fa');
    world.clock.advanceMinutes(11);
    await visit(user, '/2fa/security-keys');
    await check(user, 'confirm-identity-with-security-key', '/confirm-identity');
    const withKey = await person();
    await signIn(withKey, ben.email, ben.password);
    assert.equal(await heading(withKey), 'Use your security key');
    await check(withKey, 'code-entry-security-key', '/login/code');
    await follow(withKey, 'Use a recovery code instead');
    await check(withKey, 'code-entry-recovery-code', '/login/code');

    // The start has come: the setup screen, and the requirement locked.
    world.clock.set(new Date('2026-11-29T12:05:00Z'));
    const late = await person();
    await signIn(late, dan.email, dan.password);
    await check(late, 'setup', '/setup');
    await late.getByLabel('Device name').fill('Galaxy S24');
    await press(late, 'Add');
    await check(late, 'setup-confirm-qr');
    // Another links a first device there, and is shown its recovery codes on the way on.
    const linking = await person();
    await signIn(linking, eve.email, eve.password);
    await linking.getByLabel('Device name').fill('Galaxy S24');
    await press(linking, 'Add');
    await enterCode(linking, nextCode(world, (await readSecretAndQr(linking)).secret));
    await check(linking, 'setup-recovery-codes');

    await signInWithCode(admin, world, ada.email, ada.password, adaSecret);
    await follow(admin, 'Users');
    await check(admin, 'users-list-overdue', '/admin/users');
    await follow(admin, 'Ben Okafor');
    await check(admin, 'user-page-with-devices');
    // Ada's only device, with 2FA required of everyone: no Remove, and why.
    await follow(admin, 'Two-Factor Authentication (2FA)');
    await check(admin, '2fa-last-device', '/2fa');
    const [adaDevice] = await tenantFor(world.db, organisationId).devices.listForUser(ada.id);
    await visit(admin, `/2fa/devices/${adaDevice?.id ?? ''}/remove`);
    assert.equal(await heading(admin), 'Pixel 7 cannot be removed');
    await check(admin, 'remove-last-device-refused');
    await follow(admin, 'Audit log');
    await check(admin, 'audit-log', '/admin/audit');
    await follow(admin, 'Email');
    await check(admin, 'email-not-sent', '/admin/email');
    await follow(admin, 'Manage 2FA');
    await check(admin, 'manage-2fa-active', '/admin/2fa');
    // Changing the allowed second factors: whom it affects, before anything is saved.
    await admin.getByLabel('Security keys and passkeys only (phishing-resistant)').check();
    await press(admin, 'Review the change');
    assert.equal(await heading(admin), 'Change the second factors people may use?');
    await check(admin, 'manage-2fa-factors-preview');
    await follow(admin, 'Cancel, keep Authenticator apps, and security keys and passkeys');
    await follow(admin, 'Applications');
    await check(admin, 'applications-none', '/admin/applications');
    await admin.getByLabel('Name', { exact: true }).fill('Rail Wiki');
    await admin.getByLabel('Redirect addresses').fill('http://wiki.acme.test/callback');
    await press(admin, 'Register');
    await check(admin, 'applications-error', '/admin/applications');
    await admin.getByLabel('Redirect addresses').fill('https://wiki.acme.test/oidc/callback\nhttp://localhost:8080/cb');
    await admin.getByLabel('Require two-factor authentication for this application').check();
    await press(admin, 'Register');
    await check(admin, 'application-registered', '/admin/applications');
    await follow(admin, 'Back to Applications');
    await check(admin, 'applications', '/admin/applications');
    await follow(admin, 'Change');
    assert.equal(await heading(admin), 'Change Rail Wiki');
    await check(admin, 'application-change');
    await admin.getByLabel('Name', { exact: true }).fill('Rail Wiki '.repeat(12));
    await admin.getByLabel('Addresses after signing out (optional)').fill('https://wiki.acme.test/#signed-out');
    await admin.getByLabel('ES256').check();
    await press(admin, 'Save changes');
    await check(admin, 'application-change-error');
    await admin.getByLabel('Name', { exact: true }).fill('Rail Wiki');
    await admin.getByLabel('Addresses after signing out (optional)').fill('https://wiki.acme.test/signed-out');
    await press(admin, 'Save changes');
    await check(admin, 'application-changed', '/admin/applications');
    await admin.getByLabel('Host name').fill('https://wiki.acme.test/');
    await press(admin, 'Protect this site');
    await check(admin, 'sites-error', '/admin/applications/sites');
    await admin.getByLabel('Host name').fill('wiki.acme.test');
    await admin.getByLabel('Require two-factor authentication for this site').check();
    await press(admin, 'Protect this site');
    await check(admin, 'sites', '/admin/applications');
    const [site] = await tenantFor(world.db, organisationId).sites.list();
    await visit(admin, `/admin/applications/sites/${site?.id ?? ''}/delete`);
    assert.equal(await heading(admin), 'Delete wiki.acme.test');
    await check(admin, 'delete-site');

    // Signing in to that application while signed in to Twofold: the page on the way back,
    // held there (its move onwards answered 204, which leaves a page where it is).
    const [wiki] = await tenantFor(world.db, organisationId).applications.list();
    const resume = (url: URL) => /^\/oidc\/auth\/[^/]+$/.test(url.pathname);
    await admin.route(resume, (route) => route.fulfill({ status: 204 }));
    const signInToWiki = (extra: Record<string, string> = {}) =>
      visit(
        admin,
        `/oidc/auth?${new URLSearchParams({
          client_id: wiki?.id ?? '',
          response_type: 'code',
          scope: 'openid',
          redirect_uri: 'http://localhost:8080/cb',
          code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
          code_challenge_method: 'S256',
          state: 'a-state',
          ...extra,
        }).toString()}`,
      );
    await signInToWiki();
    assert.equal(await heading(admin), 'Continue to Rail Wiki');
    await check(admin, 'continue-to-application');
    await admin.unroute(resume);
    await visit(admin, '/no-such-page');
    assert.equal(await heading(admin), 'Page not found');
    await check(admin, 'not-found');

    // An application asking for phishing-resistant sign-in of a person without a key.
    await signInToWiki({ state: 'another-state', acr_values: 'phr' });
    assert.equal(await heading(admin), 'A security key or passkey is needed');
    await check(admin, 'application-needs-key');
    // Keys only: the admin, who has only an app, is held at the setup screen to add a key.
    await visit(admin, '/admin/2fa');
    await admin.getByLabel('Security keys and passkeys only (phishing-resistant)').check();
    await press(admin, 'Review the change');
    await press(admin, 'Save: Security keys and passkeys only (phishing-resistant)');
    await visit(admin, '/account');
    assert.equal(await heading(admin), 'Add a security key or passkey');
    await check(admin, 'setup-keys-only', '/setup');
  });
});
