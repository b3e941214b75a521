// Forward auth, as a reverse proxy sees it: the check it makes at every request to a
// protected site (/auth/nginx, /auth/forward) with the browser's cookies and its
// X-Forwarded-* headers, and the pages a person is sent to, which send them on to the site
// and nowhere else. Twofold at https://2fa.example.com with its cookies for example.com, as
// the README sets it up; the sites under it.
import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import type { LogEvent } from 'kysely';
import { ConfigError, loadConfig } from '../../src/config.js';
import { newSecretKeyText } from '../../src/domain/secret-box.js';
import { codeAt } from '../../src/domain/totp.js';
import { addSite, deleteSite } from '../../src/services/sites.js';
import { buildWorld, linkDevice, makeOrganisation, makeUser, type TestWorld } from '../helpers/app.js';
import { Browser, recoveryCodesOn, textOf, type Page } from '../helpers/browser.js';
import { proxyCheck, remoteHeadersOf } from '../helpers/forward-auth.js';
import { seedSession } from '../helpers/security.js';
import { flashOn, nextCode, secretShownOn, tenantOf } from './support.js';

const TWOFOLD = 'https://2fa.example.com';

interface Scene {
  world: TestWorld;
  acme: string;
  beta: string;
  ada: { id: string; email: string; password: string };
  adaSecret: Uint8Array;
}

async function protect(world: TestWorld, organisationId: string, host: string, requireTwoFactor = false) {
  const added = await addSite(
    world.deps,
    tenantOf(world, organisationId),
    { actor: null, client: null },
    {
      host,
      requireTwoFactor,
    },
  );
  assert.ok(added.ok, JSON.stringify(added));
  return added.site;
}

async function scene(t: TestContext): Promise<Scene> {
  const world = await buildWorld(t, { publicUrl: TWOFOLD, secureCookies: true, cookieDomain: 'example.com' });
  const acme = await makeOrganisation(world, 'Acme Rail');
  const beta = await makeOrganisation(world, 'Beta Freight');
  const ada = await makeUser(world, acme, { email: 'ada@acme.test', name: 'Ada Lovelace' });
  const adaSecret = await linkDevice(world, acme, ada.id);
  await protect(world, acme, 'wiki.example.com');
  await protect(world, acme, 'vault.example.com', true);
  await protect(world, beta, 'crm.example.com');
  return { world, acme, beta, ada, adaSecret };
}

function signInAddressFor(address: string): string {
  return `${TWOFOLD}/auth/sign-in?${new URLSearchParams({ rd: address }).toString()}`;
}

/** Follows Twofold's own redirects (paths and addresses on TWOFOLD); stops elsewhere or at a page. */
async function follow(browser: Browser, start: string): Promise<{ page: Page; url: string }> {
  let url = new URL(start, TWOFOLD).toString();
  for (let hops = 0; hops < 10; hops++) {
    const page = await browser.get(url.replace(TWOFOLD, ''));
    if (page.status !== 303 && page.status !== 302) return { page, url };
    const next = new URL(page.location ?? '/', url).toString();
    if (!next.startsWith(`${TWOFOLD}/`)) return { page, url: next };
    url = next;
  }
  throw new Error(`more than 10 redirects from ${start}`);
}

