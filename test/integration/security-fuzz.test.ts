// Hostile input on every route: fast-check sends malformed, oversized, wrongly typed and
// forged requests as every kind of caller, and the app must answer each with a page, never
// a server error, and still be up at the end.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { codeAt } from '../../src/domain/totp.js';
import { tenantFor } from '../../src/store/tenant.js';
import { buildWorld, makeOrganisation, makeUser, PASSWORD, type TestWorld } from '../helpers/app.js';
import { Browser } from '../helpers/browser.js';
import { testDatabaseKind } from '../helpers/databases.js';
import {
  addConfirmedDevice,
  addUnconfirmedDevice,
  fromAddress,
  seedSession,
  sessionIdOf,
} from '../helpers/security.js';

const BODY_LIMIT = 16 * 1024;
/** Requests per route; the file stays under a minute (a request costs several times more on PostgreSQL). */
const RUNS_PER_ROUTE = testDatabaseKind() === 'postgres' ? 25 : 60;

const CALLERS = ['none', 'super_admin', 'admin', 'user', 'pending', 'setup', 'garbage', 'huge'] as const;
type Caller = (typeof CALLERS)[number];
type CsrfToken = 'valid' | 'missing' | 'forged' | 'huge' | 'twice' | 'header';

/** Every form field name the app's forms use, so that random forms often have the right ones. */
const FIELD_NAMES = [
  'email',
  'password',
  'code',
  'name',
  'current',
  'confirmation',
  'next',
  'role',
  'status',
  'required',
  'deadline',
  'start',
  'date',
  'understood',
  'afterDeadline',
  'timeZone',
  'q',
  'page',
  'action',
  'person',
  'from',
  'until',
  'redirectUris',
  'postLogoutRedirectUris',
  'requireTwoFactor',
  'idTokenSigningAlg',
];

interface Fixtures {
  csrfCookie: string;
  csrfToken: string;
  people: Record<'super_admin' | 'admin' | 'user' | 'pending' | 'setup', { organisationId: string; userId: string }>;
  ids: string[];
  plausible: string[];
}

type Body =
  | { kind: 'none' }
  | { kind: 'form'; fields: Record<string, string | string[]> }
  | { kind: 'json'; value: unknown }
  | { kind: 'multipart'; fields: Record<string, string> }
  | { kind: 'raw'; contentType: string; payload: string }
  | { kind: 'oversize'; contentType: string; size: number };

interface Attempt {
  caller: Caller;
  junk: string;
  csrf: CsrfToken;
  forged: string;
  csrfCookie: 'valid' | 'missing' | 'garbage';
  params: string[];
  query: string;
  body: Body;
}

async function fixturesOf(world: TestWorld): Promise<Fixtures> {
  const org = await makeOrganisation(world, 'Fuzz Organisation');
  const other = await makeOrganisation(world, 'Elsewhere');
  const make = async (role: 'user' | 'admin' | 'super_admin', organisationId = org) => {
    const user = await makeUser(world, organisationId, { role });
    const device = await addConfirmedDevice(world, organisationId, user.id);
    return { organisationId, userId: user.id, email: user.email, device };
  };
  const superAdmin = await make('super_admin');
  const admin = await make('admin');
  const user = await make('user');
  const pending = await make('user');
  const setupUser = await makeUser(world, org);
  const foreigner = await make('user', other);
  const unconfirmed = await addUnconfirmedDevice(world, org, user.userId);
  const otherSession = await seedSession(world, org, user.userId, 'signed_in');
  const now = world.clock.now();
  const linkToken = await tenantFor(world.db, org).passwordLinks.issue(
    user.userId,
    'reset',
    now,
    new Date(now.getTime() + 3600_000),
  );
  // An application of the organisation, for the routes that change or delete one.
  const applicationId = 'fuzz-application';
  await tenantFor(world.db, org).applications.insert({
    id: applicationId,
    name: 'Fuzz Application',
    redirectUris: ['https://app.example/cb'],
    postLogoutRedirectUris: [],
    requireTwoFactor: false,
    secret: 'the fuzz application secret',
    now,
  });
  const login = await world.app.inject({ method: 'GET', url: '/login' });
  const csrfCookie = [login.headers['set-cookie'] ?? []]
    .flat()
    .map(String)
    .find((line) => line.startsWith('twofold_csrf='));
  const csrfToken = /name="_csrf" value="([^"]+)"/.exec(login.body)?.[1];
  assert.ok(csrfCookie && csrfToken);
  return {
    csrfCookie: csrfCookie.split(';')[0]?.slice('twofold_csrf='.length) ?? '',
    csrfToken,
    people: {
      super_admin: superAdmin,
      admin,
      user,
      pending,
      setup: { organisationId: org, userId: setupUser.id },
    },
    ids: [
      superAdmin.userId,
      user.userId,
      foreigner.userId,
      foreigner.device.id,
      user.device.id,
      unconfirmed.id,
      sessionIdOf(otherSession),
      linkToken,
      applicationId,
    ],
    plausible: [
      superAdmin.email,
      user.email,
      PASSWORD,
      codeAt(user.device.secret, now),
      '123 456',
      'yes',
      'now',
      'block',
      'set_up_at_login',
      'UTC',
      'super_admin',
      'inactive',
      '2027-01-01T09:00',
      '/admin/users',
      '//evil.example',
      '/\\evil.example',
      'https://evil.example/',
      '2027-02-30T10:00',
      '2027-03-28T02:30',
      '9999-12-31T23:59',
      '1969-12-31T23:59',
      '2026-11-22',
      '9999-99-99',
      'Etc/GMT+14',
      'America/Argentina/ComodRivadavia',
      'login_failed',
      'ES256',
      'https://app.example/cb',
      'https://app.example/cb\r\nhttp://localhost:8080/cb',
    ],
  };
}

