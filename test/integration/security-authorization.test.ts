// The authorization matrix: every registered route against six actors, each cell with
// organisations and people of its own, so that what one cell does cannot colour the next.
// A route added to the app without a row here fails the test, and so does a row left behind.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { codeAt } from '../../src/domain/totp.js';
import type { Role } from '../../src/domain/users.js';
import { audit } from '../../src/services/audit.js';
import { tenantFor } from '../../src/store/tenant.js';
import { buildWorld, makeOrganisation, makeUser, PASSWORD, type TestWorld } from '../helpers/app.js';
import { Browser, type Page } from '../helpers/browser.js';
import {
  addConfirmedDevice,
  addUnconfirmedDevice,
  fromAddress,
  seedSession,
  sessionIdOf,
  snapshotOfOrganisation,
} from '../helpers/security.js';

/**
 * What an actor gets from a route:
 * - ok: a 2xx page, or a 303 that is the action's own result: it goes somewhere other than
 *   a login step, or it sets a cookie (a flash message, a new session) on the way there;
 * - login / code / setup / home: the guard's 303, setting no cookie, to /login, /login/code,
 *   /setup or /account: where this actor's login stands, nothing carried out;
 * - step_up: a 303 to /confirm-identity?next=…;
 * - sign_in: a proxy's check answered 401 (nginx) or 302 (Traefik, Caddy) with Twofold's
 *   sign-in for the site as the Location;
 * - forbidden: 403; not_found: 404; bad_request: 400.
 */
type Outcome =
  'ok' | 'login' | 'code' | 'setup' | 'home' | 'step_up' | 'sign_in' | 'forbidden' | 'not_found' | 'bad_request';

const ACTORS = ['anonymous', 'pending', 'user', 'admin', 'super_admin', 'foreign_super_admin'] as const;
type Actor = (typeof ACTORS)[number];
type Row = readonly [Outcome, Outcome, Outcome, Outcome, Outcome, Outcome];

const GUARD_REDIRECTS: Record<string, Outcome> = {
  '/login': 'login',
  '/login/code': 'code',
  '/setup': 'setup',
  '/account': 'home',
};

function outcomeOf(answer: Page): string {
  if (answer.status >= 200 && answer.status < 300) return 'ok';
  if (
    (answer.status === 401 || answer.status === 302) &&
    /^http:\/\/127\.0\.0\.1:3000\/auth\/sign-in\?rd=/.test(answer.location ?? '')
  )
    return 'sign_in';
  if (answer.status === 403) return 'forbidden';
  if (answer.status === 404) return 'not_found';
  if (answer.status === 400) return 'bad_request';
  if (answer.status === 303 && answer.location !== undefined) {
    const path = answer.location.split('?')[0] ?? '';
    if (path === '/confirm-identity') return 'step_up';
    const guard = GUARD_REDIRECTS[path];
    return guard !== undefined && answer.setCookies.length === 0 ? guard : 'ok';
  }
  return `status ${answer.status} ${answer.location ?? ''}`;
}

/** One actor's own ids, for the routes that act on the actor's own devices and sessions. */
interface Party {
  id: string;
  email: string;
  confirmed: { id: string; secret: Uint8Array };
  unconfirmed: { id: string; secret: Uint8Array };
  otherSessionId: string;
}

interface Cell {
  world: TestWorld;
  self: Party;
  target: Party & {
    name: string;
    linkToken: string;
    applicationId: string;
    siteId: string;
    siteHost: string;
    mailId: string;
  };
}

type Form = (cell: Cell) => Record<string, string>;

interface RouteRow {
  /** anonymous, pending, user, admin, super admin, super admin of another organisation */
  expect: Row;
  /** Signed in more than 10 minutes ago, the signed-in actors are sent to /confirm-identity first. */
  stepUp?: true;
  form?: Form;
  /** Headers the request carries besides the browser's: a proxy's, for its checks. */
  headers?: (cell: Cell) => Record<string, string>;
}