describe('the proxy’s check', () => {
  test('nobody signed in: nginx gets 401 with the sign-in address, Traefik and Caddy a 302 to it, and no identity', async (t) => {
    const s = await scene(t);
    const browser = new Browser(s.world.app);
    const address = 'https://wiki.example.com/page?x=1&y=2';
    const nginx = await proxyCheck(browser, 'nginx', address);
    assert.equal(nginx.status, 401);
    assert.equal(nginx.location, signInAddressFor(address));
    assert.match(String(nginx.headers['content-type']), /^text\/html/);
    const forward = await proxyCheck(browser, 'forward', address);
    assert.equal(forward.status, 302);
    assert.equal(forward.location, signInAddressFor(address));
    for (const answer of [nginx, forward]) {
      assert.deepEqual(remoteHeadersOf(answer), {});
      assert.equal(answer.headers['cache-control'], 'no-store');
    }
  });

  test('signed in with password and code, a member gets 200 with who they are; signed out, the sign-in again', async (t) => {
    const s = await scene(t);
    const browser = new Browser(s.world.app);
    const address = 'https://wiki.example.com/docs/Start?edit=1';

    // The proxy sends the person to Twofold, which asks them to sign in for the site.
    const refused = await proxyCheck(browser, 'forward', address);
    const atTwofold = await browser.get(refused.location?.replace(TWOFOLD, '') ?? '');
    assert.equal(atTwofold.status, 303);
    assert.equal(atTwofold.location, '/login');
    const login = await browser.get('/login');
    assert.equal(flashOn(login), 'Sign in to continue to wiki.example.com.');
    const afterPassword = await browser.post('/login', { email: s.ada.email, password: s.ada.password });
    assert.equal(afterPassword.location, '/login/code');
    await browser.get('/login/code');
    const afterCode = await browser.post('/login/code', { code: nextCode(s.world, s.adaSecret) });
    assert.match(afterCode.location ?? '', /^\/auth\/continue\?to=[A-Za-z0-9_-]+$/);
    const sent = await browser.get(afterCode.location ?? '');
    assert.equal(sent.status, 303);
    assert.equal(sent.location, address);

    // Back at the site, the proxy's check lets Ada in and tells the site who she is.
    for (const endpoint of ['nginx', 'forward'] as const) {
      const allowed = await proxyCheck(browser, endpoint, address);
      assert.equal(allowed.status, 200, `${endpoint}: ${allowed.status}`);
      assert.equal(allowed.location, undefined);
      assert.deepEqual(remoteHeadersOf(allowed), {
        'remote-user': s.ada.id,
        'remote-email': 'ada@acme.test',
        'remote-name': 'Ada Lovelace',
        'remote-groups': `user,${s.acme}`,
      });
    }
    // Any page of the site, on the same cookies.
    assert.equal((await proxyCheck(browser, 'forward', 'https://wiki.example.com/other')).status, 200);

    await browser.post('/logout', {});
    const again = await proxyCheck(browser, 'forward', address);
    assert.equal(again.status, 302);
    assert.equal(again.location, signInAddressFor(address));
    assert.deepEqual(remoteHeadersOf(again), {});
  });

  test('a person of another organisation is refused with 403 at both endpoints, and never redirected', async (t) => {
    const s = await scene(t);
    const cleo = await makeUser(s.world, s.beta, { email: 'cleo@beta.test', name: 'Cleo Park' });
    const browser = new Browser(s.world.app);
    browser.cookies.set('__Secure-twofold_session', await seedSession(s.world, s.beta, cleo.id, 'signed_in'));
    assert.equal((await proxyCheck(browser, 'forward', 'https://crm.example.com/')).status, 200, 'her own site');
    for (const endpoint of ['nginx', 'forward'] as const) {
      const refused = await proxyCheck(browser, endpoint, 'https://wiki.example.com/');
      assert.equal(refused.status, 403);
      assert.equal(refused.location, undefined);
      assert.deepEqual(remoteHeadersOf(refused), {});
      assert.match(textOf(refused.body), /Your account has no access to this site\./);
      assert.doesNotMatch(refused.body, /Acme|ada@/);
    }
  });

  test('an unknown host, or one the proxy did not name, gets 403 and no redirect anywhere', async (t) => {
    const s = await scene(t);
    const browser = new Browser(s.world.app);
    browser.cookies.set('__Secure-twofold_session', await seedSession(s.world, s.acme, s.ada.id, 'signed_in'));
    const unknown = [
      'https://evil.example/',
      'https://wiki.example.com:8443/',
      'https://wiki.example.com.evil.example/',
      'http://example.com/',
    ];
    for (const address of unknown) {
      for (const endpoint of ['nginx', 'forward'] as const) {
        const answer = await proxyCheck(browser, endpoint, address);
        assert.equal(answer.status, 403, `${endpoint} ${address}`);
        assert.equal(answer.location, undefined);
        assert.deepEqual(remoteHeadersOf(answer), {});
      }
    }
    // No X-Forwarded-Host and no X-Original-URL: nothing says which site.
    for (const endpoint of ['nginx', 'forward']) {
      const bare = await browser.get(`/auth/${endpoint}`);
      assert.equal(bare.status, 403);
      assert.equal(bare.location, undefined);
      assert.match(textOf(bare.body), /Twofold does not protect this site/);
    }
  });

  test('hostile forwarded headers: several hosts, a path or user in the host, a bad scheme, two URLs that disagree', async (t) => {
    const s = await scene(t);
    const browser = new Browser(s.world.app);
    browser.cookies.set('__Secure-twofold_session', await seedSession(s.world, s.acme, s.ada.id, 'signed_in'));
    const headers = (host: string, extra: Record<string, string> = {}) => ({
      headers: { 'x-forwarded-proto': 'https', 'x-forwarded-host': host, 'x-forwarded-uri': '/', ...extra },
    });
    const refusedHeaders = [
      headers('wiki.example.com, evil.example'),
      headers('evil.example/@wiki.example.com'),
      headers('ada@wiki.example.com'),
      headers('wiki.example.com', { 'x-forwarded-proto': 'javascript' }),
      headers('wiki.example.com', { 'x-forwarded-proto': 'https, http' }),
      headers(''),
      // Checked for one site, let into another: the proxy set one, the browser sent the other.
      headers('evil.example', { 'x-original-url': 'https://wiki.example.com/' }),
      headers('wiki.example.com', { 'x-original-url': 'https://crm.example.com/' }),
      { headers: { 'x-original-url': 'https://user@wiki.example.com/' } },
      { headers: { 'x-original-url': '//wiki.example.com/' } },
      { headers: { 'x-original-url': 'https://wiki.example.com/ https://evil.example/' } },
    ];
    for (const options of refusedHeaders) {
      const answer = await browser.send('GET', '/auth/forward', options);
      assert.equal(answer.status, 403, JSON.stringify(options));
      assert.equal(answer.location, undefined, JSON.stringify(options));
      assert.deepEqual(remoteHeadersOf(answer), {});
    }
    // What a proxy really sends: the default port, upper case, X-Original-URL alone or agreeing.
    for (const options of [
      headers('WIKI.example.com:443'),
      headers('wiki.example.com', { 'x-original-url': 'https://wiki.example.com/x' }),
      { headers: { 'x-original-url': 'https://wiki.example.com/x?y=1' } },
    ]) {
      const answer = await browser.send('GET', '/auth/forward', options);
      assert.equal(answer.status, 200, JSON.stringify(options));
    }
    // A path that would name another host sends the person to sign in for the same site.
    const anonymous = new Browser(s.world.app);
    for (const uri of ['@evil.example/', '//evil.example/x', 'https://evil.example/']) {
      const answer = await anonymous.send(
        'GET',
        '/auth/forward',
        headers('wiki.example.com', { 'x-forwarded-uri': uri }),
      );
      assert.equal(answer.status, 302);
      const rd = new URL(answer.location ?? '').searchParams.get('rd') ?? '';
      assert.equal(new URL(answer.location ?? '').origin, TWOFOLD);
      assert.equal(new URL(rd).host, 'wiki.example.com', rd);
    }
  });

  test('a name or email holding line breaks and other characters reaches the site as one safe header', async (t) => {
    const s = await scene(t);
    const odd = await makeUser(s.world, s.acme, {
      email: 'zoë@acme.test',
      // No NUL: no form accepts one, and PostgreSQL stores none.
      name: 'Zoë\r\nX-Injected: yes\u0007\u0085 Łukasz 😀, Jr.',
    });
    const browser = new Browser(s.world.app);
    browser.cookies.set('__Secure-twofold_session', await seedSession(s.world, s.acme, odd.id, 'signed_in'));
    const allowed = await proxyCheck(browser, 'forward', 'https://wiki.example.com/');
    assert.equal(allowed.status, 200);
    assert.equal(allowed.headers['x-injected'], undefined);
    const remote = remoteHeadersOf(allowed);
    assert.equal(remote['remote-name'], 'Zoë  X-Injected: yes   Łukasz 😀, Jr.');
    assert.equal(remote['remote-email'], 'zoë@acme.test');
    for (const value of Object.values(allowed.headers).map(String)) assert.doesNotMatch(value, /[\r\n]/);

    // A name of control characters alone is no name: the email stands in, and no header is left empty.
    const bell = await makeUser(s.world, s.acme, { email: 'bell@acme.test', name: '\u0007\u0007' });
    browser.cookies.set('__Secure-twofold_session', await seedSession(s.world, s.acme, bell.id, 'signed_in'));
    const named = remoteHeadersOf(await proxyCheck(browser, 'forward', 'https://wiki.example.com/'));
    assert.equal(named['remote-name'], 'bell@acme.test');
    assert.ok(Object.values(named).every((value) => value !== ''));
  });

  test('a site that requires 2FA: a person without a device is sent to link one, then on to the site', async (t) => {
    const s = await scene(t);
    const ben = await makeUser(s.world, s.acme, { email: 'ben@acme.test', name: 'Ben Okafor' });
    const browser = new Browser(s.world.app);
    const signedIn = await browser.signIn(ben.email, ben.password);
    assert.equal(signedIn.location, '/account');
    const vault = 'https://vault.example.com/secrets';
    assert.equal(
      (await proxyCheck(browser, 'forward', 'https://wiki.example.com/')).status,
      200,
      'no 2FA needed there',
    );
    const nginx = await proxyCheck(browser, 'nginx', vault);
    assert.equal(nginx.status, 401);
    const held = await proxyCheck(browser, 'forward', vault);
    assert.equal(held.status, 302);
    assert.equal(held.location, signInAddressFor(vault));

    const { page, url } = await follow(browser, held.location ?? '');
    assert.equal(new URL(url).pathname, '/2fa');
    assert.equal(
      flashOn(page),
      'vault.example.com asks for two-factor authentication. Link an authenticator app here; then you are sent on to vault.example.com.',
    );
    const added = await browser.post('/2fa/devices', { name: 'Pixel 8' });
    assert.equal(added.status, 303, textOf(added.body));
    const { bytes } = secretShownOn(await browser.get(added.location ?? ''));
    const confirmed = await browser.post(added.location ?? '', { code: codeAt(bytes, s.world.clock.now()) });
    // A first device: its recovery codes are shown once, and "continue" goes on to the site.
    const shown = recoveryCodesOn(confirmed);
    assert.equal(shown?.codes.length, 10, textOf(confirmed.body));
    const back = await follow(browser, shown?.continueTo ?? '');
    assert.equal(back.url, vault);
    assert.equal((await proxyCheck(browser, 'forward', vault)).status, 200);
  });

  test('a site that requires 2FA: a session without a code asks for one first; with one, straight through', async (t) => {
    const s = await scene(t);
    const browser = new Browser(s.world.app);
    // A password-only session of a person with a device (as from a sign-in before the device was linked elsewhere).
    browser.cookies.set('__Secure-twofold_session', await seedSession(s.world, s.acme, s.ada.id, 'signed_in'));
    const vault = 'https://vault.example.com/';
    const held = await proxyCheck(browser, 'forward', vault);
    assert.equal(held.status, 302);
    const { url } = await follow(browser, held.location ?? '');
    const confirm = new URL(url);
    assert.equal(confirm.pathname, '/confirm-identity');
    const next = confirm.searchParams.get('next') ?? '';
    assert.match(next, /^\/auth\/continue\?to=/);
    const confirmed = await browser.post('/confirm-identity', {
      next,
      password: s.ada.password,
      code: nextCode(s.world, s.adaSecret),
    });
    assert.equal(confirmed.location, next);
    const back = await follow(browser, next);
    assert.equal(back.url, vault);
    assert.equal((await proxyCheck(browser, 'forward', vault)).status, 200);
    // Already allowed: the sign-in page sends the person straight on.
    const straight = await browser.get(signInAddressFor(vault).replace(TWOFOLD, ''));
    assert.equal(straight.status, 303);
    assert.equal(straight.location, vault);
  });

  test('a check of a signed-in person runs 1 SQL statement, the session as every request’s guard reads it; the site is read by the first', async (t) => {
    const statements: string[] = [];
    let counting = false;
    // Kysely's log sees every statement run, also one built and compiled once.
    const log = (event: LogEvent) => {
      if (counting) statements.push(event.query.query.kind);
    };
    const world = await buildWorld(t, { observers: { log } });
    const org = await makeOrganisation(world);
    const ada = await makeUser(world, org);
    await protect(world, org, '127.0.0.1:8080');
    const browser = new Browser(world.app);
    browser.cookies.set('twofold_session', await seedSession(world, org, ada.id, 'signed_in'));
    const checks = 50;
    counting = true;
    for (let i = 0; i < checks; i++) {
      assert.equal((await proxyCheck(browser, 'nginx', `http://127.0.0.1:8080/page/${i}`)).status, 200);
    }
    counting = false;
    t.diagnostic(`forward auth: ${statements.length / checks} SQL statements per check of a signed-in person`);
    // The first check reads the session and the site; the site is then kept for SITE_FRESH_MS
    // (the 50 checks take far less), and every later check reads the session alone.
    assert.deepEqual(
      statements,
      Array.from({ length: checks + 1 }, () => 'SelectQueryNode'),
    );
  });

  test('a deleted site lets nobody in any more', async (t) => {
    const s = await scene(t);
    const browser = new Browser(s.world.app);
    browser.cookies.set('__Secure-twofold_session', await seedSession(s.world, s.acme, s.ada.id, 'signed_in'));
    assert.equal((await proxyCheck(browser, 'forward', 'https://wiki.example.com/')).status, 200);
    const context = { actor: null, client: null };
    assert.ok(await deleteSite(s.world.deps, tenantOf(s.world, s.acme), context, { host: 'wiki.example.com' }));
    assert.equal((await proxyCheck(browser, 'forward', 'https://wiki.example.com/')).status, 403);
  });
});

