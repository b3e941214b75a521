// A Chromium to visit the real app served on 127.0.0.1 with a frozen clock (serveWorld in
// helpers/app.ts), and the few things a person does in it (sign in, enter a code, link a
// device), written once.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Secret } from 'otpauth';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { PNG } from 'pngjs';
import { codeAt, timeStepAt } from '../../src/domain/totp.js';
import type { ServedWorld, TestWorld } from '../helpers/app.js';

// jsqr is CommonJS whose types declare a default export: TypeScript (NodeNext) would type
// the import as the module object, while Node hands over the function itself.
const jsQR = createRequire(import.meta.url)('jsqr') as typeof import('jsqr').default;

/** Where the suites put the screenshots a person looks at, and the two sizes they are taken at. */
export const SCREENSHOTS = fileURLToPath(new URL('../../test-results/screenshots/', import.meta.url));
export const VIEWPORTS = {
  phone: { width: 390, height: 844 },
  desktop: { width: 1280, height: 900 },
} as const;

/** Generous: Chromium in a container, argon2 on every sign-in, and maybe a busy machine. */
export const SCENARIO_TIMEOUT_MS = 900_000;

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.TWOFOLD_CHROMIUM || '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** A fresh browser of one person: own cookies, pointed at the world. */
export async function personIn(
  browser: Browser,
  world: ServedWorld,
  options: { bypassCSP?: boolean } = {},
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({
    baseURL: world.baseUrl,
    bypassCSP: options.bypassCSP ?? false,
    viewport: { width: 1280, height: 900 },
  });
  return { context, page: await context.newPage() };
}

/** The path of the page now shown, without the origin. */
export function pathOf(page: Page): string {
  return new URL(page.url()).pathname;
}

/** Runs an action that loads a new page (a form post and its redirect, a link) and waits for it. */
export async function andWait(page: Page, action: () => Promise<void>): Promise<void> {
  await Promise.all([
    page.waitForEvent('framenavigated', {
      predicate: (frame) => frame === page.mainFrame(),
    }),
    action(),
  ]);
  await page.waitForLoadState('load');
}

export function press(page: Page, button: string): Promise<void> {
  return andWait(page, () => page.getByRole('button', { name: button, exact: true }).click());
}

export function follow(page: Page, link: string): Promise<void> {
  return andWait(page, () => page.getByRole('link', { name: link, exact: true }).first().click());
}

export async function visit(page: Page, path: string): Promise<void> {
  await page.goto(path);
}

/** Visible text with whitespace folded, as a person reads it. */
export async function textOf(page: Page, selector = 'body'): Promise<string> {
  return (await page.locator(selector).first().innerText()).replace(/\s+/g, ' ').trim();
}

export async function heading(page: Page): Promise<string> {
  return textOf(page, 'h1');
}

export async function flash(page: Page): Promise<string> {
  return (await page.locator('.flash').count()) === 0 ? '' : textOf(page, '.flash');
}

export async function signIn(page: Page, email: string, password: string): Promise<void> {
  await visit(page, '/login');
  await page.getByLabel('Email address').fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await press(page, 'Sign in');
}

export async function enterCode(page: Page, code: string): Promise<void> {
  await page.getByLabel('6-digit code').fill(code);
  await press(page, 'Verify');
}

/**
 * The code the app shows a minute from now. Each code is accepted once per device and
 * time step, so moving on a minute first lets every call give a usable code.
 */
export function nextCode(world: TestWorld, secret: Uint8Array): string {
  world.clock.advanceMinutes(1);
  return codeAt(secret, world.clock.now());
}

/** A well-formed code the device shows neither now nor in the last few minutes: plainly wrong. */
export function wrongCode(secret: Uint8Array, now: Date): string {
  const step = timeStepAt(now);
  const recent = new Set<string>();
  for (let s = step - 12; s <= step + 2; s += 1) recent.add(codeAt(secret, new Date(s * 30_000)));
  for (let n = 0; ; n += 1) {
    const candidate = String((n * 7919) % 1_000_000).padStart(6, '0');
    if (!recent.has(candidate)) return candidate;
  }
}