const EVERYONE: Row = ['ok', 'ok', 'ok', 'ok', 'ok', 'ok'];
const CODE_STEP: Row = ['login', 'ok', 'home', 'home', 'home', 'home'];
const SETUP_STEP: Row = ['login', 'code', 'home', 'home', 'home', 'home'];
const SIGNED_IN: Row = ['login', 'code', 'ok', 'ok', 'ok', 'ok'];
const ADMINS: Row = ['login', 'code', 'forbidden', 'ok', 'ok', 'ok'];
const ADMINS_OF_THE_USER: Row = ['login', 'code', 'forbidden', 'ok', 'ok', 'not_found'];
const SUPER_ADMINS: Row = ['login', 'code', 'forbidden', 'forbidden', 'ok', 'ok'];
const SUPER_ADMINS_OF_THE_USER: Row = ['login', 'code', 'forbidden', 'forbidden', 'ok', 'not_found'];

/** An application's request without what it needs (the provider's own answer), whoever sends it. */
const PROTOCOL_REFUSAL: Row = [
  'bad_request',
  'bad_request',
  'bad_request',
  'bad_request',
  'bad_request',
  'bad_request',
];

/** A proxy's check of a site of the target's organisation: members in, strangers out, the rest to sign in. */
const SITE_CHECK: Row = ['sign_in', 'sign_in', 'ok', 'ok', 'ok', 'forbidden'];

function proxyHeaders(cell: Cell): Record<string, string> {
  return { 'x-forwarded-proto': 'https', 'x-forwarded-host': cell.target.siteHost, 'x-forwarded-uri': '/' };
}

const NEW_PASSWORD = 'a brand new passphrase';
const codeOf = (device: { secret: Uint8Array }, cell: Cell) => codeAt(device.secret, cell.world.clock.now());