describe('the sign-in pages send people to protected sites and nowhere else', () => {
  const hostile = [
    '',
    '/account',
    '//evil.example/',
    '\\\\evil.example/',
    '/\\evil.example/',
    'javascript:alert(document.cookie)',
    'JAVASCRIPT:alert(1)',
    'data:text/html,<script>alert(1)</script>',
    'https://evil.example/',
    'https://evil.example/?next=https://wiki.example.com/',
    'https://wiki.example.com@evil.example/',
    'https://wiki.example.com.evil.example/',
    'https://user:pass@wiki.example.com/',
    'https://wiki.example.com:8443/',
    'ftp://wiki.example.com/',
    ' https://wiki.example.com/',
    'https://wiki.example.com/\r\nSet-Cookie: x=1',
    `https://wiki.example.com/${'a'.repeat(2100)}`,
  ];

  test('an address not on a registered site, anonymous or signed in, gets a plain 400 page and no redirect', async (t) => {
    const s = await scene(t);
    const anonymous = new Browser(s.world.app);
    const signedIn = new Browser(s.world.app);
    signedIn.cookies.set('__Secure-twofold_session', await seedSession(s.world, s.acme, s.ada.id, 'signed_in'));
    let refused = 0;
    for (const browser of [anonymous, signedIn]) {
      for (const rd of hostile) {
        const viaSignIn = await browser.send('GET', '/auth/sign-in', { query: { rd } });
        const to = Buffer.from(rd).toString('base64url');
        const viaContinue = await browser.send('GET', '/auth/continue', to === '' ? {} : { query: { to } });
        for (const answer of [viaSignIn, viaContinue]) {
          assert.equal(answer.status, 400, `${rd}: ${answer.status}`);
          assert.equal(answer.location, undefined, rd);
          assert.match(String(answer.headers['content-type']), /^text\/html/);
          assert.ok(!answer.setCookies.some((line) => line.startsWith('__Secure-twofold_return=')), rd);
          refused += 1;
        }
      }
    }
    t.diagnostic(`forward auth: ${refused} hostile return addresses at /auth/sign-in and /auth/continue, 0 redirects`);
    // Malformed parameters: repeated, bad encoding, not base64url.
    for (const path of [
      '/auth/sign-in',
      '/auth/sign-in?rd=https://wiki.example.com/&rd=https://evil.example/',
      '/auth/sign-in?rd=%E0%A4%A',
      '/auth/continue?to=***',
      '/auth/continue?to=aHR0cHM6Ly9ldmlsLmV4YW1wbGUv',
      `/auth/continue?to=${'A'.repeat(5000)}`,
    ]) {
      const answer = await signedIn.get(path);
      assert.equal(answer.status, 400, path);
      assert.equal(answer.location, undefined, path);
    }
  });

  test('a person of another organisation is told plainly there is no access, audited in the site’s organisation without them', async (t) => {
    const s = await scene(t);
    const cleo = await makeUser(s.world, s.beta, { email: 'cleo@beta.test', name: 'Cleo Park' });
    const browser = new Browser(s.world.app);
    browser.cookies.set('__Secure-twofold_session', await seedSession(s.world, s.beta, cleo.id, 'signed_in'));
    const answer = await browser.get(signInAddressFor('https://wiki.example.com/').replace(TWOFOLD, ''));
    assert.equal(answer.status, 403);
    assert.equal(answer.location, undefined);
    assert.match(textOf(answer.body), /No access to this site.*Your account has no access to this site\./);
    assert.doesNotMatch(answer.body, /Acme|ada@/);
    const { events } = await tenantOf(s.world, s.acme).audit.list(
      { action: 'site_access_refused', email: '', from: null, until: null },
      1,
    );
    assert.equal(events.length, 1);
    assert.equal(events[0]?.actor, null);
    assert.deepEqual(events[0]?.detail, { host: 'wiki.example.com', reason: 'not_a_member' });
    const beta = await tenantOf(s.world, s.beta).audit.list(
      { action: 'site_access_refused', email: '', from: null, until: null },
      1,
    );
    assert.equal(beta.events.length, 0);
  });

  test('a site the browser would not send Twofold’s cookies to is refused instead of sending the person round and round', async (t) => {
    // Twofold on its own host, with no cookie domain: a site on another host never sees the session.
    const world = await buildWorld(t, { publicUrl: 'https://2fa.example.com', secureCookies: true });
    const org = await makeOrganisation(world);
    await protect(world, org, 'wiki.example.com');
    await protect(world, org, '2fa.example.com:8443');
    const browser = new Browser(world.app);
    const elsewhere = await browser.get('/auth/sign-in?rd=https://wiki.example.com/');
    assert.equal(elsewhere.status, 400);
    assert.match(textOf(elsewhere.body), /your browser does not send Twofold’s cookies to it/);
    // Over http, Secure cookies are not sent either.
    assert.equal((await browser.get('/auth/sign-in?rd=http://2fa.example.com:8443/')).status, 400);
    // The same host name on another port gets them.
    const samehost = await browser.get('/auth/sign-in?rd=https://2fa.example.com:8443/');
    assert.equal(samehost.status, 303);
    assert.equal(samehost.location, '/login');
  });
});

