// What every answer carries: a Content-Security-Policy no page needs to loosen (no script
// at all), no caching of signed-in pages, HSTS and __Host- cookies over https only; and a
// sign-in refusal that says and takes the same whether or not the account exists.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildWorld, makeOrganisation, makeUser, PASSWORD, type TestWorld } from '../helpers/app.js';
import { Browser, type Page } from '../helpers/browser.js';
import { addConfirmedDevice, addUnconfirmedDevice, fromAddress, median, seedSession } from '../helpers/security.js';
import { tenantFor } from '../../src/store/tenant.js';
import { problemOn } from './support.js';

/** Every GET route, fetched by a caller it admits, with real ids: the pages people see. */
async function everyPage(world: TestWorld): Promise<{ route: string; signedIn: boolean; answer: Page }[]> {
  const org = await makeOrganisation(world);
  const superAdmin = await makeUser(world, org, { role: 'super_admin' });
  await addConfirmedDevice(world, org, superAdmin.id);
  const pending = await makeUser(world, org);
  await addConfirmedDevice(world, org, pending.id);
  const settingUp = await makeUser(world, org);
  const setupDevice = await addUnconfirmedDevice(world, org, settingUp.id);
  const target = await makeUser(world, org, { name: 'Target Person' });
  const targetDevice = await addConfirmedDevice(world, org, target.id);
  const ownDevice = await addConfirmedDevice(world, org, superAdmin.id, 'Laptop');
  const ownNewDevice = await addUnconfirmedDevice(world, org, superAdmin.id);
  const now = world.clock.now();
  await tenantFor(world.db, org).applications.insert({
    id: 'an-application',
    name: 'Wiki',
    redirectUris: ['https://wiki.example/cb'],
    postLogoutRedirectUris: [],
    requireTwoFactor: false,
    secret: 'the secret of the wiki',
    now: world.clock.now(),
  });
  await tenantFor(world.db, org).sites.insert({
    id: 'a-site',
    host: 'wiki.example',
    requireTwoFactor: false,
    now: world.clock.now(),
  });
  const site = { id: 'a-site' };
  const link = await tenantFor(world.db, org).passwordLinks.issue(
    target.id,
    'reset',
    now,
    new Date(now.getTime() + 3600_000),
  );

  const callers = {
    anonymous: null,
    code: await seedSession(world, org, pending.id, 'code'),
    setup: await seedSession(world, org, settingUp.id, 'setup'),
    signed_in: await seedSession(world, org, superAdmin.id, 'signed_in'),
  };
  const callerFor: Record<string, keyof typeof callers> = {
    asset: 'anonymous',
    public: 'anonymous',
    protocol: 'anonymous',
    code: 'code',
    setup: 'setup',
    any_session: 'signed_in',
    signed_in: 'signed_in',
    admin: 'signed_in',
    super_admin: 'signed_in',
  };
  const addressOf = (url: string) => {
    if (url.startsWith('/admin/users/:id')) return url.replace(':id', target.id).replace(':deviceId', targetDevice.id);
    if (url.startsWith('/setup/devices/:id')) return url.replace(':id', setupDevice.id);
    if (url.endsWith('/:id/remove')) return url.replace(':id', ownDevice.id);
    if (url.startsWith('/2fa/devices/:id')) return url.replace(':id', ownNewDevice.id);
    if (url.startsWith('/admin/applications/sites/:id')) return url.replace(':id', site.id);
    if (url.startsWith('/admin/applications/:id')) return url.replace(':id', 'an-application');
    if (url === '/oidc/*') return '/oidc/jwks';
    // Without the provider's interaction cookie: the page that says the sign-in expired.
    if (url === '/oidc/interaction/:uid') return '/oidc/interaction/no-such-interaction';
    return url.replace(':token', link);
  };
  const pages: { route: string; signedIn: boolean; answer: Page }[] = [];
  for (const route of world.app.twofold.routes.filter((r) => r.method === 'GET')) {
    const caller = callerFor[route.access];
    assert.ok(caller, route.access);
    const browser = new Browser(world.app, fromAddress());
    const token = callers[caller];
    if (token !== null) browser.cookies.set('twofold_session', token);
    const answer = await browser.get(addressOf(route.url));
    // /metrics is off unless configured, as in the tests' app: a "not found" page. The
    // forward-auth checks name no site without a proxy's headers (403), and the sign-in for
    // a site has no address to go to (400): each a page.
    const refused =
      route.url === '/metrics' || route.url === '/oidc/interaction/:uid' || route.url.startsWith('/auth/');
    assert.equal(answer.status >= 400, refused, `${route.url}: ${answer.status}`);
    pages.push({ route: `GET ${route.url}`, signedIn: caller === 'signed_in', answer });
  }
  // The way back to an application once Twofold has let the person in: a page that moves
  // on by itself. Its route is a public one, which the count of signed-in pages leaves out.
  const member = new Browser(world.app, fromAddress());
  member.cookies.set('twofold_session', callers.signed_in);
  const authorization = new URLSearchParams({
    client_id: 'an-application',
    response_type: 'code',
    scope: 'openid',
    redirect_uri: 'https://wiki.example/cb',
    code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    code_challenge_method: 'S256',
    state: 'a-state',
  });
  let onwards: Page = await member.get(`/oidc/auth?${authorization.toString()}`);
  while (onwards.status === 303 && onwards.location !== undefined) onwards = await member.get(onwards.location);
  assert.equal(onwards.status, 200, onwards.body);
  assert.match(onwards.body, /<meta http-equiv="refresh"/);
  pages.push({ route: 'the way back to an application', signedIn: false, answer: onwards });
  // And the refusals people meet.
  const stranger = new Browser(world.app, fromAddress());
  pages.push({ route: 'a missing page', signedIn: false, answer: await stranger.get('/no/such/page') });
  await stranger.get('/login');
  pages.push({
    route: 'a refused sign-in',
    signedIn: false,
    answer: await stranger.post('/login', { email: 'nobody@example.com', password: 'wrong wrong' }),
  });
  pages.push({
    route: 'an expired form',
    signedIn: false,
    answer: await stranger.post('/login', {}, { csrf: 'forged' }),
  });
  return pages;
}