/** Path parameters an attacker would try, all valid in a URL except where that is the point. */
function paramArbitrary(fixtures: Fixtures): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...fixtures.ids) },
    { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 60 }).map(encodeURIComponent) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }).map(encodeURIComponent) },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        '..',
        '..%2F..%2Fadmin',
        '%2e%2e%2f%2e%2e%2f',
        '%00',
        'a%00b',
        '%25',
        '%C0%AE%C0%AE',
        '%3Cscript%3Ealert(1)%3C%2Fscript%3E',
        "1'%20OR%20'1'%3D'1",
        '-1',
        '0',
        'null',
        '__proto__',
      ),
    },
    { weight: 1, arbitrary: fc.integer({ min: 65, max: 3000 }).map((n) => 'a'.repeat(n)) },
    // Not valid percent-encoding: the router cannot decode these.
    { weight: 1, arbitrary: fc.constantFrom('%', '%zz', '%E0%A4%A') },
  );
}

function valueArbitrary(fixtures: Fixtures): fc.Arbitrary<string> {
  return fc.oneof(
    fc.constantFrom(...fixtures.plausible, ...fixtures.ids),
    fc.string({ unit: 'grapheme', maxLength: 60 }),
    fc.string({ unit: 'binary', maxLength: 60 }),
    fc.integer({ min: 100, max: 12_000 }).map((n) => 'x'.repeat(n)),
    fc.integer({ min: 50, max: 1500 }).map((n) => 'é'.repeat(n)),
    fc.constantFrom('', ' ', '\u0000', '١٢٣٤٥٦', '\u202e', '<script>alert(1)</script>', '{{7*7}}', '${7*7}'),
  );
}

function fieldsArbitrary(fixtures: Fixtures): fc.Arbitrary<Record<string, string | string[]>> {
  const value = valueArbitrary(fixtures);
  return fc.dictionary(
    fc.oneof(fc.constantFrom(...FIELD_NAMES), fc.string({ maxLength: 12 })),
    fc.oneof(
      { weight: 4, arbitrary: value },
      { weight: 1, arbitrary: fc.array(value, { minLength: 2, maxLength: 3 }) },
    ),
    { maxKeys: 6 },
  );
}