const MATRIX: Record<string, RouteRow> = {
  'GET /static/app.css': { expect: EVERYONE },
  'GET /static/simplewebauthn-browser.js': { expect: EVERYONE },
  'GET /static/security-key.js': { expect: EVERYONE },
  'GET /healthz': { expect: EVERYONE },
  'GET /readyz': { expect: EVERYONE },
  // Not found unless TWOFOLD_METRICS=true (the matrix's app runs without it); then open, like /healthz.
  'GET /metrics': { expect: ['not_found', 'not_found', 'not_found', 'not_found', 'not_found', 'not_found'] },
  'GET /': { expect: ['login', 'code', 'home', 'home', 'home', 'home'] },
  'GET /login': { expect: ['ok', 'code', 'home', 'home', 'home', 'home'] },
  // Public: a password starts a login whoever sends it (here the target user's).
  'POST /login': { expect: EVERYONE, form: (c) => ({ email: c.target.email, password: PASSWORD }) },
  'GET /login/code': { expect: CODE_STEP },
  'POST /login/code': { expect: CODE_STEP, form: (c) => ({ code: codeOf(c.self.confirmed, c) }) },
  'POST /logout': { expect: ['login', 'ok', 'ok', 'ok', 'ok', 'ok'], form: () => ({}) },
  'GET /setup': { expect: SETUP_STEP },
  'POST /setup/devices': { expect: SETUP_STEP, form: () => ({ name: 'Tablet' }) },
  'GET /setup/devices/:id': { expect: SETUP_STEP },
  'POST /setup/devices/:id': { expect: SETUP_STEP, form: (c) => ({ code: codeOf(c.self.unconfirmed, c) }) },
  'GET /setup/security-keys': { expect: SETUP_STEP },
  'POST /setup/security-keys': { expect: SETUP_STEP, form: () => ({ name: 'Key', answer: '' }) },
  'GET /2fa/security-keys': { expect: SIGNED_IN, stepUp: true },
  // Reached: a form without a key's answer is refused with the reason.
  'POST /2fa/security-keys': {
    expect: ['login', 'code', 'bad_request', 'bad_request', 'bad_request', 'bad_request'],
    stepUp: true,
    form: () => ({ name: 'Key', answer: '' }),
  },
  'GET /2fa': { expect: SIGNED_IN },
  'POST /2fa/devices': { expect: SIGNED_IN, stepUp: true, form: () => ({ name: 'Tablet' }) },
  'GET /2fa/devices/:id': { expect: SIGNED_IN, stepUp: true },
  'POST /2fa/devices/:id': {
    expect: SIGNED_IN,
    stepUp: true,
    form: (c) => ({ code: codeOf(c.self.unconfirmed, c) }),
  },
  'GET /2fa/devices/:id/remove': { expect: SIGNED_IN, stepUp: true },
  'POST /2fa/devices/:id/remove': { expect: SIGNED_IN, stepUp: true, form: () => ({}) },
  'GET /2fa/recovery-codes': { expect: SIGNED_IN },
  'POST /2fa/recovery-codes': { expect: SIGNED_IN, stepUp: true, form: () => ({}) },
  'GET /account': { expect: SIGNED_IN },
  'GET /account/password': { expect: SIGNED_IN, stepUp: true },
  'POST /account/password': {
    expect: SIGNED_IN,
    stepUp: true,
    form: () => ({ current: PASSWORD, password: NEW_PASSWORD, confirmation: NEW_PASSWORD }),
  },
  // Public: the link's token is the credential.
  'GET /set-password/:token': { expect: EVERYONE },
  // Public: the same answer for any address (a new one in each cell, away from the limits).
  'GET /forgot-password': { expect: EVERYONE },
  'POST /forgot-password': { expect: EVERYONE, form: () => ({ email: `forgot.${cellNumber}@example.com` }) },
  'POST /set-password/:token': {
    expect: EVERYONE,
    form: () => ({ password: NEW_PASSWORD, confirmation: NEW_PASSWORD }),
  },
  'GET /account/sessions': { expect: SIGNED_IN },
  'POST /account/sessions/:id/end': { expect: SIGNED_IN, form: () => ({}) },
  'POST /account/sessions/end-others': { expect: SIGNED_IN, form: () => ({}) },
  'GET /confirm-identity': { expect: SIGNED_IN },
  'POST /confirm-identity': {
    expect: SIGNED_IN,
    form: (c) => ({ password: PASSWORD, code: codeOf(c.self.confirmed, c), next: '/2fa' }),
  },
  // OpenID Connect: the provider's endpoints answer applications and browsers alike (here
  // the keys, and a token request without a code); the interaction page, without the
  // provider's interaction cookie, is an expired sign-in for everyone.
  'GET /.well-known/openid-configuration': { expect: EVERYONE },
  'GET /oidc/*': { expect: EVERYONE },
  'POST /oidc/*': { expect: PROTOCOL_REFUSAL, form: () => ({ grant_type: 'authorization_code' }) },
  'GET /oidc/interaction/:uid': { expect: PROTOCOL_REFUSAL },
  // Forward auth: a proxy's check of a request for the target's organisation's site. Anyone
  // not signed in (a pending login too) is sent to sign in; a member is let in; a person of
  // another organisation is refused. The sign-in pages without an address to go to are a
  // plain 400 for everyone (forward-auth.test.ts goes through them).
  'GET /auth/nginx': { expect: SITE_CHECK, headers: proxyHeaders },
  'GET /auth/forward': { expect: SITE_CHECK, headers: proxyHeaders },
  'GET /auth/sign-in': { expect: PROTOCOL_REFUSAL },
  'GET /auth/continue': { expect: PROTOCOL_REFUSAL },
  'GET /admin/audit': { expect: ADMINS },
  'GET /admin/audit.csv': { expect: ADMINS },
  'GET /admin/users': { expect: ADMINS },
  'GET /admin/users/new': { expect: ADMINS },
  'POST /admin/users': {
    expect: ADMINS,
    form: () => ({ name: 'New Person', email: `new.person.${cellNumber}@example.com`, role: 'user' }),
  },
  'GET /admin/users/:id': { expect: ADMINS_OF_THE_USER },
  'POST /admin/users/:id': {
    expect: ADMINS_OF_THE_USER,
    form: (c) => ({ name: 'Renamed Person', email: c.target.email, role: 'admin', status: 'inactive' }),
  },
  'POST /admin/users/:id/2fa': { expect: SUPER_ADMINS_OF_THE_USER, form: () => ({ required: 'yes', deadline: '' }) },
  'GET /admin/users/:id/reset-2fa': { expect: SUPER_ADMINS_OF_THE_USER },
  'POST /admin/users/:id/reset-2fa': { expect: SUPER_ADMINS_OF_THE_USER, form: () => ({}) },
  'POST /admin/users/:id/password-link': { expect: ADMINS_OF_THE_USER, form: () => ({}) },
  'POST /admin/users/:id/unlock-2fa': { expect: SUPER_ADMINS_OF_THE_USER, form: () => ({}) },
  'GET /admin/users/:id/devices/:deviceId/remove': { expect: SUPER_ADMINS_OF_THE_USER },
  'POST /admin/users/:id/devices/:deviceId/remove': { expect: SUPER_ADMINS_OF_THE_USER, form: () => ({}) },
  'GET /admin/2fa': { expect: SUPER_ADMINS },
  'POST /admin/2fa/requirement': { expect: SUPER_ADMINS, form: () => ({ start: 'now', understood: 'yes' }) },
  'POST /admin/2fa/cancel': { expect: SUPER_ADMINS, form: () => ({}) },
  'POST /admin/2fa/after-deadline': { expect: SUPER_ADMINS, form: () => ({ afterDeadline: 'block' }) },
  'POST /admin/2fa/time-zone': { expect: SUPER_ADMINS, form: () => ({ timeZone: 'Europe/Amsterdam' }) },
  'GET /admin/email': { expect: SUPER_ADMINS },
  // Another organisation's message is not found: the page says nothing was sent again.
  'POST /admin/email/:id/send-again': { expect: SUPER_ADMINS, form: () => ({}) },
  'GET /admin/applications': { expect: SUPER_ADMINS },
  'POST /admin/applications': {
    expect: SUPER_ADMINS,
    form: () => ({ name: 'New App', redirectUris: 'https://new.example/cb', postLogoutRedirectUris: '' }),
  },
  // Another organisation's application is not found.
  'GET /admin/applications/:id/edit': { expect: SUPER_ADMINS_OF_THE_USER },
  'POST /admin/applications/:id/edit': {
    expect: SUPER_ADMINS_OF_THE_USER,
    form: (c) => ({
      name: 'Renamed Application',
      redirectUris: `https://changed-${c.target.applicationId}.example/cb`,
      postLogoutRedirectUris: '',
      requireTwoFactor: 'yes',
      idTokenSigningAlg: 'ES256',
    }),
  },
  'GET /admin/applications/:id/rotate-secret': { expect: SUPER_ADMINS_OF_THE_USER },
  'POST /admin/applications/:id/rotate-secret': { expect: SUPER_ADMINS_OF_THE_USER, form: () => ({}) },
  'GET /admin/applications/:id/delete': { expect: SUPER_ADMINS_OF_THE_USER },
  'POST /admin/applications/:id/delete': { expect: SUPER_ADMINS_OF_THE_USER, form: () => ({}) },
  'POST /admin/applications/sites': { expect: SUPER_ADMINS, form: () => ({ host: `new-${cellNumber}.example` }) },
  // Another organisation's site is not found.
  'GET /admin/applications/sites/:id/delete': { expect: SUPER_ADMINS_OF_THE_USER },
  'POST /admin/applications/sites/:id/delete': { expect: SUPER_ADMINS_OF_THE_USER, form: () => ({}) },
};

