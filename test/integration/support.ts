// What the integration suites do again and again: sign a person in, read a code off their
// authenticator, set an organisation's policy, and look at what the database holds.
import assert from 'node:assert/strict';
import { Secret } from 'otpauth';
import type { AuditAction } from '../../src/domain/audit.js';
import type { Device } from '../../src/domain/devices.js';
import type { AfterDeadline } from '../../src/domain/enforcement.js';
import type { Organisation } from '../../src/domain/organisations.js';
import { codeAt } from '../../src/domain/totp.js';
import type { User } from '../../src/domain/users.js';
import { tenantFor } from '../../src/store/tenant.js';
import { linkDevice, makeOrganisation, makeUser, PASSWORD, type TestWorld } from '../helpers/app.js';
import { Browser, textOf, type Page } from '../helpers/browser.js';
import { fromAddress } from '../helpers/security.js';

export const SESSION_COOKIE = 'twofold_session';
export const MINUTE_MS = 60_000;
export const DAY_MINUTES = 24 * 60;

/**
 * The code the app shows a minute from now. A device accepts each 30-second step once,
 * so every further code on the same device needs the clock moved on.
 */
export function nextCode(world: TestWorld, secret: Uint8Array): string {
  world.clock.advanceMinutes(1);
  return codeAt(secret, world.clock.now());
}

/** A fresh browser signed in as `email`: password, then a code when a secret is given. */
export async function signedIn(
  world: TestWorld,
  email: string,
  secret?: Uint8Array,
  password = PASSWORD,
): Promise<Browser> {
  const client = new Browser(world.app);
  const afterPassword = await client.signIn(email, password);
  assert.equal(afterPassword.status, 303, textOf(afterPassword.body));
  if (secret === undefined) {
    assert.equal(afterPassword.location, '/account', 'expected to be signed in without a code');
    return client;
  }
  assert.equal(afterPassword.location, '/login/code');
  await client.get('/login/code');
  const done = await client.post('/login/code', { code: nextCode(world, secret) });
  assert.equal(done.location, '/account', textOf(done.body));
  return client;
}

/**
 * Gives the password again, and a code when a secret is given, on the confirm-identity
 * step: adding or removing a device and changing the password ask for it once the sign-in
 * (or the last confirmation) is more than ten minutes old. Ends at `next`.
 */
export async function confirmIdentity(
  world: TestWorld,
  client: Browser,
  next: string,
  secret?: Uint8Array,
  password = PASSWORD,
): Promise<void> {
  const form = await client.get(`/confirm-identity?${new URLSearchParams({ next }).toString()}`);
  assert.equal(form.status, 200, textOf(form.body));
  const done = await client.post(
    '/confirm-identity',
    secret === undefined ? { next, password } : { next, password, code: nextCode(world, secret) },
  );
  assert.equal(done.status, 303, textOf(done.body));
  assert.equal(done.location, next);
}

/** The text of the page's alert or field error, where forms say what is wrong. */
export function problemOn(page: Page): string {
  const parts = [...page.body.matchAll(/<(?:div|p) class="(?:error-summary|error)"[^>]*>([\s\S]*?)<\/(?:div|p)>/g)];
  return parts.map((m) => textOf(m[1] ?? '')).join(' ');
}

/** The client_id and secret the page after registering an application (or replacing its secret) shows. */
export function credentialsOn(page: Page): { clientId: string; secret: string } {
  const codes = [...page.body.matchAll(/<dd class="secret link"><code>([^<]+)<\/code><\/dd>/g)].map((m) => m[1] ?? '');
  assert.equal(codes.length, 2, textOf(page.body));
  return { clientId: codes[0] ?? '', secret: codes[1] ?? '' };
}

/** The flash message shown at the top of the page, if any. */
export function flashOn(page: Page): string | null {
  const m = /<div class="flash" role="status">([\s\S]*?)<\/div>/.exec(page.body);
  return m ? textOf(m[1] ?? '') : null;
}