describe('cookies for sites on other hosts', () => {
  test('with TWOFOLD_COOKIE_DOMAIN every cookie is for the domain, __Secure-, Secure, HttpOnly, SameSite=Lax', async (t) => {
    const s = await scene(t);
    const browser = new Browser(s.world.app);
    const lines: string[] = [];
    lines.push(...(await browser.get('/auth/sign-in?rd=https://wiki.example.com/')).setCookies);
    lines.push(...(await browser.get('/login')).setCookies);
    lines.push(...(await browser.post('/login', { email: s.ada.email, password: s.ada.password })).setCookies);
    await browser.get('/login/code');
    lines.push(...(await browser.post('/login/code', { code: nextCode(s.world, s.adaSecret) })).setCookies);
    const names = new Set(lines.map((line) => line.split('=')[0]));
    assert.deepEqual([...names].sort(), [
      '__Secure-twofold_csrf',
      '__Secure-twofold_flash',
      '__Secure-twofold_return',
      '__Secure-twofold_session',
    ]);
    for (const line of lines) {
      assert.match(line, /; Domain=example\.com/, line);
      assert.match(line, /; Secure/, line);
      assert.match(line, /; HttpOnly/, line);
      assert.match(line, /; SameSite=Lax/, line);
      assert.match(line, /; Path=\//, line);
    }
    t.diagnostic(`cookie domain: ${lines.length} cookies set, all Domain=example.com, __Secure-, Secure, HttpOnly`);
  });

  test('TWOFOLD_COOKIE_DOMAIN must be a domain name that Twofold’s own address is under', () => {
    const env = {
      TWOFOLD_SECRET_KEY: newSecretKeyText(),
      TWOFOLD_DATA_DIR: '/tmp/twofold-unused',
      TWOFOLD_PUBLIC_URL: 'https://2fa.example.com',
    };
    assert.equal(loadConfig(env).cookieDomain, null);
    assert.equal(loadConfig({ ...env, TWOFOLD_COOKIE_DOMAIN: '' }).cookieDomain, null);
    assert.equal(loadConfig({ ...env, TWOFOLD_COOKIE_DOMAIN: 'example.com' }).cookieDomain, 'example.com');
    assert.equal(loadConfig({ ...env, TWOFOLD_COOKIE_DOMAIN: '.Example.COM' }).cookieDomain, 'example.com');
    assert.equal(loadConfig({ ...env, TWOFOLD_COOKIE_DOMAIN: '2fa.example.com' }).cookieDomain, '2fa.example.com');
    for (const domain of [
      'other.com',
      'com',
      'https://example.com',
      'example.com/',
      '127.0.0.1',
      '*.example.com',
      'ample.com',
    ]) {
      assert.throws(() => loadConfig({ ...env, TWOFOLD_COOKIE_DOMAIN: domain }), ConfigError, domain);
    }
  });
});