/** The address of a route with its parameters filled in: the actor's own ids, or the target user's. */
function addressOf(url: string, cell: Cell): string {
  if (url.startsWith('/admin/users/:id')) {
    return url.replace(':id', cell.target.id).replace(':deviceId', cell.target.confirmed.id);
  }
  if (url.startsWith('/admin/applications/sites/:id')) return url.replace(':id', cell.target.siteId);
  if (url.startsWith('/admin/applications/:id')) return url.replace(':id', cell.target.applicationId);
  if (url === '/set-password/:token') return `/set-password/${cell.target.linkToken}`;
  if (url === '/admin/email/:id/send-again') return `/admin/email/${cell.target.mailId}/send-again`;
  if (url === '/oidc/*') return '/oidc/jwks';
  if (url === '/oidc/interaction/:uid') return '/oidc/interaction/no-such-interaction';
  if (url === '/account/sessions/:id/end') return `/account/sessions/${cell.self.otherSessionId}/end`;
  if (url.endsWith('/:id/remove')) return url.replace(':id', cell.self.confirmed.id);
  return url.replace(':id', cell.self.unconfirmed.id);
}

const ROLES: Record<Exclude<Actor, 'anonymous'>, Role> = {
  pending: 'user',
  user: 'user',
  admin: 'admin',
  super_admin: 'super_admin',
  foreign_super_admin: 'super_admin',
};