/** The cells of the table row that mentions `needle`, as text. */
export function rowWith(page: Page, needle: string): string[] | null {
  for (const row of page.body.matchAll(/<tr[^>]*>([\s\S]*?)<\/tr>/g)) {
    const inner = row[1] ?? '';
    if (!inner.includes(needle)) continue;
    return [...inner.matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((c) => textOf(c[1] ?? ''));
  }
  return null;
}

/** The class attribute of the table row that mentions `needle`. */
export function rowClassWith(page: Page, needle: string): string | null {
  for (const row of page.body.matchAll(/<tr([^>]*)>([\s\S]*?)<\/tr>/g)) {
    if ((row[2] ?? '').includes(needle)) return /class="([^"]*)"/.exec(row[1] ?? '')?.[1] ?? '';
  }
  return null;
}

/** An element's attributes as a browser reads them: values unescaped, a bare attribute as ''. */
export type Attributes = Record<string, string>;

function unescapeAttribute(value: string): string {
  return value
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

/** The attributes of every `<tag>` on the page, whatever their order and line breaks. */
export function elementsOn(page: Page, tag: string): Attributes[] {
  return [...page.body.matchAll(new RegExp(`<${tag}\\b([^>]*)>`, 'gi'))].map((element) => {
    const attributes: Attributes = {};
    for (const [, name, value] of (element[1] ?? '').matchAll(/([^\s"'=/>]+)(?:\s*=\s*"([^"]*)")?/g)) {
      if (name !== undefined) attributes[name.toLowerCase()] = unescapeAttribute(value ?? '');
    }
    return attributes;
  });
}

/** The one `<tag>` whose attributes include all of `having`; fails unless there is exactly one. */
export function elementOn(page: Page, tag: string, having: Attributes): Attributes {
  const all = elementsOn(page, tag);
  const found = all.filter((attributes) => Object.entries(having).every(([name, value]) => attributes[name] === value));
  const [only] = found;
  assert.ok(
    only !== undefined && found.length === 1,
    `expected one <${tag}> with ${JSON.stringify(having)}, found ${found.length} among ${JSON.stringify(all)}`,
  );
  return only;
}

/** The values of the ticked radio buttons or checkboxes called `name`. */
export function checkedValues(page: Page, name: string): string[] {
  return elementsOn(page, 'input')
    .filter((input) => input.name === name && 'checked' in input)
    .map((input) => input.value ?? '');
}

/** The secret the confirmation step shows for typing, as the bytes an app would keep. */
export function secretShownOn(page: Page): { typed: string; bytes: Uint8Array } {
  const m = /<code\b[^>]*\bid="secret"[^>]*>([\s\S]*?)<\/code\s*>/.exec(page.body);
  assert.ok(m?.[1], 'the page shows no secret');
  const typed = textOf(m[1]);
  return { typed, bytes: Secret.fromBase32(typed.replace(/ /g, '')).bytes };
}

/**
 * Names a device on the setup screen (`/setup`) or the 2FA page (`/2fa`) and opens its
 * confirmation step: its address, the page, and the secret it shows.
 */
export async function startLinking(
  client: Browser,
  base: '/setup' | '/2fa',
  name: string,
): Promise<{ url: string; page: Page; secret: Uint8Array }> {
  await client.get(base);
  const posted = await client.post(`${base}/devices`, { name });
  assert.equal(posted.status, 303, textOf(posted.body));
  const url = posted.location ?? '';
  assert.match(url, new RegExp(`^${base}/devices/[0-9a-f-]{36}$`));
  const page = await client.get(url);
  assert.equal(page.status, 200, textOf(page.body));
  assert.match(page.body, /data:image\/svg\+xml;base64,/, 'a QR code to scan');
  return { url, page, secret: secretShownOn(page).bytes };
}

export function tenantOf(world: TestWorld, organisationId: string) {
  return tenantFor(world.db, organisationId);
}

export function devicesOf(world: TestWorld, organisationId: string, userId: string): Promise<Device[]> {
  return tenantOf(world, organisationId).devices.listForUser(userId);
}

export async function userIn(world: TestWorld, organisationId: string, userId: string): Promise<User> {
  const user = await tenantOf(world, organisationId).users.findById(userId);
  assert.ok(user, `user ${userId} not found`);
  return user;
}

export function organisationOf(world: TestWorld, organisationId: string): Promise<Organisation> {
  return tenantOf(world, organisationId).organisation.get();
}

/** How many entries of `action` the audit log holds about the person. */
export async function auditEntriesAbout(world: TestWorld, userId: string, action: AuditAction): Promise<number> {
  const entries = await world.db
    .selectFrom('audit_events')
    .select('id')
    .where('subject_id', '=', userId)
    .where('action', '=', action)
    .execute();
  return entries.length;
}

/** The person's run of wrong second factors, as stored. */
export async function wrongCodesInARow(world: TestWorld, userId: string): Promise<number> {
  const row = await world.db
    .selectFrom('users')
    .select('code_failures')
    .where('id', '=', userId)
    .executeTakeFirstOrThrow();
  return row.code_failures;
}

/** Sessions of a user as stored; the repository has no listing, the table is read directly. */
export function sessionsOf(world: TestWorld, userId: string) {
  return world.db
    .selectFrom('sessions')
    .select(['id', 'stage', 'code_failures'])
    .where('user_id', '=', userId)
    .execute();
}

/** Requires 2FA of everyone in the organisation from `start`, and sets what happens after. */
export async function requireEveryoneFrom(
  world: TestWorld,
  organisationId: string,
  start: Date,
  afterDeadline: AfterDeadline = 'set_up_at_login',
): Promise<void> {
  const organisation = tenantOf(world, organisationId).organisation;
  assert.ok(await organisation.setRequireAllFrom(start, world.clock.now()));
  await organisation.setAfterDeadline(afterDeadline);
}

export async function requireOfUser(
  world: TestWorld,
  organisationId: string,
  userId: string,
  personalDeadline: Date | null = null,
): Promise<void> {
  await tenantOf(world, organisationId).users.setTwoFactorRequirement(
    userId,
    true,
    personalDeadline,
    world.clock.now(),
  );
}

export function minutesFromNow(world: TestWorld, minutes: number): Date {
  return new Date(world.clock.now().getTime() + minutes * MINUTE_MS);
}

/** A request with exactly this cookie, as a copied or stale cookie would be sent. */
export function getWithSession(world: TestWorld, url: string, token: string) {
  return world.app.inject({ method: 'GET', url, headers: { cookie: `${SESSION_COOKIE}=${token}` } });
}

/** A code the device shows neither now nor a few minutes either side: plainly wrong. */
export function wrongCodeFor(world: TestWorld, secret: Uint8Array): string {
  const now = world.clock.now().getTime();
  const near = new Set<string>();
  for (let minutes = -5; minutes <= 5; minutes += 0.5) near.add(codeAt(secret, new Date(now + minutes * MINUTE_MS)));
  for (let n = 0; ; n += 1) {
    const candidate = String((n * 7919) % 1_000_000).padStart(6, '0');
    if (!near.has(candidate)) return candidate;
  }
}

/** A browser from `ip` that has given the password and stands at the code step. */
export async function atCodeStep(world: TestWorld, email: string, ip = '203.0.113.10'): Promise<Browser> {
  const browser = new Browser(world.app, fromAddress(ip));
  await browser.get('/login');
  const afterPassword = await browser.post('/login', { email, password: PASSWORD });
  assert.equal(afterPassword.location, '/login/code', textOf(afterPassword.body));
  await browser.get('/login/code');
  return browser;
}

/** An organisation and its super admin, enrolled with an app (so a requirement never holds them up), signed in on Manage 2FA. */
export async function superAdminOnManage2fa(world: TestWorld) {
  const org = await makeOrganisation(world);
  const boss = await makeUser(world, org, { role: 'super_admin' });
  const client = await signedIn(world, boss.email, await linkDevice(world, org, boss.id));
  await client.get('/admin/2fa');
  return { org, boss, client };
}