/** Answers that are not pages: the stylesheet, the health checks, the CSV export, the redirect at /. */
const NOT_PAGES = new Set([
  'GET /static/app.css',
  'GET /static/simplewebauthn-browser.js',
  'GET /static/security-key.js',
  'GET /healthz',
  'GET /readyz',
  'GET /admin/audit.csv',
  'GET /',
  // OpenID Connect discovery and keys, in JSON.
  'GET /.well-known/openid-configuration',
  'GET /oidc/*',
]);

const INLINE_HANDLER = /<[^>]*\son[a-z]+\s*=/i;
/** A style attribute, or a <style> element: what style-src 'self' forbids. */
const INLINE_STYLE = /<[^>]*\sstyle\s*=|<style[\s>]/i;

/** The policy every HTML answer carries: Twofold's own stylesheet, no script, no framing. */
/**
 * The pages that make or use a security key or passkey: the only ones that run a script,
 * Twofold's own two, from 'self'.
 */
const KEY_PAGES = new Set(['GET /setup/security-keys', 'GET /2fa/security-keys']);
const KEY_SCRIPTS = [
  '<script src="/static/simplewebauthn-browser.js"></script>',
  '<script src="/static/security-key.js"></script>',
];

function assertStrictPolicy(answer: Page, where: string, scripts: 'none' | 'self' = 'none'): void {
  const csp = String(answer.headers['content-security-policy'] ?? '');
  assert.match(csp, /(^|;)style-src 'self'(;|$)/, `${where}: ${csp}`);
  assert.match(csp, new RegExp(`(^|;)script-src '${scripts}'(;|$)`), `${where}: ${csp}`);
  assert.match(csp, /(^|;)frame-ancestors 'none'(;|$)/, `${where}: ${csp}`);
}

test('no page has a script or an inline event handler, and every page forbids scripts and framing', async (t) => {
  const world = await buildWorld(t);
  const pages = await everyPage(world);
  let html = 0;
  let keyPages = 0;
  for (const { route, answer } of pages) {
    const isKeyPage = KEY_PAGES.has(route) && answer.status === 200;
    assertStrictPolicy(answer, route, isKeyPage ? 'self' : 'none');
    const isHtml = String(answer.headers['content-type']).startsWith('text/html');
    assert.equal(isHtml, !NOT_PAGES.has(route), `${route}: ${String(answer.headers['content-type'])}`);
    if (!isHtml) continue;
    html += 1;
    if (isKeyPage) {
      keyPages += 1;
      const scripts = answer.body.match(/<script[^>]*>[^<]*<\/script>/gi) ?? [];
      assert.deepEqual(scripts, KEY_SCRIPTS, route);
    } else assert.doesNotMatch(answer.body, /<script/i, route);
    assert.doesNotMatch(answer.body, INLINE_HANDLER, route);
    assert.doesNotMatch(answer.body, /javascript:/i, route);
    assert.doesNotMatch(answer.body, INLINE_STYLE, route);
  }
  t.diagnostic(
    `CSP: ${pages.length} answers carry style-src 'self' and frame-ancestors 'none', and script-src 'none' but for ${keyPages} security-key pages ('self', Twofold's two scripts alone); ${html} HTML pages scanned: 0 other <script, 0 on*= handlers, 0 inline styles`,
  );
});