async function partyIn(world: TestWorld, organisationId: string, role: Role, name?: string): Promise<Party> {
  const user = await makeUser(world, organisationId, { role, ...(name === undefined ? {} : { name }) });
  const confirmed = await addConfirmedDevice(world, organisationId, user.id);
  const unconfirmed = await addUnconfirmedDevice(world, organisationId, user.id);
  const other = await seedSession(world, organisationId, user.id, 'signed_in', { ip: '198.51.100.77' });
  return { id: user.id, email: user.email, confirmed, unconfirmed, otherSessionId: sessionIdOf(other) };
}

interface CellReport {
  outcome: string;
  location: string | undefined;
  /** The answer shows a name or email of the target's organisation, or the organisation changed. */
  readsTargetOrganisation: boolean;
  changesTargetOrganisation: boolean;
  crossOrganisationRead: boolean;
  crossOrganisationChange: boolean;
}

/** What a refusal must leave as it was: both organisations of the cell and the password throttles. */
async function snapshotOfCell(world: TestWorld, organisations: string[]): Promise<string> {
  const parts = [JSON.stringify(await world.db.selectFrom('login_throttles').selectAll().execute())];
  for (const id of organisations) parts.push(await snapshotOfOrganisation(world, id));
  return parts.join('\n');
}

let cellNumber = 0;

/**
 * One cell: two new organisations in the shared app (nothing one cell stores is seen by
 * another: every row belongs to the cell's organisations, every email is new), the actor
 * with a session as its login leaves it, and one request.
 */