export async function signInWithCode(
  page: Page,
  world: TestWorld,
  email: string,
  password: string,
  secret: Uint8Array,
): Promise<void> {
  await signIn(page, email, password);
  assert.equal(pathOf(page), '/login/code', `after the password: ${await textOf(page, 'main')}`);
  await enterCode(page, nextCode(world, secret));
  assert.equal(pathOf(page), '/account', `after the code: ${await textOf(page, 'main')}`);
}

export async function signOut(page: Page): Promise<void> {
  await press(page, 'Sign out');
  assert.equal(pathOf(page), '/login');
}

export interface ShownSecret {
  secret: Uint8Array;
  base32: string;
  otpauth: URL;
}

/**
 * Waits until the page has laid out and painted what it shows now (after a load, or a new
 * viewport size): two animation frames, the second starting after the first was painted.
 */
export async function settled(page: Page): Promise<void> {
  await page.evaluate(
    () => new Promise<void>((resolve) => requestAnimationFrame(() => requestAnimationFrame(() => resolve()))),
  );
}

/**
 * A screenshot of the page or of one element. Chromium sometimes refuses one capture on a
 * loaded machine ("Unable to capture screenshot": no frame was ready), and takes the very
 * same picture when asked again after a painted frame; any other error is the test's.
 */
export async function screenshotOf(
  page: Page,
  target: Page | Locator,
  options: { path?: string; fullPage?: boolean } = {},
): Promise<Buffer> {
  for (let attempt = 1; ; attempt += 1) {
    await settled(page);
    try {
      return await target.screenshot(options);
    } catch (error) {
      if (attempt >= 5 || !/Unable to capture screenshot/.test(String(error))) throw error;
    }
  }
}

/** The secret as typed from the page, and the QR code decoded from what the screen shows. */
export async function readSecretAndQr(page: Page): Promise<ShownSecret> {
  const typed = (await page.locator('#secret').innerText()).replace(/\s+/g, '');
  const png = PNG.sync.read(await screenshotOf(page, page.locator('img.qr')));
  const decoded = jsQR(Uint8ClampedArray.from(png.data), png.width, png.height);
  assert.ok(decoded !== null, 'the QR code on the page could not be read');
  return {
    secret: Secret.fromBase32(typed).bytes,
    base32: typed,
    otpauth: new URL(decoded.data),
  };
}

/** What an authenticator app would take from the QR code: it must match the typed key and the account. */
export function assertQrDescribes(shown: ShownSecret, organisation: string, email: string): void {
  const uri = shown.otpauth;
  assert.equal(uri.protocol, 'otpauth:');
  assert.equal(uri.host, 'totp');
  assert.equal(decodeURIComponent(uri.pathname.slice(1)), `${organisation}:${email}`);
  assert.equal(uri.searchParams.get('issuer'), organisation);
  assert.equal(uri.searchParams.get('secret')?.toUpperCase(), shown.base32.toUpperCase());
  assert.equal(uri.searchParams.get('algorithm'), 'SHA1');
  assert.equal(uri.searchParams.get('digits'), '6');
  assert.equal(uri.searchParams.get('period'), '30');
}

/**
 * On a page with the "Device name" form (the 2FA page or the setup screen): name the
 * device, scan the QR code, type the code. Returns the secret to make later codes with.
 */
export async function linkDeviceOnPage(
  page: Page,
  world: TestWorld,
  name: string,
  account: { organisation: string; email: string },
): Promise<Uint8Array> {
  await page.getByLabel('Device name').fill(name);
  await press(page, 'Add');
  assert.equal(await heading(page), `Link ${name}`);
  const shown = await readSecretAndQr(page);
  assertQrDescribes(shown, account.organisation, account.email);
  await enterCode(page, nextCode(world, shown.secret));
  return shown.secret;
}

/**
 * On the page of new recovery codes (the answer to linking a first device): reads what it
 * says happened and the codes, then goes on by its link, as a person who kept them does.
 */
export async function keepRecoveryCodes(page: Page): Promise<{ lead: string; codes: string[] }> {
  assert.equal(await heading(page), 'Your recovery codes', await textOf(page, 'main'));
  const lead = await textOf(page, '.lead');
  const codes = await page.locator('ol.recovery-codes li').allInnerTexts();
  assert.equal(codes.length, 10);
  await follow(page, 'I have kept them, continue');
  return { lead, codes };
}