test("the framework's own refusals carry the same policy: a malformed path, an overlong one, a missing page", async (t) => {
  const world = await buildWorld(t);
  const browser = new Browser(world.app);
  const refusals: [string, number][] = [
    ['/%', 400],
    ['/login/%zz', 400],
    [`/admin/users/${'a'.repeat(500)}`, 414],
    ['/no/such/page', 404],
  ];
  for (const [url, status] of refusals) {
    const answer = await browser.get(url);
    const where = `${url.slice(0, 40)} (${status})`;
    assert.equal(answer.status, status, where);
    assert.match(String(answer.headers['content-type']), /^text\/html/, where);
    assertStrictPolicy(answer, where);
    assert.equal(answer.headers['x-content-type-options'], 'nosniff', where);
    assert.equal(answer.headers['cache-control'], 'no-store', where);
    assert.doesNotMatch(answer.body, INLINE_STYLE, where);
  }
});

test('every signed-in page is marked no-store', async (t) => {
  const world = await buildWorld(t);
  const all = await everyPage(world);
  const pages = all.filter((p) => p.signedIn && String(p.answer.headers['content-type']).startsWith('text/html'));
  for (const { route, answer } of pages) assert.equal(answer.headers['cache-control'], 'no-store', route);
  const csv = all.find((p) => p.route === 'GET /admin/audit.csv');
  assert.equal(csv?.answer.headers['cache-control'], 'no-store', 'the audit CSV');
  const signedInPages = world.app.twofold.routes.filter(
    (r) => r.method === 'GET' && ['any_session', 'signed_in', 'admin', 'super_admin'].includes(r.access),
  );
  t.diagnostic(`no-store: ${pages.length} of ${pages.length} signed-in HTML pages (and the audit CSV)`);
  assert.equal(pages.length, signedInPages.length - 1, 'every signed-in GET route but the CSV gives an HTML page');
});

/** Every Set-Cookie line of a sign-in, a wrong code, a flash message and a sign-out. */
async function cookiesOfAJourney(world: TestWorld): Promise<{ answers: Page[]; lines: string[] }> {
  const org = await makeOrganisation(world);
  const user = await makeUser(world, org);
  await addConfirmedDevice(world, org, user.id);
  const browser = new Browser(world.app, fromAddress());
  const answers = [
    await browser.get('/login'),
    await browser.post('/login', { email: user.email, password: PASSWORD }),
  ];
  // The browser keeps what it was given; on http the names are plain, on https __Host-.
  const session = [...browser.cookies.keys()].find((name) => name.endsWith('twofold_session'));
  assert.ok(session, 'no session cookie');
  answers.push(await browser.get('/login/code'), await browser.post('/login/code', { code: '000000' }));
  answers.push(await browser.post('/logout', {}), await browser.get('/login'));
  return { answers, lines: answers.flatMap((a) => a.setCookies) };
}

test('over http there is no HSTS and cookies are not marked Secure', async (t) => {
  const world = await buildWorld(t);
  const { answers, lines } = await cookiesOfAJourney(world);
  for (const answer of answers) assert.equal(answer.headers['strict-transport-security'], undefined);
  for (const line of lines) assert.doesNotMatch(line, /;\s*Secure/i, line);
  t.diagnostic(`http: ${answers.length} answers without HSTS, ${lines.length} cookies without Secure`);
});