async function runCell(
  world: TestWorld,
  routeKey: string,
  actor: Actor,
  row: Pick<RouteRow, 'form' | 'headers'>,
  options: { verifiedMinutesAgo: number },
): Promise<CellReport> {
  cellNumber += 1;
  const orgA = await makeOrganisation(world, `Alpha Organisation ${cellNumber}`);
  const orgB = await makeOrganisation(world, `Beta Organisation ${cellNumber}`);
  const parties = new Map<Exclude<Actor, 'anonymous'>, Party>();
  for (const name of ['pending', 'user', 'admin', 'super_admin'] as const) {
    parties.set(name, await partyIn(world, orgA, ROLES[name]));
  }
  parties.set('foreign_super_admin', await partyIn(world, orgB, 'super_admin'));
  const targetName = `Target Person ${cellNumber}`;
  const targetParty = await partyIn(world, orgA, 'user', targetName);
  const now = world.clock.now();
  const tenantA = tenantFor(world.db, orgA);
  const linkToken = await tenantA.passwordLinks.issue(targetParty.id, 'reset', now, new Date(now.getTime() + 3600_000));
  // Something about the target in their organisation's audit log, for the log's readers.
  const targetUser = await tenantA.users.findById(targetParty.id);
  await audit(tenantA, now, { actor: null, client: null }, 'login_failed', targetUser, { reason: 'wrong_password' });
  // An application of the target's organisation, for the routes that act on one.
  const applicationId = `app-${cellNumber}`;
  await tenantA.applications.insert({
    id: applicationId,
    name: `Target Application ${cellNumber}`,
    redirectUris: [`https://app-${cellNumber}.example/cb`],
    postLogoutRedirectUris: [],
    requireTwoFactor: false,
    secret: `secret of cell ${cellNumber}`,
    now,
  });
  // And a site it protects, for the proxy's checks and the routes that act on one.
  const siteId = `site-${cellNumber}`;
  const siteHost = `site-${cellNumber}.example`;
  await tenantA.sites.insert({ id: siteId, host: siteHost, requireTwoFactor: false, now });
  // A message to the target that failed, for the super admins' page of email not sent.
  const mailId = `mail-${cellNumber}`;
  await tenantA.mailOutbox.queue({
    id: mailId,
    recipient: targetParty.email,
    kind: 'invitation',
    subject: `Set your password for Alpha Organisation ${cellNumber}`,
    sealedBody: 'v2.0000000000000000.sealed',
    messageId: `<${mailId}@127.0.0.1>`,
    now,
  });
  await world.db.updateTable('mail_outbox').set({ state: 'failed' }).where('id', '=', mailId).execute();
  const target = { ...targetParty, name: targetName, linkToken, applicationId, siteId, siteHost, mailId };

  const browser = new Browser(world.app, fromAddress());
  const self = actor === 'anonymous' ? target : parties.get(actor);
  assert.ok(self);
  if (actor !== 'anonymous') {
    const organisation = actor === 'foreign_super_admin' ? orgB : orgA;
    const stage = actor === 'pending' ? 'code' : 'signed_in';
    browser.cookies.set('twofold_session', await seedSession(world, organisation, self.id, stage, options));
  }
  // A page of the actor's own, for the CSRF token every form carries.
  const home = await browser.get(actor === 'anonymous' ? '/login' : actor === 'pending' ? '/login/code' : '/account');
  assert.ok(browser.csrf, `no form token on ${actor}'s page (${home.status})`);

  const cell: Cell = { world, self, target };
  const [method, url = ''] = routeKey.split(' ');
  const before = await snapshotOfCell(world, [orgA, orgB]);
  const beforeA = await snapshotOfOrganisation(world, orgA);
  const address = addressOf(url, cell);
  const answer =
    method === 'POST'
      ? await browser.post(address === '/oidc/jwks' ? '/oidc/token' : address, (row.form ?? (() => ({})))(cell))
      : await browser.send('GET', address, { headers: row.headers?.(cell) ?? {} });
  const outcome = outcomeOf(answer);

  // A refusal or a redirect by the guard carries nothing out: the database is as it was.
  if (outcome !== 'ok') {
    assert.equal(
      await snapshotOfCell(world, [orgA, orgB]),
      before,
      `${routeKey} as ${actor} (${outcome}) changed data`,
    );
  }
  // Public routes answer to the credential sent (a password, a link's token), not to the session.
  const isPublic = url === '/login' || url.startsWith('/set-password/') || url === '/forgot-password';
  const foreign = actor === 'foreign_super_admin' && !isPublic;
  const readable = [
    `Alpha Organisation ${cellNumber}`,
    targetName,
    `Target Application ${cellNumber}`,
    target.email,
    ...[...parties.entries()].filter(([name]) => name !== 'foreign_super_admin').map(([, party]) => party.email),
  ];
  const readsTargetOrganisation = readable.some((text) => answer.body.includes(text));
  const changesTargetOrganisation = (await snapshotOfOrganisation(world, orgA)) !== beforeA;
  return {
    outcome,
    location: answer.location,
    readsTargetOrganisation,
    changesTargetOrganisation,
    crossOrganisationRead: foreign && readsTargetOrganisation,
    crossOrganisationChange: foreign && changesTargetOrganisation,
  };
}

function routeKeysOf(routes: readonly { method: string; url: string }[]): string[] {
  return [...new Set(routes.filter((r) => r.method !== 'HEAD').map((r) => `${r.method} ${r.url}`))].sort();
}