function bodyArbitrary(fixtures: Fixtures): fc.Arbitrary<Body> {
  const fields = fieldsArbitrary(fixtures);
  return fc.oneof(
    { weight: 1, arbitrary: fc.constant<Body>({ kind: 'none' }) },
    { weight: 6, arbitrary: fields.map((f): Body => ({ kind: 'form', fields: f })) },
    {
      weight: 2,
      arbitrary: fc
        .oneof(fc.jsonValue({ maxDepth: 3 }), fields as fc.Arbitrary<unknown>)
        .map((value): Body => ({ kind: 'json', value })),
    },
    {
      weight: 1,
      arbitrary: fc
        .dictionary(fc.constantFrom(...FIELD_NAMES), valueArbitrary(fixtures), { maxKeys: 3 })
        .map((f): Body => ({ kind: 'multipart', fields: f })),
    },
    {
      weight: 2,
      arbitrary: fc
        .record({
          contentType: fc.constantFrom(
            'text/plain',
            'application/xml',
            'application/x-www-form-urlencoded; charset=utf-16',
            'application/x-www-form-urlencoded',
            'application/json',
            'application/octet-stream',
            'image/png',
            'x',
          ),
          payload: fc.oneof(
            fc.string({ unit: 'binary', maxLength: 200 }),
            fc.constantFrom('%%%&&==&email=%E0%A4%A', '{"email":', 'a=1&a=2&a[b]=3&__proto__[x]=1', '\u0000\u0001'),
          ),
        })
        .map((raw): Body => ({ kind: 'raw', ...raw })),
    },
    {
      weight: 1,
      arbitrary: fc
        .record({
          contentType: fc.constantFrom('application/x-www-form-urlencoded', 'application/json', 'text/plain'),
          size: fc.integer({ min: BODY_LIMIT + 1, max: 4 * BODY_LIMIT }),
        })
        .map((o): Body => ({ kind: 'oversize', ...o })),
    },
  );
}

function queryArbitrary(fixtures: Fixtures): fc.Arbitrary<string> {
  const value = valueArbitrary(fixtures);
  return fc.oneof(
    fc.constant(''),
    fc
      .dictionary(
        fc.oneof(
          fc.constantFrom('next', 'q', 'page', 'action', 'person', 'from', 'until', 'next[]', 'rd', 'to'),
          fc.string(),
        ),
        fc.oneof(value, fc.array(value, { minLength: 2, maxLength: 3 })),
        { maxKeys: 4 },
      )
      .map((query) => {
        const search = new URLSearchParams();
        for (const [key, v] of Object.entries(query)) for (const one of [v].flat()) search.append(key, one);
        return search.toString();
      }),
    fc.constantFrom(
      'next=//evil.example&next=/x',
      'q[]=1&q[]=2',
      '%zz=%E0%A4%A',
      'page=-1',
      'page=99999999',
      'rd=https://evil.example/',
      'rd=//evil.example/&rd=javascript:alert(1)',
      'to=aHR0cHM6Ly9ldmlsLmV4YW1wbGUv',
    ),
  );
}

/** The caller each access level admits: half the attempts come from it, to reach the handler. */
const ADMITTED: Record<string, 'none' | keyof Fixtures['people']> = {
  asset: 'none',
  public: 'none',
  protocol: 'none',
  code: 'pending',
  setup: 'setup',
  any_session: 'user',
  signed_in: 'user',
  admin: 'admin',
  super_admin: 'super_admin',
};

function attemptArbitrary(fixtures: Fixtures, access: string, paramCount: number): fc.Arbitrary<Attempt> {
  return fc.record({
    caller: fc.oneof(fc.constant(ADMITTED[access] ?? 'none'), fc.constantFrom(...CALLERS)),
    junk: fc.string({ unit: 'binary', maxLength: 100 }),
    csrf: fc.constantFrom<CsrfToken>('valid', 'valid', 'missing', 'forged', 'huge', 'twice', 'header'),
    forged: fc.string({ maxLength: 60 }),
    csrfCookie: fc.constantFrom('valid', 'valid', 'missing', 'garbage'),
    params: fc.array(paramArbitrary(fixtures), { minLength: paramCount, maxLength: paramCount }),
    query: queryArbitrary(fixtures),
    body: bodyArbitrary(fixtures),
  });
}

function encodeForm(fields: Record<string, string | string[]>, token: string | string[] | null): string {
  const search = new URLSearchParams();
  for (const one of [token ?? []].flat()) search.append('_csrf', one);
  for (const [key, value] of Object.entries(fields)) for (const one of [value].flat()) search.append(key, one);
  return search.toString();
}