test('with secureCookies, every answer has HSTS and every cookie is __Host-, Secure, HttpOnly, for the whole site', async (t) => {
  const world = await buildWorld(t, { secureCookies: true });
  const { answers, lines } = await cookiesOfAJourney(world);
  for (const answer of answers) {
    assert.equal(answer.headers['strict-transport-security'], 'max-age=31536000; includeSubDomains');
  }
  const names = new Set<string>();
  for (const line of lines) {
    const name = line.slice(0, line.indexOf('='));
    names.add(name);
    assert.match(name, /^__Host-/, line);
    assert.match(line, /;\s*Secure/i, line);
    assert.match(line, /;\s*HttpOnly/i, line);
    assert.match(line, /;\s*Path=\/(;|$)/, line);
    assert.match(line, /;\s*SameSite=Lax/i, line);
    assert.doesNotMatch(line, /;\s*Domain=/i, line);
  }
  assert.deepEqual([...names].sort(), ['__Host-twofold_csrf', '__Host-twofold_flash', '__Host-twofold_session']);
  t.diagnostic(
    `https: ${answers.length} answers with HSTS; ${lines.length} cookies (${[...names].join(', ')}) all __Host-, Secure, HttpOnly`,
  );
});

const TRIES = 200;

test('an unknown email and a wrong password get the same answer in the same time', async (t) => {
  const world = await buildWorld(t);
  const org = await makeOrganisation(world);
  // One known account per try, each from its own address: no throttle ever applies.
  const known: { email: string }[] = [];
  for (let i = 0; i < TRIES; i += 1) known.push(await makeUser(world, org, { email: `known-${i}@example.com` }));

  const attempt = async (email: string, ip: string) => {
    const browser = new Browser(world.app, fromAddress(ip));
    await browser.get('/login');
    const started = performance.now();
    const cpuBefore = process.cpuUsage();
    const answer = await browser.post('/login', { email, password: 'not the password at all' });
    const cpu = process.cpuUsage(cpuBefore);
    return { answer, ms: performance.now() - started, cpuMs: (cpu.user + cpu.system) / 1000, email };
  };
  // The decoy hash is made once, on the first unknown email: not a try.
  await attempt('warm-up@example.com', '192.0.2.1');

  const unknownTimes: number[] = [];
  const wrongTimes: number[] = [];
  const unknownCpu: number[] = [];
  const wrongCpu: number[] = [];
  const normalised = new Set<string>();
  for (let i = 0; i < TRIES; i += 1) {
    const pair = [
      () => attempt(`unknown-${i}@example.com`, `10.10.${Math.floor(i / 200)}.${i % 200}`),
      () => attempt(known[i]?.email ?? '', `10.20.${Math.floor(i / 200)}.${i % 200}`),
    ] as const;
    // Alternate which goes first, so neither always follows the other.
    const [first, second] = i % 2 === 0 ? [pair[0], pair[1]] : [pair[1], pair[0]];
    for (const run of [first, second]) {
      const { answer, ms, cpuMs, email } = await run();
      (email.startsWith('unknown-') ? unknownTimes : wrongTimes).push(ms);
      (email.startsWith('unknown-') ? unknownCpu : wrongCpu).push(cpuMs);
      assert.equal(answer.status, 401);
      assert.equal(problemOn(answer), 'The email address or password is not right.');
      normalised.add(answer.body.replaceAll(email, 'EMAIL').replace(/name="_csrf" value="[^"]+"/, ''));
      assert.equal(
        answer.setCookies.some((c) => c.startsWith('twofold_session=') && !/Expires=Thu, 01 Jan 1970/i.test(c)),
        false,
      );
    }
  }
  const unknown = median(unknownTimes);
  const wrong = median(wrongTimes);
  const cpuRatio = median(unknownCpu) / median(wrongCpu);
  t.diagnostic(
    `timing (${TRIES} tries each, interleaved): median unknown email ${unknown.toFixed(1)} ms, median wrong password ${wrong.toFixed(1)} ms, ratio ${(unknown / wrong).toFixed(3)}; CPU time ratio ${cpuRatio.toFixed(3)}`,
  );
  t.diagnostic(`answers: ${normalised.size} distinct body (status 401, same text) across ${2 * TRIES} refusals`);
  assert.equal(normalised.size, 1, 'the two refusals differ in more than the email typed');
  // The work each answer costs, compared as the process's CPU time (every thread, argon2's
  // included): on a machine other processes load, the wall clock measures them as much as
  // Twofold. The waits on the database are the same statements (login-statements.test.ts).
  assert.ok(Math.abs(cpuRatio - 1) <= 0.1, `CPU time medians differ by more than 10% (ratio ${cpuRatio.toFixed(3)})`);
});