test('the matrix has exactly one row for every registered route, and its step-up column matches the routes', async (t) => {
  const world = await buildWorld(t);
  try {
    const registered = routeKeysOf(world.app.twofold.routes);
    const missing = registered.filter((key) => !(key in MATRIX));
    const stale = Object.keys(MATRIX).filter((key) => !registered.includes(key));
    assert.deepEqual(missing, [], `routes without a row in the authorization matrix: ${missing.join(', ')}`);
    assert.deepEqual(stale, [], `rows for routes that no longer exist: ${stale.join(', ')}`);
    for (const route of world.app.twofold.routes.filter((r) => r.method !== 'HEAD')) {
      const row = MATRIX[`${route.method} ${route.url}`];
      assert.equal(row?.stepUp === true, route.stepUp, `${route.method} ${route.url}: step-up`);
    }
  } finally {
    await world.close();
  }
});

test('every route answers each actor as the matrix says, and never across organisations', async (t) => {
  const world = await buildWorld(t);
  const registered = routeKeysOf(world.app.twofold.routes);

  let cells = 0;
  let crossReads = 0;
  let crossChanges = 0;
  // The same detectors on the target's own admins, to show they see reads and changes at all.
  let adminReads = 0;
  let adminChanges = 0;
  const wrong: string[] = [];
  for (const key of registered) {
    const row = MATRIX[key];
    if (row === undefined) continue; // reported by the test above
    for (const [index, actor] of ACTORS.entries()) {
      const expected = row.expect[index];
      const report = await runCell(world, key, actor, row, { verifiedMinutesAgo: 0 });
      cells += 1;
      if (report.outcome !== expected) wrong.push(`${key} as ${actor}: expected ${expected}, got ${report.outcome}`);
      if (report.crossOrganisationRead) crossReads += 1;
      if (report.crossOrganisationChange) crossChanges += 1;
      if (actor === 'super_admin' && report.readsTargetOrganisation) adminReads += 1;
      if (actor === 'super_admin' && report.changesTargetOrganisation) adminChanges += 1;
    }
  }
  t.diagnostic(`authorization matrix: ${cells} (route × actor) cells checked over ${registered.length} routes`);
  t.diagnostic(`cross-organisation reads: ${crossReads}, cross-organisation changes: ${crossChanges}`);
  t.diagnostic(`(the same detectors on the target's own super admin: ${adminReads} reads, ${adminChanges} changes)`);
  assert.deepEqual(wrong, []);
  assert.ok(adminReads >= 5 && adminChanges >= 5, 'the read and change detectors see nothing at all');
  assert.equal(crossReads, 0);
  assert.equal(crossChanges, 0);
});

test('signed in more than 10 minutes ago, each step-up route sends every signed-in actor to confirm who they are', async (t) => {
  const world = await buildWorld(t);
  let cells = 0;
  const wrong: string[] = [];
  for (const [key, row] of Object.entries(MATRIX)) {
    if (row.stepUp !== true) continue;
    for (const [index, actor] of ACTORS.entries()) {
      if (actor === 'anonymous' || actor === 'pending') continue;
      // Whatever the handler would answer (a page, or a form's refusal), a stale session is asked who it is first.
      const reached = row.expect[index] === 'ok' || row.expect[index] === 'bad_request';
      const expected = reached ? 'step_up' : row.expect[index];
      const report = await runCell(world, key, actor, row, { verifiedMinutesAgo: 11 });
      cells += 1;
      if (report.outcome !== expected) wrong.push(`${key} as ${actor}: expected ${expected}, got ${report.outcome}`);
      const next = new URL(report.location ?? '/', 'http://twofold.test').searchParams.get('next') ?? '';
      if (expected === 'step_up' && !next.startsWith('/')) wrong.push(`${key} as ${actor}: no way back (${next})`);
    }
  }
  t.diagnostic(
    `step-up: ${cells} (step-up route × signed-in actor) cells checked 11 minutes after the last confirmation`,
  );
  assert.deepEqual(wrong, []);
});