function multipart(fields: Record<string, string>, token: string | null): { contentType: string; payload: string } {
  const boundary = 'fuzzboundary7MA4YWxkTrZu0gW';
  const parts = Object.entries(token === null ? fields : { _csrf: token, ...fields }).map(
    ([name, value]) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`,
  );
  return { contentType: `multipart/form-data; boundary=${boundary}`, payload: `${parts.join('')}--${boundary}--\r\n` };
}

interface Sent {
  /** A NUL byte went out somewhere in the request (path, query, body or cookies). */
  carriedNul: boolean;
  status: number;
  contentType: string;
  body: string;
  location: string | undefined;
}

async function send(world: TestWorld, fixtures: Fixtures, method: string, url: string, a: Attempt): Promise<Sent> {
  const cookies: string[] = [];
  if (a.caller === 'garbage') cookies.push(`twofold_session=${encodeURIComponent(a.junk)}`);
  else if (a.caller === 'huge') cookies.push(`twofold_session=${'x'.repeat(64 * 1024)}`);
  else if (a.caller !== 'none') {
    const who = fixtures.people[a.caller];
    const stage = a.caller === 'pending' ? 'code' : a.caller === 'setup' ? 'setup' : 'signed_in';
    cookies.push(`twofold_session=${await seedSession(world, who.organisationId, who.userId, stage)}`);
  }
  if (a.csrfCookie === 'valid') cookies.push(`twofold_csrf=${fixtures.csrfCookie}`);
  if (a.csrfCookie === 'garbage') cookies.push(`twofold_csrf=${encodeURIComponent(a.junk)}`, 'twofold_flash=%%%');

  const token: Record<CsrfToken, string | string[] | null> = {
    valid: fixtures.csrfToken,
    missing: null,
    forged: a.forged,
    huge: 'A'.repeat(5000),
    twice: [fixtures.csrfToken, a.forged],
    header: null,
  };
  const headers: Record<string, string> = { cookie: cookies.join('; ') };
  if (a.csrf === 'header') headers['x-csrf-token'] = fixtures.csrfToken;

  let path = url;
  for (const param of a.params) path = path.replace(/:[A-Za-z]+/, param);
  const address = a.query === '' ? path : `${path}?${a.query}`;

  let payload: string | undefined;
  if (method === 'POST') {
    const b = a.body;
    switch (b.kind) {
      case 'none':
        break;
      case 'form':
        headers['content-type'] = 'application/x-www-form-urlencoded';
        payload = encodeForm(b.fields, token[a.csrf]);
        break;
      case 'json': {
        const tokenValue = token[a.csrf];
        const value =
          tokenValue !== null && typeof b.value === 'object' && b.value !== null && !Array.isArray(b.value)
            ? { _csrf: tokenValue, ...b.value }
            : b.value;
        headers['content-type'] = 'application/json';
        payload = JSON.stringify(value) ?? 'null';
        break;
      }
      case 'multipart': {
        const encoded = multipart(b.fields, typeof token[a.csrf] === 'string' ? (token[a.csrf] as string) : null);
        headers['content-type'] = encoded.contentType;
        payload = encoded.payload;
        break;
      }
      case 'raw':
        headers['content-type'] = b.contentType;
        payload = b.payload;
        break;
      case 'oversize':
        headers['content-type'] = b.contentType;
        payload =
          b.contentType === 'application/json'
            ? JSON.stringify({ _csrf: fixtures.csrfToken, name: 'x'.repeat(b.size) })
            : `_csrf=${fixtures.csrfToken}&name=${'x'.repeat(b.size)}`;
        break;
    }
  }
  const response = await world.app.inject({
    method: method as 'GET' | 'POST',
    url: address,
    headers,
    remoteAddress: '198.51.100.23',
    ...(payload === undefined ? {} : { payload }),
  });
  return {
    carriedNul: [address, payload ?? '', headers.cookie ?? ''].some(
      (part) => part.includes('\u0000') || /%00/.test(part),
    ),
    status: response.statusCode,
    contentType: String(response.headers['content-type'] ?? ''),
    body: response.body,
    location: response.headers.location as string | undefined,
  };
}

/** What a POST with no valid CSRF token must leave as it was. */
async function fingerprintOf(world: TestWorld): Promise<string> {
  const count = async (table: 'sessions' | 'audit_events' | 'password_links') =>
    (
      await world.db
        .selectFrom(table)
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirstOrThrow()
    ).n;
  return JSON.stringify([
    await world.db.selectFrom('users').selectAll().execute(),
    await world.db.selectFrom('devices').selectAll().execute(),
    await world.db.selectFrom('organisations').selectAll().execute(),
    await world.db.selectFrom('login_throttles').selectAll().execute(),
    await world.db.selectFrom('applications').selectAll().execute(),
    await count('audit_events'),
    await count('password_links'),
  ]);
}

/** The JSON answer the router gives for a path it cannot decode, before the app's handlers run. */
/** The router's own refusal of a path it cannot decode: a plain HTML page, before any route runs. */
function isRouterRefusal(sent: Sent): boolean {
  return sent.contentType.startsWith('text/html') && sent.body.includes('This address cannot be understood.');
}

const GUARD_PAGES = new Set(['/login', '/login/code', '/setup', '/account']);

test('hostile requests on every route: no server error, HTML refusals, 413 over the limit, and the app stays up', async (t) => {
  const world = await buildWorld(t);
  const fixtures = await fixturesOf(world);
  const routes = world.app.twofold.routes.filter((r) => r.method !== 'HEAD');
  let sent = 0;
  let serverErrors = 0;
  let oversized = 0;
  let tooLarge = 0;
  let forgedPosts = 0;
  let redirects = 0;
  const statuses = new Map<number, number>();
  const routerJson = new Set<string>();
  for (const route of routes) {
    const paramCount = (route.url.match(/:[A-Za-z]+/g) ?? []).length;
    await fc.assert(
      fc.asyncProperty(attemptArbitrary(fixtures, route.access, paramCount), async (attempt) => {
        const forged =
          route.method === 'POST' &&
          (attempt.csrf === 'missing' || attempt.csrf === 'forged' || attempt.csrf === 'huge');
        const before = forged ? await fingerprintOf(world) : '';
        const answer = await send(world, fixtures, route.method, route.url, attempt);
        sent += 1;
        statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
        const where = `${route.method} ${route.url} → ${answer.status}`;
        // No answer sends the browser to another site, whatever `next` or the path says.
        if (answer.location !== undefined) {
          assert.match(answer.location, /^\/(?![/\\])/, `${where}: redirect to ${answer.location}`);
          redirects += 1;
        }
        if (answer.status >= 500) serverErrors += 1;
        assert.ok(answer.status < 500, `${where}: ${answer.body.slice(0, 300)}`);
        // The OpenID Connect endpoints answer applications in JSON, as the protocol says.
        const protocol = route.access === 'protocol';
        if (answer.status >= 400 && answer.contentType.startsWith('application/json') && !protocol)
          routerJson.add(`${answer.status} ${answer.body.slice(0, 80)}`);
        else if (answer.status >= 400 && protocol)
          assert.match(answer.contentType, /^(text\/html|application\/json)/, where);
        else if (answer.status >= 400) assert.match(answer.contentType, /^text\/html/, where);
        // The guard turns away a caller the route does not admit before the body is read.
        const turnedAway =
          (answer.status === 303 && GUARD_PAGES.has(answer.location ?? '')) ||
          (answer.status === 403 && answer.body.includes('Not allowed'));
        if (route.method === 'POST' && attempt.body.kind === 'oversize' && !isRouterRefusal(answer) && !protocol) {
          oversized += 1;
          if (!turnedAway) {
            assert.equal(answer.status, 413, where);
            tooLarge += 1;
          }
        }
        if (forged) {
          forgedPosts += 1;
          assert.equal(await fingerprintOf(world), before, `${where}: a POST without a valid CSRF token changed data`);
        }
      }),
      { numRuns: RUNS_PER_ROUTE },
    );
  }
  const health = await world.app.inject({ method: 'GET', url: '/healthz' });
  t.diagnostic(`fuzz: ${sent} requests over ${routes.length} routes, ${serverErrors} answered 5xx`);
  t.diagnostic(
    `fuzz: ${oversized} bodies over 16 KiB (${tooLarge} answered 413, the rest turned away by the guard before reading); ${forgedPosts} POSTs with a missing or forged CSRF token changed nothing`,
  );
  const byStatus = [...statuses].sort(([a], [b]) => a - b).map(([status, n]) => `${status}: ${n}`);
  t.diagnostic(`fuzz: answers by status — ${byStatus.join(', ')}; ${redirects} redirects, all to this site`);
  assert.deepEqual([...routerJson], [], 'JSON (not HTML) answers from the router');
  assert.equal(serverErrors, 0);
  assert.equal(health.statusCode, 200);
  assert.deepEqual(health.json(), { status: 'ok' });
});

/** Who each access level lets in, to reach a route's body parser. */
async function admittedCookie(world: TestWorld, fixtures: Fixtures, access: string): Promise<string> {
  const who = ADMITTED[access];
  if (who === undefined) throw new Error(`no caller for access ${access}`);
  if (who === 'none') return `twofold_csrf=${fixtures.csrfCookie}`;
  const stage = who === 'pending' ? 'code' : who === 'setup' ? 'setup' : 'signed_in';
  const { organisationId, userId } = fixtures.people[who];
  return `twofold_csrf=${fixtures.csrfCookie}; twofold_session=${await seedSession(world, organisationId, userId, stage)}`;
}

test('every POST route refuses a body over 16 KiB with a 413 page, from a caller it admits', async (t) => {
  const world = await buildWorld(t);
  const fixtures = await fixturesOf(world);
  const posts = world.app.twofold.routes.filter((r) => r.method === 'POST');
  let refused = 0;
  for (const route of posts) {
    const url = route.url.replace(/:[A-Za-z]+/g, fixtures.ids[1] ?? 'x');
    for (const [contentType, payload] of [
      ['application/x-www-form-urlencoded', `_csrf=${fixtures.csrfToken}&name=${'x'.repeat(BODY_LIMIT)}`],
      ['application/json', JSON.stringify({ _csrf: fixtures.csrfToken, name: 'x'.repeat(BODY_LIMIT) })],
    ] as const) {
      const cookie = await admittedCookie(world, fixtures, route.access);
      const answer = await world.app.inject({
        method: 'POST',
        url,
        headers: { cookie, 'content-type': contentType },
        payload,
      });
      assert.equal(answer.statusCode, 413, `${route.url} (${contentType})`);
      assert.match(String(answer.headers['content-type']), /^text\/html/);
      assert.match(answer.body, /larger than any form here accepts/);
      refused += 1;
    }
  }
  t.diagnostic(`413: ${refused} of ${posts.length * 2} oversized bodies on ${posts.length} POST routes refused`);
});

function parametrisedRoutes(app: FastifyInstance) {
  return app.twofold.routes.filter((r) => r.method !== 'HEAD' && r.url.includes(':'));
}

test('a path parameter that cannot be decoded or is too long gets an HTML page, like every other refusal', async (t) => {
  const world = await buildWorld(t);
  const json: string[] = [];
  for (const route of parametrisedRoutes(world.app)) {
    for (const param of ['%E0%A4%A', '%zz', 'a'.repeat(150)]) {
      const answer = await world.app.inject({
        method: route.method as 'GET' | 'POST',
        url: route.url.replace(/:[A-Za-z]+/g, param),
      });
      assert.ok(answer.statusCode < 500);
      const redirect = answer.statusCode >= 300 && answer.statusCode < 400;
      if (!redirect && !String(answer.headers['content-type']).startsWith('text/html'))
        json.push(
          `${route.method} ${route.url} with ${param.slice(0, 12)}: ${answer.statusCode} ${String(answer.headers['content-type'])}`,
        );
    }
  }
  t.diagnostic(`answers that are not HTML: ${json.length}`);
  assert.deepEqual(json, []);
});

test('a NUL byte in a field, a path or a query never causes a server error', async (t) => {
  const world = await buildWorld(t);
  const org = await makeOrganisation(world);
  const admin = await makeUser(world, org, { role: 'super_admin' });
  const signedIn = new Browser(world.app, fromAddress());
  signedIn.cookies.set('twofold_session', await seedSession(world, org, admin.id, 'signed_in'));
  await signedIn.get('/account');
  const anonymous = new Browser(world.app, fromAddress());
  await anonymous.get('/login');
  const answers: [string, number][] = [
    ['POST /login (email)', (await anonymous.post('/login', { email: 'a\u0000b@example.com', password: 'x' })).status],
    ['GET /admin/users?q=', (await signedIn.get('/admin/users?q=%00')).status],
    ['GET /admin/users/:id', (await signedIn.get('/admin/users/a%00b')).status],
    ['GET /admin/audit?person=', (await signedIn.get('/admin/audit?person=%00')).status],
    [
      'POST /admin/users (name)',
      (await signedIn.post('/admin/users', { name: 'A\u0000', email: 'n@example.com', role: 'user' })).status,
    ],
    ['POST /2fa/devices (name)', (await signedIn.post('/2fa/devices', { name: 'Ph\u0000one' })).status],
    ['GET /2fa/devices/:id', (await signedIn.get('/2fa/devices/a%00b')).status],
  ];
  const failed = answers.filter(([, status]) => status >= 500).map(([label, status]) => `${label}: ${status}`);
  t.diagnostic(`NUL bytes: ${failed.length} of ${answers.length} requests answered 5xx`);
  assert.deepEqual(failed, []);
});