test("another user's device and session ids on one's own pages reach nothing of theirs", async (t) => {
  let attempts = 0;
  let changes = 0;
  let leaks = 0;
  for (const actor of ['user', 'admin', 'super_admin', 'foreign_super_admin'] as const) {
    const world = await buildWorld(t);
    try {
      const orgA = await makeOrganisation(world, 'Alpha Organisation');
      const orgB = await makeOrganisation(world, 'Beta Organisation');
      const organisation = actor === 'foreign_super_admin' ? orgB : orgA;
      const self = await partyIn(world, organisation, ROLES[actor]);
      const target = await partyIn(world, orgA, 'user', 'Target Person');
      const browser = new Browser(world.app, fromAddress());
      browser.cookies.set('twofold_session', await seedSession(world, organisation, self.id, 'signed_in'));
      await browser.get('/2fa');
      const targetRows = async () =>
        JSON.stringify([
          await world.db.selectFrom('users').selectAll().where('id', '=', target.id).execute(),
          await world.db.selectFrom('devices').selectAll().where('user_id', '=', target.id).execute(),
          await world.db.selectFrom('sessions').selectAll().where('user_id', '=', target.id).execute(),
        ]);
      const before = await targetRows();
      const tries: Page[] = [
        await browser.get(`/2fa/devices/${target.unconfirmed.id}`),
        await browser.post(`/2fa/devices/${target.unconfirmed.id}`, {
          code: codeAt(target.unconfirmed.secret, world.clock.now()),
        }),
        await browser.get(`/2fa/devices/${target.confirmed.id}/remove`),
        await browser.post(`/2fa/devices/${target.confirmed.id}/remove`, {}),
        await browser.post(`/account/sessions/${target.otherSessionId}/end`, {}),
      ];
      attempts += tries.length;
      for (const answer of tries) {
        assert.ok(answer.status < 500);
        if (answer.body.includes('Target Person') || answer.body.includes(target.email)) leaks += 1;
      }
      if ((await targetRows()) !== before) changes += 1;
    } finally {
      await world.close();
    }
  }
  t.diagnostic(`cross-user attempts on own-account routes: ${attempts}, changes: ${changes}, reads: ${leaks}`);
  assert.equal(changes, 0);
  assert.equal(leaks, 0);
});

test('an admin can neither manage a super admin nor make anyone one', async (t) => {
  const world = await buildWorld(t);
  const org = await makeOrganisation(world, 'Gamma Organisation');
  const admin = await partyIn(world, org, 'admin');
  const superAdmin = await partyIn(world, org, 'super_admin', 'Chief Person');
  const colleague = await partyIn(world, org, 'user');
  const browser = new Browser(world.app, fromAddress());
  browser.cookies.set('twofold_session', await seedSession(world, org, admin.id, 'signed_in'));
  await browser.get('/account');
  const cell: Cell = {
    world,
    self: admin,
    target: {
      ...superAdmin,
      name: 'Chief Person',
      linkToken: '',
      applicationId: '',
      siteId: '',
      siteHost: '',
      mailId: '',
    },
  };

  let refused = 0;
  for (const [key, row] of Object.entries(MATRIX)) {
    if (!key.includes('/admin/users/:id')) continue;
    const [method, url = ''] = key.split(' ');
    const before = await snapshotOfOrganisation(world, org);
    const address = addressOf(url, cell);
    const answer =
      method === 'POST' ? await browser.post(address, (row.form ?? (() => ({})))(cell)) : await browser.get(address);
    assert.equal(outcomeOf(answer), 'forbidden', `${key} on a super admin`);
    assert.equal(await snapshotOfOrganisation(world, org), before, `${key} changed data`);
    refused += 1;
  }

  const promote = await browser.post(`/admin/users/${colleague.id}`, {
    name: 'Colleague',
    email: colleague.email,
    role: 'super_admin',
    status: 'active',
  });
  assert.equal(promote.status, 400);
  const create = await browser.post('/admin/users', { name: 'Boss', email: 'boss@example.com', role: 'super_admin' });
  assert.equal(create.status, 400);
  const roles = await world.db
    .selectFrom('users')
    .select(['email', 'role'])
    .where('organisation_id', '=', org)
    .execute();
  assert.deepEqual(
    roles.filter((r) => r.role === 'super_admin').map((r) => r.email),
    [superAdmin.email],
  );
  t.diagnostic(
    `admin on a super admin: ${refused} of ${refused} routes refused (403), 2 of 2 promotions to super admin refused`,
  );
});
