// Twofold as an OpenID Connect provider, driven by openid-client (panva's certified relying
// party) as a real application would: the code flow with PKCE, ID token and userinfo, refresh,
// revocation and logout, and every bad input a client or an attacker can send.
import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import * as oidc from 'openid-client';
import { codeAt } from '../../src/domain/totp.js';
import { ACR_PASSWORD, ACR_TWO_FACTOR } from '../../src/domain/sign-in-for-applications.js';
import { createApplication } from '../../src/services/applications.js';
import { rotateSigningKeys } from '../../src/services/oidc-keys.js';
import { issueRecoveryCodes } from '../../src/services/recovery-codes.js';
import { tenantFor } from '../../src/store/tenant.js';
import type {
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
} from '@simplewebauthn/server';
import { Browser, keyOptionsOn, movesOnTo, recoveryCodesOn, textOf, type Page } from '../helpers/browser.js';
import { SoftAuthenticator } from '../helpers/soft-authenticator.js';
import { frozenClock, linkDevice, makeOrganisation, makeUser, serveWorld, type ServedWorld } from '../helpers/app.js';
import { credentialsOn, requireOfUser, startLinking } from './support.js';

const REDIRECT = 'http://localhost:8080/callback';
const AFTER_LOGOUT = 'http://localhost:8080/signed-out';
/** Another address of the same application, for a change of its redirect addresses. */
const OTHER_REDIRECT = 'http://localhost:8080/signed-in';

interface Scene {
  world: ServedWorld;
  organisationId: string;
  ada: { id: string; email: string; password: string };
  adaSecret: Uint8Array;
  clientId: string;
  clientSecret: string;
  config: oidc.Configuration;
}

async function registerApplication(
  world: ServedWorld,
  organisationId: string,
  options: { requireTwoFactor?: boolean; idTokenSigningAlg?: 'RS256' | 'ES256'; name?: string } = {},
) {
  const created = await createApplication(
    world.deps,
    tenantFor(world.db, organisationId),
    { actor: null, client: null },
    {
      name: options.name ?? 'Rail Wiki',
      redirectUris: [REDIRECT],
      postLogoutRedirectUris: [AFTER_LOGOUT],
      requireTwoFactor: options.requireTwoFactor ?? false,
      idTokenSigningAlg: options.idTokenSigningAlg,
    },
  );
  assert.ok(created.ok);
  return { clientId: created.application.id, clientSecret: created.clientSecret };
}

async function relyingParty(world: ServedWorld, clientId: string, clientSecret: string, alg = 'RS256') {
  return oidc.discovery(
    new URL(world.baseUrl),
    clientId,
    { id_token_signed_response_alg: alg },
    oidc.ClientSecretBasic(clientSecret),
    { execute: [oidc.allowInsecureRequests] },
  );
}

async function scene(
  t: TestContext,
  options: { requireTwoFactor?: boolean; alg?: 'RS256' | 'ES256' } = {},
): Promise<Scene> {
  // The relying party checks token times against the real clock.
  const world = await serveWorld(t, { clock: frozenClock(new Date()) });
  const organisationId = await makeOrganisation(world, 'Acme Rail');
  const ada = await makeUser(world, organisationId, { email: 'ada@acme.test', name: 'Ada Lovelace' });
  const adaSecret = await linkDevice(world, organisationId, ada.id);
  const { clientId, clientSecret } = await registerApplication(world, organisationId, {
    requireTwoFactor: options.requireTwoFactor,
    idTokenSigningAlg: options.alg,
  });
  const config = await relyingParty(world, clientId, clientSecret, options.alg);
  return { world, organisationId, ada, adaSecret, clientId, clientSecret, config };
}

async function auditOf(s: Scene) {
  const { events } = await tenantFor(s.world.db, s.organisationId).audit.list(
    { action: null, email: '', from: null, until: null },
    1,
  );
  return events;
}

/** What the server answered, however openid-client reports it (an error body, or a WWW-Authenticate challenge). */
async function refusedWith(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    const seen = JSON.stringify({
      error: (error as { error?: unknown }).error,
      cause: (error as { cause?: unknown }).cause,
    });
    assert.ok(seen.includes(code), `expected ${code}, got ${seen}`);
    return true;
  });
}

interface Started {
  url: URL;
  verifier: string;
  state: string;
  nonce: string;
}

async function authorizationRequest(config: oidc.Configuration, extra: Record<string, string> = {}): Promise<Started> {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT,
    scope: 'openid email profile offline_access',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    prompt: 'consent',
    ...extra,
  });
  return { url, verifier, state, nonce };
}

/**
 * Follows redirects within Twofold, and the page that moves on by itself on the way back to
 * the application (as a browser does); stops at the application's address or at a page.
 */
async function follow(browser: Browser, start: string): Promise<{ page: Page; url: string }> {
  let url = start;
  for (let hops = 0; hops < 15; hops++) {
    const page = await browser.get(url);
    const onwards = movesOnTo(page) ?? (page.status >= 300 && page.status < 400 ? page.location : undefined);
    if (onwards === undefined) return { page, url };
    const next = new URL(onwards, url).toString();
    if (next.startsWith('http://localhost:8080/')) return { page, url: next };
    url = next;
  }
  throw new Error(`more than 15 redirects from ${start}`);
}

/** Signs in with password and code wherever Twofold asks, until the application gets its answer. */
async function signInThrough(s: Scene, browser: Browser, start: URL): Promise<string> {
  let { page, url } = await follow(browser, start.toString());
  for (let steps = 0; steps < 5 && !url.startsWith('http://localhost:8080/'); steps++) {
    const path = new URL(url).pathname;
    let answer: Page;
    if (path === '/login') answer = await browser.post('/login', { email: s.ada.email, password: s.ada.password });
    else if (path === '/login/code')
      answer = await browser.post('/login/code', { code: codeAt(s.adaSecret, s.world.clock.now()) });
    else throw new Error(`stopped at ${url} (${page.status}): ${textOf(page.body).slice(0, 300)}`);
    assert.equal(answer.status, 303, textOf(answer.body));
    ({ page, url } = await follow(browser, new URL(answer.location ?? '/', s.world.baseUrl).toString()));
  }
  assert.ok(url.startsWith(REDIRECT), `ended at ${url}`);
  return url;
}

/** The application's token request for the code at `callback`, checking state, nonce and PKCE as a relying party does. */
function exchange(s: Scene, started: Started, callback: string) {
  return oidc.authorizationCodeGrant(s.config, new URL(callback), checksOf(started));
}

function checksOf(started: Started) {
  return { pkceCodeVerifier: started.verifier, expectedState: started.state, expectedNonce: started.nonce };
}

/** The algorithm in the header of the ID token. */
function idTokenAlgOf(tokens: { id_token?: string }): string {
  const header = JSON.parse(Buffer.from(String(tokens.id_token).split('.')[0] ?? '', 'base64url').toString()) as {
    alg: string;
  };
  return header.alg;
}

/** A super admin of the scene's organisation, signed in to Twofold in a browser of their own. */
async function superAdminOf(s: Scene): Promise<Browser> {
  const admin = await makeUser(s.world, s.organisationId, { email: 'root@acme.test', role: 'super_admin' });
  const browser = new Browser(s.world.baseUrl);
  const signedIn = await browser.signIn(admin.email, admin.password);
  assert.equal(signedIn.location, '/account', textOf(signedIn.body));
  return browser;
}

/** Saves the Change page of the scene's application, as the super admin fills it in. */
async function changeOnPage(s: Scene, admin: Browser, form: Record<string, string>): Promise<void> {
  const page = await admin.get(`/admin/applications/${s.clientId}/edit`);
  assert.equal(page.status, 200, textOf(page.body));
  const saved = await admin.post(`/admin/applications/${s.clientId}/edit`, {
    name: 'Rail Wiki',
    postLogoutRedirectUris: AFTER_LOGOUT,
    ...form,
  });
  assert.equal(saved.status, 303, textOf(saved.body));
  assert.equal(saved.location, '/admin/applications');
}

/** An authorization request, signed in through Twofold's pages, and its code exchanged. */
async function signedInTokens(s: Scene, browser: Browser, extra: Record<string, string> = {}) {
  const started = await authorizationRequest(s.config, extra);
  return exchange(s, started, await signInThrough(s, browser, started.url));
}

/**
 * An application's sign-in through Twofold for a person without a device: the password,
 * then held at `base` (the setup screen, or the 2FA page) to link one; the answer to the
 * confirmation shows the recovery codes of that first device, and its link goes on to the
 * application, whose code is exchanged.
 */
async function linkFirstDeviceOnTheWay(s: Scene, person: { email: string; password: string }, base: '/setup' | '/2fa') {
  const browser = new Browser(s.world.baseUrl);
  const started = await authorizationRequest(s.config);
  await follow(browser, started.url.toString());
  const signedIn = await browser.post('/login', { email: person.email, password: person.password });
  const held = await follow(browser, new URL(signedIn.location ?? '/', s.world.baseUrl).toString());
  assert.equal(new URL(held.url).pathname, base);
  const { url, secret } = await startLinking(browser, base, 'Pixel 8');
  const confirmed = await browser.post(url, { code: codeAt(secret, s.world.clock.now()) });
  const shown = recoveryCodesOn(confirmed);
  assert.equal(shown?.codes.length, 10, textOf(confirmed.body));
  const continueTo = shown?.continueTo ?? '/';
  const back = await follow(browser, new URL(continueTo, s.world.baseUrl).toString());
  assert.ok(back.url.startsWith(REDIRECT), back.url);
  return { confirmed, continueTo, tokens: await exchange(s, started, back.url) };
}

/**
 * Ben, with 5 days left to set up 2FA and no device, signs in with his password on the way
 * to the application: where Twofold then holds him, and the sign-in the application started.
 */
async function withDeadlineOnTheWay(s: Scene) {
  const ben = await makeUser(s.world, s.organisationId, { email: 'ben@acme.test', name: 'Ben Okafor' });
  await requireOfUser(s.world, s.organisationId, ben.id, new Date(s.world.clock.now().getTime() + 5 * 86_400_000));
  const browser = new Browser(s.world.baseUrl);
  const started = await authorizationRequest(s.config);
  await follow(browser, started.url.toString());
  const signedIn = await browser.post('/login', { email: ben.email, password: ben.password });
  assert.equal(signedIn.status, 303, textOf(signedIn.body));
  const held = await follow(browser, new URL(signedIn.location ?? '/', s.world.baseUrl).toString());
  return { ben, browser, started, held };
}

describe('OpenID Connect provider', () => {
  test('discovery says what Twofold offers: code flow with PKCE, RS256 and ES256, refresh, revocation, logout', async (t) => {
    const s = await scene(t);
    const metadata = s.config.serverMetadata();
    assert.equal(metadata.issuer, s.world.baseUrl);
    assert.deepEqual(metadata.response_types_supported, ['code']);
    assert.deepEqual(metadata.code_challenge_methods_supported, ['S256']);
    assert.deepEqual([...(metadata.id_token_signing_alg_values_supported ?? [])].sort(), ['ES256', 'RS256']);
    assert.ok(metadata.revocation_endpoint);
    assert.ok(metadata.end_session_endpoint);
    assert.ok(metadata.userinfo_endpoint);
    assert.deepEqual(metadata.acr_values_supported, [ACR_PASSWORD, ACR_TWO_FACTOR, 'phr', 'phrh']);
    const jwks = (await (await fetch(String(metadata.jwks_uri))).json()) as { keys: Record<string, unknown>[] };
    assert.deepEqual(jwks.keys.map((key) => key.alg).sort(), ['ES256', 'RS256']);
    for (const key of jwks.keys) assert.equal(key.d, undefined, 'a private part is published');
  });

  test('the whole code flow: sign in with password and code, ID token, userinfo, refresh, revocation', async (t) => {
    const s = await scene(t);
    const browser = new Browser(s.world.baseUrl);
    const tokens = await signedInTokens(s, browser);
    const claims = tokens.claims();
    assert.ok(claims);
    assert.equal(claims.sub, s.ada.id);
    assert.equal(claims.acr, ACR_TWO_FACTOR);
    assert.deepEqual(claims.amr, ['pwd', 'otp', 'mfa']);
    assert.equal(typeof claims.auth_time, 'number');
    const info = await oidc.fetchUserInfo(s.config, tokens.access_token, s.ada.id);
    assert.equal(info.email, 'ada@acme.test');
    assert.equal(info.email_verified, false);
    assert.equal(info.name, 'Ada Lovelace');
    assert.equal(info.organisation_id, s.organisationId);
    assert.equal(info.organisation_name, 'Acme Rail');
    assert.equal(info.role, 'user');
    assert.ok(tokens.refresh_token);
    const refreshed = await oidc.refreshTokenGrant(s.config, tokens.refresh_token);
    assert.ok(refreshed.access_token);
    await oidc.tokenRevocation(s.config, refreshed.refresh_token ?? tokens.refresh_token);
    await refusedWith(
      oidc.refreshTokenGrant(s.config, refreshed.refresh_token ?? tokens.refresh_token),
      'invalid_grant',
    );
    const audit = await auditOf(s);
    assert.ok(audit.some((event) => event.action === 'application_sign_in' && event.subject?.id === s.ada.id));
  });

  test('a browser not signed in goes from the authorization request straight to the sign-in page, told which application it is for, and from the code straight on to it', async (t) => {
    const s = await scene(t);
    const browser = new Browser(s.world.baseUrl);
    const started = await authorizationRequest(s.config);
    const first = await browser.get(started.url.toString());
    assert.equal(first.status, 303, textOf(first.body));
    assert.equal(first.location, '/login');
    const login = await browser.get('/login');
    assert.match(textOf(login.body), /Sign in to continue to Rail Wiki\./);
    await browser.post('/login', { email: s.ada.email, password: s.ada.password });
    // The code's page lets its form lead on to the application's address, and nowhere else.
    const codePage = await browser.get('/login/code');
    const csp = String(codePage.headers['content-security-policy']);
    assert.match(csp, /(^|;)form-action 'self' http:\/\/localhost:8080(;|$)/, csp);
    const answer = await browser.post('/login/code', { code: codeAt(s.adaSecret, s.world.clock.now()) });
    assert.equal(answer.status, 303, textOf(answer.body));
    // The provider's own way back, with the sign-in's result: no page between.
    assert.match(answer.location ?? '', /^\/oidc\/auth\/[\w-]+$/);
    assert.equal(browser.cookie('twofold_app_sign_in'), undefined, 'the binding serves one sign-in');
    const back = await browser.get(answer.location ?? '');
    assert.equal(back.status, 303);
    assert.ok(back.location?.startsWith(`${REDIRECT}?`), back.location);
    const tokens = await exchange(s, started, back.location ?? '');
    assert.equal(tokens.claims()?.sub, s.ada.id);
    assert.equal(tokens.claims()?.acr, ACR_TWO_FACTOR);
    assert.ok((await auditOf(s)).some((event) => event.action === 'application_sign_in'));

    // Part way through signing in (the password given, not the code), the interaction page decides as before.
    const partWay = new Browser(s.world.baseUrl);
    await partWay.get('/login');
    const password = await partWay.post('/login', { email: s.ada.email, password: s.ada.password });
    assert.equal(password.location, '/login/code', textOf(password.body));
    const again = await partWay.get((await authorizationRequest(s.config)).url.toString());
    assert.equal(again.status, 303);
    assert.match(again.location ?? '', /\/oidc\/interaction\/[\w-]+$/);
    const decided = await partWay.get(again.location ?? '');
    assert.equal(decided.location, '/login/code');
  });

  test('after the last form, the way back leaves Twofold only where that form’s page allows: otherwise from a page that moves on by itself', async (t) => {
    // A browser holds every redirect that follows a form's submission to the form page's
    // form-action: Chromium refuses a redirect to the application's address that it does
    // not name. Someone part way through signing in when the application sent them here
    // is sent back through the interaction page, whose own page names only 'self'.
    const s = await scene(t);
    const browser = new Browser(s.world.baseUrl);
    await browser.get('/login');
    await browser.post('/login', { email: s.ada.email, password: s.ada.password });
    const started = await authorizationRequest(s.config);
    const atCode = await follow(browser, started.url.toString());
    assert.equal(new URL(atCode.url).pathname, '/login/code');
    const csp = String(atCode.page.headers['content-security-policy']);
    assert.match(csp, /(^|;)form-action 'self'(;|$)/, csp);
    let answer = await browser.post('/login/code', { code: codeAt(s.adaSecret, s.world.clock.now()) });
    const redirects: string[] = [];
    while (answer.status === 303 && answer.location !== undefined) {
      const next = new URL(answer.location, s.world.baseUrl);
      redirects.push(next.toString());
      answer = await browser.get(next.toString());
    }
    assert.ok(redirects.length > 0);
    for (const url of redirects) assert.ok(url.startsWith(`${s.world.baseUrl}/`), `the code's form post led to ${url}`);
    assert.equal(answer.status, 200, textOf(answer.body));
    assert.match(
      textOf(answer.body),
      /Continue to Rail Wiki You are signed in\. Twofold is taking you back to Rail Wiki\./,
    );
    const pageCsp = String(answer.headers['content-security-policy']);
    assert.match(pageCsp, /(^|;)form-action 'self'(;|$)/, pageCsp);
    assert.match(pageCsp, /(^|;)script-src 'none'(;|$)/, pageCsp);
    const onwards = movesOnTo(answer);
    assert.match(onwards ?? '', /^\/oidc\/auth\/[\w-]+$/);
    assert.match(answer.body, new RegExp(`<a class="button" href="${onwards}">Continue to Rail Wiki</a>`));

    // From there a navigation of its own, which form-action does not govern: to the application, with a code.
    const back = await browser.get(onwards ?? '');
    assert.equal(back.status, 303);
    assert.ok(back.location?.startsWith(`${REDIRECT}?`), back.location);
    const tokens = await exchange(s, started, back.location ?? '');
    assert.equal(tokens.claims()?.acr, ACR_TWO_FACTOR);
  });

  test('the code step goes straight on only to a sign-in that its own browser began: a way back from a link, or a forged binding, is not enough', async (t) => {
    const s = await scene(t);
    // Someone else's sign-in to the application, begun in their own browser.
    const other = new Browser(s.world.baseUrl);
    const theirs = await authorizationRequest(s.config);
    await other.get(theirs.url.toString());
    const uid =
      /^\/oidc\/interaction\/([\w-]+)\./.exec(decodeURIComponent(other.cookie('twofold_return') ?? ''))?.[1] ?? '';
    assert.notEqual(uid, '');

    // Ada follows a link that makes it her way back, then signs in again.
    const ada = new Browser(s.world.baseUrl);
    await ada.get('/login');
    await ada.post('/login', { email: s.ada.email, password: s.ada.password });
    await ada.post('/login/code', { code: codeAt(s.adaSecret, s.world.clock.now()) });
    await ada.get(`/2fa?${new URLSearchParams({ back: `/oidc/interaction/${uid}` }).toString()}`);
    await ada.post('/logout', {});
    s.world.clock.advanceMinutes(1);
    await ada.get('/login');
    await ada.post('/login', { email: s.ada.email, password: s.ada.password });
    const answer = await ada.post('/login/code', { code: codeAt(s.adaSecret, s.world.clock.now()) });
    assert.equal(answer.status, 303, textOf(answer.body));
    assert.equal(answer.location, `/oidc/interaction/${uid}`);
    const refused = await ada.get(answer.location ?? '');
    assert.equal(refused.status, 400);
    assert.match(textOf(refused.body), /took too long, or was already completed/);
    // The other browser's sign-in was given no one's result.
    const resumed = await follow(other, new URL(`/oidc/auth/${uid}`, s.world.baseUrl).toString());
    assert.ok(!resumed.url.startsWith(REDIRECT), resumed.url);

    // A binding whose signature does not hold is ignored: the interaction page decides.
    s.world.clock.advanceMinutes(1);
    const forger = new Browser(s.world.baseUrl);
    const own = await authorizationRequest(s.config);
    await forger.get(own.url.toString());
    await forger.get('/login');
    await forger.post('/login', { email: s.ada.email, password: s.ada.password });
    const bound = forger.cookie('twofold_app_sign_in') ?? '';
    assert.notEqual(bound, '');
    forger.cookies.set('twofold_app_sign_in', bound.replace(/\.[^.]*$/, '.forged'));
    const forged = await forger.post('/login/code', { code: codeAt(s.adaSecret, s.world.clock.now()) });
    assert.match(forged.location ?? '', /^\/oidc\/interaction\//);
    const back = await follow(forger, new URL(forged.location ?? '/', s.world.baseUrl).toString());
    assert.ok(back.url.startsWith(`${REDIRECT}?`), back.url);
  });

  test('ES256 ID tokens for an application registered for them', async (t) => {
    const s = await scene(t, { alg: 'ES256' });
    const browser = new Browser(s.world.baseUrl);
    const tokens = await signedInTokens(s, browser);
    assert.equal(idTokenAlgOf(tokens), 'ES256');
  });

  test('ES256 chosen on the Applications page, when registering or changing an application, signs its ID tokens', async (t) => {
    const s = await scene(t);
    const admin = await superAdminOf(s);
    const browser = new Browser(s.world.baseUrl);
    assert.equal(idTokenAlgOf(await signedInTokens(s, browser)), 'RS256');

    await admin.get('/admin/applications');
    const registered = await admin.post('/admin/applications', {
      name: 'Rail Ledger',
      redirectUris: REDIRECT,
      postLogoutRedirectUris: '',
      idTokenSigningAlg: 'ES256',
    });
    assert.equal(registered.status, 201, textOf(registered.body));
    const { clientId, secret } = credentialsOn(registered);
    const ledger: Scene = {
      ...s,
      clientId,
      clientSecret: secret,
      config: await relyingParty(s.world, clientId, secret, 'ES256'),
    };
    assert.equal(idTokenAlgOf(await signedInTokens(ledger, browser)), 'ES256');

    // The first application, changed to ES256 on the page, while the server runs on.
    await changeOnPage(s, admin, { redirectUris: REDIRECT, idTokenSigningAlg: 'ES256' });
    const changed: Scene = { ...s, config: await relyingParty(s.world, s.clientId, s.clientSecret, 'ES256') };
    assert.equal(idTokenAlgOf(await signedInTokens(changed, browser)), 'ES256');
  });

  test('a redirect address removed on the Change page is refused at once; the new one works, with the same secret', async (t) => {
    const s = await scene(t);
    const admin = await superAdminOf(s);
    const browser = new Browser(s.world.baseUrl);
    // The provider has seen the application as it was, and signed Ada in to it.
    await signedInTokens(s, browser);

    await changeOnPage(s, admin, { redirectUris: OTHER_REDIRECT });
    const removed = await browser.get((await authorizationRequest(s.config)).url.toString());
    assert.equal(removed.status, 400);
    assert.equal(removed.location, undefined, 'sent to the removed address');
    assert.match(textOf(removed.body), /has not registered/);

    const started = await authorizationRequest(s.config, { redirect_uri: OTHER_REDIRECT });
    const { url } = await follow(browser, started.url.toString());
    assert.ok(url.startsWith(`${OTHER_REDIRECT}?`), url);
    const tokens = await exchange(s, started, url);
    assert.equal(tokens.claims()?.sub, s.ada.id);
  });

  test('turning on "Require two-factor authentication" on the Change page asks the next sign-in for a second factor', async (t) => {
    const s = await scene(t);
    const admin = await superAdminOf(s);
    const ben = await makeUser(s.world, s.organisationId, { email: 'ben@acme.test', name: 'Ben Okafor' });
    const browser = new Browser(s.world.baseUrl);
    const first = await authorizationRequest(s.config);
    await follow(browser, first.url.toString());
    const signedIn = await browser.post('/login', { email: ben.email, password: ben.password });
    const back = await follow(browser, new URL(signedIn.location ?? '/', s.world.baseUrl).toString());
    assert.equal((await exchange(s, first, back.url)).claims()?.acr, ACR_PASSWORD);
    const again = await follow(browser, (await authorizationRequest(s.config)).url.toString());
    assert.ok(again.url.startsWith(`${REDIRECT}?`), `before the change, straight back: ${again.url}`);

    await changeOnPage(s, admin, { redirectUris: REDIRECT, requireTwoFactor: 'yes' });
    const held = await follow(browser, (await authorizationRequest(s.config)).url.toString());
    assert.equal(new URL(held.url).pathname, '/2fa');
    assert.match(textOf(held.page.body), /Rail Wiki asks for two-factor authentication/);
  });

  test('a recovery code at the code step signs in to the application: acr 2fa, amr pwd otp mfa, the code used up', async (t) => {
    const s = await scene(t);
    const tenant = tenantFor(s.world.db, s.organisationId);
    const ada = await tenant.users.findById(s.ada.id);
    assert.ok(ada);
    const codes = await issueRecoveryCodes(s.world.deps, tenant, ada, { ip: '127.0.0.1', userAgent: 'test' });
    const browser = new Browser(s.world.baseUrl);
    const started = await authorizationRequest(s.config);
    const atLogin = await follow(browser, started.url.toString());
    assert.equal(new URL(atLogin.url).pathname, '/login');
    const afterPassword = await browser.post('/login', { email: s.ada.email, password: s.ada.password });
    const atCode = await follow(browser, new URL(afterPassword.location ?? '/', s.world.baseUrl).toString());
    assert.equal(new URL(atCode.url).pathname, '/login/code');
    const answer = await browser.post('/login/code', { code: codes[0] ?? '' });
    assert.equal(answer.status, 303, textOf(answer.body));
    // The way back tells how many codes are left, and waits for the person to go on.
    const held = await follow(browser, new URL(answer.location ?? '/', s.world.baseUrl).toString());
    assert.equal(held.page.status, 200);
    assert.match(new URL(held.url).pathname, /^\/oidc\/interaction\//);
    assert.match(
      textOf(held.page.body),
      /You signed in with a recovery code; 9 are left.[\s\S]*You are signed in\. Continue to Rail Wiki/,
    );
    assert.equal(movesOnTo(held.page), undefined);
    const onwards = /<a class="button" href="([^"]+)">Continue to Rail Wiki<\/a>/.exec(held.page.body)?.[1] ?? '';
    const back = await browser.get(onwards);
    assert.equal(back.status, 303);
    const callback = back.location ?? '';
    assert.ok(callback.startsWith(REDIRECT), callback);
    const claims = (await exchange(s, started, callback)).claims();
    assert.equal(claims?.acr, ACR_TWO_FACTOR);
    assert.deepEqual(claims?.amr, ['pwd', 'otp', 'mfa']);
    assert.equal(await tenant.recoveryCodes.countUnused(s.ada.id), 9);
  });

  test('someone with a deadline to set up 2FA sees the reminder on the way to the application, which waits for them', async (t) => {
    const s = await scene(t);
    const { browser, started, held } = await withDeadlineOnTheWay(s);
    assert.equal(held.page.status, 200);
    assert.match(
      textOf(held.page.body),
      /Set up two-factor authentication before .* \(5 days left\)\. Set it up now[\s\S]*You are signed in\. Continue to Rail Wiki/,
    );
    assert.equal(movesOnTo(held.page), undefined);
    const onwards = /<a class="button" href="([^"]+)">Continue to Rail Wiki<\/a>/.exec(held.page.body)?.[1] ?? '';
    const back = await browser.get(onwards);
    assert.ok(back.location?.startsWith(`${REDIRECT}?`), back.location);
    assert.equal((await exchange(s, started, back.location ?? '')).claims()?.acr, ACR_PASSWORD);
  });

  test('"Set it up now" on the way to the application leads to the 2FA page and, once a device is linked, back to the application', async (t) => {
    const s = await scene(t);
    const { ben, browser, started, held } = await withDeadlineOnTheWay(s);
    const interaction = new URL(held.url).pathname;
    assert.match(interaction, /^\/oidc\/interaction\//);
    const setUp = /<a href="([^"]+)">Set it up now<\/a>/.exec(held.page.body)?.[1]?.replace(/&amp;/g, '&') ?? '';
    assert.equal(setUp, `/2fa?${new URLSearchParams({ back: interaction }).toString()}`);
    const twoFactorPage = await browser.get(setUp);
    assert.equal(twoFactorPage.status, 200, textOf(twoFactorPage.body));
    const { url, secret } = await startLinking(browser, '/2fa', 'Pixel 8');
    const confirmed = await browser.post(url, { code: codeAt(secret, s.world.clock.now()) });
    const shown = recoveryCodesOn(confirmed);
    assert.equal(shown?.continueTo, interaction, textOf(confirmed.body));
    const back = await follow(browser, new URL(shown?.continueTo ?? '/', s.world.baseUrl).toString());
    assert.ok(back.url.startsWith(`${REDIRECT}?`), `${back.url}: ${textOf(back.page.body).slice(0, 300)}`);
    const claims = (await exchange(s, started, back.url)).claims();
    assert.equal(claims?.sub, ben.id);
    assert.equal(claims?.acr, ACR_TWO_FACTOR, 'the device just linked is a second factor given');

    // The 2FA page takes only Twofold's own ways back: any other is ignored.
    for (const elsewhere of ['https://evil.example/', '//evil.example/x', '/account', '/oidc/interaction/../../x']) {
      const page = await browser.get(`/2fa?${new URLSearchParams({ back: elsewhere }).toString()}`);
      assert.equal(page.status, 200, elsewhere);
      assert.equal(browser.cookies.get('twofold_return'), undefined, elsewhere);
    }
  });

  test('a person already signed in to Twofold goes straight back to the application', async (t) => {
    const s = await scene(t);
    const browser = new Browser(s.world.baseUrl);
    await signInThrough(s, browser, (await authorizationRequest(s.config)).url);
    const again = await authorizationRequest(s.config, { prompt: 'none' });
    const { url } = await follow(browser, again.url.toString());
    const answer = new URL(url);
    assert.equal(answer.searchParams.get('error'), null, url);
    assert.ok(answer.searchParams.get('code'));
  });

  test('password only: acr and amr say so, and an application asking for a second factor never gets less', async (t) => {
    const s = await scene(t);
    const ben = await makeUser(s.world, s.organisationId, { email: 'ben@acme.test', name: 'Ben Okafor' });
    const browser = new Browser(s.world.baseUrl);
    const started = await authorizationRequest(s.config);
    let { url } = await follow(browser, started.url.toString());
    assert.equal(new URL(url).pathname, '/login');
    const signedIn = await browser.post('/login', { email: ben.email, password: ben.password });
    ({ url } = await follow(browser, new URL(signedIn.location ?? '/', s.world.baseUrl).toString()));
    const tokens = await exchange(s, started, url);
    assert.equal(tokens.claims()?.acr, ACR_PASSWORD);
    assert.deepEqual(tokens.claims()?.amr, ['pwd']);

    // Asking for a second factor: Ben has none, so he is asked to link one first.
    const strict = await authorizationRequest(s.config, { acr_values: ACR_TWO_FACTOR });
    const held = await follow(browser, strict.url.toString());
    assert.equal(new URL(held.url).pathname, '/2fa');
    assert.match(textOf(held.page.body), /Rail Wiki asks for two-factor authentication/);
  });

  test('an application that requires 2FA has a person without a device link one, then sends them on', async (t) => {
    const s = await scene(t, { requireTwoFactor: true });
    const ben = await makeUser(s.world, s.organisationId, { email: 'ben@acme.test', name: 'Ben Okafor' });
    const { tokens } = await linkFirstDeviceOnTheWay(s, ben, '/2fa');
    assert.equal(tokens.claims()?.acr, ACR_TWO_FACTOR);
  });

  test('a person held at the setup screen links a first device, is shown its recovery codes once, and continues to the application', async (t) => {
    const s = await scene(t, { requireTwoFactor: true });
    const ben = await makeUser(s.world, s.organisationId, { email: 'ben@acme.test', name: 'Ben Okafor' });
    const tenant = tenantFor(s.world.db, s.organisationId);
    await tenant.users.setTwoFactorRequirement(ben.id, true, null, s.world.clock.now());
    const { confirmed, continueTo, tokens } = await linkFirstDeviceOnTheWay(s, ben, '/setup');
    assert.match(continueTo, /^\/oidc\/interaction\/[A-Za-z0-9_-]+$/);
    assert.match(textOf(confirmed.body), /Pixel 8 is linked and you are signed in\./);
    assert.equal(tokens.claims()?.acr, ACR_TWO_FACTOR);
    assert.equal(tokens.claims()?.sub, ben.id);
    assert.equal(await tenant.recoveryCodes.countUnused(ben.id), 10);
  });

  test('a member of another organisation is told plainly they have no access, and learns nothing of it', async (t) => {
    const s = await scene(t);
    const otherOrg = await makeOrganisation(s.world, 'Beta Freight');
    const cleo = await makeUser(s.world, otherOrg, { email: 'cleo@beta.test', name: 'Cleo Park' });
    const browser = new Browser(s.world.baseUrl);
    const started = await authorizationRequest(s.config);
    await follow(browser, started.url.toString());
    const signedIn = await browser.post('/login', { email: cleo.email, password: cleo.password });
    const refused = await follow(browser, new URL(signedIn.location ?? '/', s.world.baseUrl).toString());
    assert.equal(refused.page.status, 403);
    const text = textOf(refused.page.body);
    assert.match(text, /Your account has no access to this application/);
    assert.doesNotMatch(text, /Acme|Ada|Rail Wiki/);
    const audit = await auditOf(s);
    const entry = audit.find((event) => event.action === 'application_sign_in_refused');
    assert.ok(entry, 'the refusal is in the application organisation’s audit log');
    assert.equal(entry.subject, null);
  });

  test('bad requests: unknown client, unregistered redirect address, no PKCE: an error page and no redirect', async (t) => {
    const s = await scene(t);
    const browser = new Browser(s.world.baseUrl);
    const base = await authorizationRequest(s.config);
    const variants: [string, (url: URL) => void, RegExp][] = [
      ['unknown client', (url) => url.searchParams.set('client_id', 'no-such-client'), /does not know the application/],
      [
        'unregistered redirect',
        (url) => url.searchParams.set('redirect_uri', 'https://evil.example/cb'),
        /has not registered/,
      ],
      [
        'redirect with a different path',
        (url) => url.searchParams.set('redirect_uri', `${REDIRECT}/../evil`),
        /has not registered/,
      ],
    ];
    for (const [name, change, sentence] of variants) {
      const url = new URL(base.url);
      change(url);
      const page = await browser.get(url.toString());
      assert.equal(page.status, 400, name);
      assert.equal(page.location, undefined, `${name}: redirected`);
      assert.match(textOf(page.body), sentence, name);
      assert.match(String(page.headers['content-security-policy']), /script-src 'none'/, name);
    }
    // Without PKCE the application is told so, at its own address.
    const noPkce = new URL(base.url);
    noPkce.searchParams.delete('code_challenge');
    noPkce.searchParams.delete('code_challenge_method');
    const refused = await browser.get(noPkce.toString());
    assert.equal(refused.status, 303);
    const back = new URL(refused.location ?? '');
    assert.equal(`${back.origin}${back.pathname}`, REDIRECT);
    assert.equal(back.searchParams.get('error'), 'invalid_request');
  });

  test('token requests: wrong secret, PKCE mismatch, a code used twice (tokens revoked), an expired code', async (t) => {
    const s = await scene(t);
    const browser = new Browser(s.world.baseUrl);

    const wrongSecret = await relyingParty(s.world, s.clientId, 'not the secret');
    const first = await authorizationRequest(s.config);
    const firstCallback = await signInThrough(s, browser, first.url);
    await refusedWith(
      oidc.authorizationCodeGrant(wrongSecret, new URL(firstCallback), checksOf(first)),
      'invalid_client',
    );
    await refusedWith(
      oidc.authorizationCodeGrant(s.config, new URL(firstCallback), {
        ...checksOf(first),
        pkceCodeVerifier: oidc.randomPKCECodeVerifier(),
      }),
      'invalid_grant',
    );

    const second = await authorizationRequest(s.config);
    const { url: secondCallback } = await follow(browser, second.url.toString());
    const tokens = await exchange(s, second, secondCallback);
    await refusedWith(exchange(s, second, secondCallback), 'invalid_grant');
    await refusedWith(oidc.fetchUserInfo(s.config, tokens.access_token, s.ada.id), 'invalid_token');
    await refusedWith(oidc.refreshTokenGrant(s.config, tokens.refresh_token ?? ''), 'invalid_grant');

    const third = await authorizationRequest(s.config);
    const { url: thirdCallback } = await follow(browser, third.url.toString());
    s.world.clock.advanceMinutes(2);
    await refusedWith(exchange(s, third, thirdCallback), 'invalid_grant');
    const audit = await auditOf(s);
    assert.ok(audit.filter((event) => event.action === 'application_sign_in_failed').length >= 3);
  });

  test('signing out of Twofold ends the sign-in of applications; RP-initiated logout signs out of Twofold', async (t) => {
    const s = await scene(t);
    const browser = new Browser(s.world.baseUrl);
    const tokens = await signedInTokens(s, browser);
    await browser.post('/logout', {});
    const silent = await follow(browser, (await authorizationRequest(s.config, { prompt: 'none' })).url.toString());
    assert.equal(new URL(silent.url).searchParams.get('error'), 'login_required');

    // Signed in again, the application's logout with "Sign out of Twofold too".
    s.world.clock.advanceMinutes(1);
    const againTokens = await signedInTokens(s, browser);
    const logout = oidc.buildEndSessionUrl(s.config, {
      id_token_hint: String(againTokens.id_token),
      post_logout_redirect_uri: AFTER_LOGOUT,
      state: 'bye',
    });
    const confirm = await browser.get(logout.toString());
    assert.equal(confirm.status, 200);
    assert.match(textOf(confirm.body), /Sign out of Twofold too/);
    assert.match(String(confirm.headers['content-security-policy']), /form-action 'self' http:\/\/localhost:8080/);
    const action = /<form[^>]*action="([^"]+)"/.exec(confirm.body)?.[1] ?? '';
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(confirm.body)?.[1] ?? '';
    const done = await browser.post(new URL(action, s.world.baseUrl).pathname, { xsrf, logout: 'yes' }, { csrf: null });
    assert.equal(done.status, 303);
    assert.ok(done.location?.startsWith(`${AFTER_LOGOUT}?state=bye`), done.location);
    const home = await browser.get('/account');
    assert.equal(home.status, 303);
    assert.equal(home.location, '/login');
    assert.ok(tokens.access_token);
  });

  test('deactivating a person revokes what applications hold for them: refresh tokens and access tokens', async (t) => {
    const s = await scene(t);
    const browser = new Browser(s.world.baseUrl);
    const tokens = await signedInTokens(s, browser);
    const tenant = tenantFor(s.world.db, s.organisationId);
    await tenant.sessions.deleteAllForUser(s.ada.id);
    await refusedWith(oidc.refreshTokenGrant(s.config, tokens.refresh_token ?? ''), 'invalid_grant');
    await refusedWith(oidc.fetchUserInfo(s.config, tokens.access_token, s.ada.id), 'invalid_token');
  });

  test('rotated keys: new ID tokens are signed with the new key, and the old one stays published', async (t) => {
    const s = await scene(t);
    const before = (await (await fetch(`${s.world.baseUrl}/oidc/jwks`)).json()) as { keys: { kid: string }[] };
    const rotation = await rotateSigningKeys(s.world.deps);
    assert.equal(rotation.added.length, 2);
    // Another instance on the same database, started after the rotation.
    const restarted = await serveWorld(t, { db: s.world.db, clock: s.world.clock });
    const after = (await (await fetch(`${restarted.baseUrl}/oidc/jwks`)).json()) as { keys: { kid: string }[] };
    const kids = after.keys.map((key) => key.kid);
    for (const key of before.keys) assert.ok(kids.includes(key.kid), `${key.kid} is no longer published`);
    for (const kid of rotation.added) assert.ok(kids.includes(kid), `${kid} is not published`);
  });

  describe('phishing-resistant sign-in (acr_values phr, phrh; amr hwk, swk)', () => {
    /** Ada, signed in to the application with her app's code, links `key` on the 2FA page. */
    async function adaWithKey(s: Scene, key: SoftAuthenticator) {
      const browser = new Browser(s.world.baseUrl);
      const first = await signedInTokens(s, browser);
      assert.deepEqual(first.claims()?.amr, ['pwd', 'otp', 'mfa']);
      const page = await browser.get('/2fa/security-keys');
      assert.equal(page.status, 200, textOf(page.body));
      const origin = new URL(s.world.baseUrl).origin;
      const answer = key.create(keyOptionsOn<PublicKeyCredentialCreationOptionsJSON>(page), { origin });
      const linked = await browser.post('/2fa/security-keys', { name: 'YubiKey', answer: JSON.stringify(answer) });
      assert.equal(linked.status, 303, textOf(linked.body));
      return browser;
    }

    /** A new browser at Ada's code step (password given), answered with `key`. */
    async function signInWithKey(s: Scene, key: SoftAuthenticator, start: URL) {
      const browser = new Browser(s.world.baseUrl);
      await follow(browser, start.toString());
      const afterPassword = await browser.post('/login', { email: s.ada.email, password: s.ada.password });
      assert.equal(afterPassword.location, '/login/code');
      const step = await browser.get('/login/code');
      const options = keyOptionsOn<PublicKeyCredentialRequestOptionsJSON>(step);
      const answer = key.get(options, { origin: new URL(s.world.baseUrl).origin });
      const done = await browser.post('/login/code', { with: 'key', answer: JSON.stringify(answer) });
      assert.equal(done.status, 303, textOf(done.body));
      return { browser, back: await follow(browser, new URL(done.location ?? '/', s.world.baseUrl).toString()) };
    }

    test('a sign-in with a security key: amr says hwk (swk for a synced passkey), and acr_values=phr gets acr phr', async (t) => {
      const s = await scene(t);
      const key = new SoftAuthenticator();
      await adaWithKey(s, key);
      const started = await authorizationRequest(s.config, { acr_values: 'phr' });
      const { back } = await signInWithKey(s, key, started.url);
      assert.ok(back.url.startsWith(REDIRECT), back.url);
      const claims = (await exchange(s, started, back.url)).claims();
      assert.equal(claims?.acr, 'phr');
      assert.deepEqual(claims?.amr, ['pwd', 'hwk', 'mfa']);

      // Asked nothing: acr as before, amr as it was.
      const plain = await authorizationRequest(s.config);
      const again = await signInWithKey(s, key, plain.url);
      const plainClaims = (await exchange(s, plain, again.back.url)).claims();
      assert.equal(plainClaims?.acr, ACR_TWO_FACTOR);
      assert.deepEqual(plainClaims?.amr, ['pwd', 'hwk', 'mfa']);

      // A synced passkey: swk, phr, and not phrh.
      const synced = new SoftAuthenticator({ backedUp: true, counter: 'none' });
      const s2 = await scene(t);
      await adaWithKey(s2, synced);
      const asked = await authorizationRequest(s2.config, { acr_values: 'phrh phr' });
      const passkey = await signInWithKey(s2, synced, asked.url);
      const passkeyClaims = (await exchange(s2, asked, passkey.back.url)).claims();
      assert.equal(passkeyClaims?.acr, 'phr');
      assert.deepEqual(passkeyClaims?.amr, ['pwd', 'swk', 'mfa']);
    });

    test('asked for phr after a code, a person with a key confirms with the key (no code taken), then gets phr', async (t) => {
      const s = await scene(t);
      const key = new SoftAuthenticator();
      const browser = await adaWithKey(s, key);
      // A new sign-in with the app's code: the session's second factor is a code.
      await browser.post('/logout', {});
      s.world.clock.advanceMinutes(1);
      const signedIn = await signedInTokens(s, browser);
      assert.deepEqual(signedIn.claims()?.amr, ['pwd', 'otp', 'mfa']);

      const started = await authorizationRequest(s.config, { acr_values: 'phr' });
      const held = await follow(browser, started.url.toString());
      const at = new URL(held.url);
      assert.equal(at.pathname, '/confirm-identity');
      assert.equal(at.searchParams.get('with'), 'key');
      assert.doesNotMatch(held.page.body, /name="code"/, 'no code field: only the key');
      const next = at.searchParams.get('next') ?? '';
      // A code is not enough: the interaction sends the person back to the key.
      s.world.clock.advanceMinutes(1);
      const byCode = await browser.post('/confirm-identity', {
        next,
        password: s.ada.password,
        code: codeAt(s.adaSecret, s.world.clock.now()),
      });
      assert.equal(byCode.status, 303, textOf(byCode.body));
      const stillHeld = await follow(browser, new URL(byCode.location ?? '/', s.world.baseUrl).toString());
      assert.equal(new URL(stillHeld.url).pathname, '/confirm-identity', 'never a silent downgrade');

      // A wrong password on that page: told so, and still asked for the key alone.
      const mistaken = await browser.post('/confirm-identity', { next, with: 'key', password: 'not her password' });
      assert.equal(mistaken.status, 400, textOf(mistaken.body));
      assert.doesNotMatch(mistaken.body, /name="code"/, 'after a mistake, still no code field');
      assert.match(mistaken.body, /<input type="hidden" name="with" value="key"/);
      assert.match(stillHeld.page.body, /<input type="hidden" name="with" value="key"/);

      const options = keyOptionsOn<PublicKeyCredentialRequestOptionsJSON>(stillHeld.page);
      const answer = key.get(options, { origin: new URL(s.world.baseUrl).origin });
      const byKey = await browser.post('/confirm-identity', {
        next,
        password: s.ada.password,
        answer: JSON.stringify(answer),
      });
      assert.equal(byKey.status, 303, textOf(byKey.body));
      const back = await follow(browser, new URL(byKey.location ?? '/', s.world.baseUrl).toString());
      assert.ok(back.url.startsWith(REDIRECT), back.url);
      const claims = (await exchange(s, started, back.url)).claims();
      assert.equal(claims?.acr, 'phr');
      assert.deepEqual(claims?.amr, ['pwd', 'hwk', 'mfa']);
    });

    test('an application set on its Change page to require phishing-resistant sign-in gets a key whatever it asks for', async (t) => {
      const s = await scene(t);
      const key = new SoftAuthenticator();
      await adaWithKey(s, key);
      const admin = await superAdminOf(s);
      await changeOnPage(s, admin, { redirectUris: REDIRECT, requirePhishingResistant: 'yes' });
      const listed = await admin.get('/admin/applications');
      assert.match(textOf(listed.body), /A security key or passkey/);
      const changed = (await auditOf(s)).find((event) => event.action === 'application_changed');
      assert.equal(changed?.detail.require_phishing_resistant, true);

      // Asking nothing: a key, and acr phr.
      const started = await authorizationRequest(s.config);
      const { back } = await signInWithKey(s, key, started.url);
      const claims = (await exchange(s, started, back.url)).claims();
      assert.equal(claims?.acr, 'phr');
      assert.deepEqual(claims?.amr, ['pwd', 'hwk', 'mfa']);

      // Signed in with the app's code: asked for the key, not sent on.
      const byCode = new Browser(s.world.baseUrl);
      const asked = await authorizationRequest(s.config, { acr_values: ACR_TWO_FACTOR });
      await follow(byCode, asked.url.toString());
      await byCode.post('/login', { email: s.ada.email, password: s.ada.password });
      await byCode.get('/login/code?with=app');
      s.world.clock.advanceMinutes(1);
      const coded = await byCode.post('/login/code', { code: codeAt(s.adaSecret, s.world.clock.now()) });
      assert.equal(coded.status, 303, textOf(coded.body));
      const held = await follow(byCode, new URL(coded.location ?? '/', s.world.baseUrl).toString());
      assert.equal(new URL(held.url).pathname, '/confirm-identity');
      assert.equal(new URL(held.url).searchParams.get('with'), 'key');
    });

    test('asked for phr, a person without a key is told so and the application gets access_denied, never less', async (t) => {
      const s = await scene(t);
      const browser = new Browser(s.world.baseUrl);
      await signedInTokens(s, browser);
      const started = await authorizationRequest(s.config, { acr_values: 'phr' });
      const { page } = await follow(browser, started.url.toString());
      assert.equal(page.status, 403);
      assert.match(
        textOf(page.body),
        /Rail Wiki asks for phishing-resistant sign-in: a security key or passkey\. You have none linked/,
      );
      assert.match(page.body, /href="\/2fa\/security-keys"/);
      const back = /<a href="([^"]+)">Go back to Rail Wiki without signing in<\/a>/.exec(page.body)?.[1];
      assert.ok(back !== undefined);
      const answered = await follow(browser, new URL(back.replace(/&amp;/g, '&'), s.world.baseUrl).toString());
      const callback = new URL(answered.url);
      assert.ok(answered.url.startsWith(REDIRECT), answered.url);
      assert.equal(callback.searchParams.get('error'), 'access_denied');
      assert.equal(callback.searchParams.get('code'), null);

      // Or the person adds a key from that page, and is brought back and on with it.
      const again = await authorizationRequest(s.config, { acr_values: 'phr' });
      assert.equal((await follow(browser, again.url.toString())).page.status, 403);
      const adding = await browser.get('/2fa/security-keys');
      const key = new SoftAuthenticator();
      const origin = new URL(s.world.baseUrl).origin;
      const made = key.create(keyOptionsOn<PublicKeyCredentialCreationOptionsJSON>(adding), { origin });
      const linked = await browser.post('/2fa/security-keys', { name: 'YubiKey', answer: JSON.stringify(made) });
      assert.match(linked.location ?? '', /^\/oidc\/interaction\//, textOf(linked.body));
      // The way on says the key was added, and waits for her to go on.
      const told = await follow(browser, new URL(linked.location ?? '/', s.world.baseUrl).toString());
      assert.equal(movesOnTo(told.page), undefined);
      assert.match(textOf(told.page.body), /YubiKey[\s\S]*You are signed in\. Continue to Rail Wiki/);
      const onwards = /<a class="button" href="([^"]+)">Continue to Rail Wiki<\/a>/.exec(told.page.body)?.[1] ?? '';
      const on = await browser.get(onwards);
      assert.ok(on.location?.startsWith(REDIRECT), on.location);
      assert.equal((await exchange(s, again, on.location ?? '')).claims()?.acr, 'phr');

      // Where the organisation allows only apps, the key she holds is no way to it: told so,
      // not sent to confirm with a key the sign-in would not offer.
      await tenantFor(s.world.db, s.organisationId).organisation.setAllowedFactors('apps_only');
      const withApp = new Browser(s.world.baseUrl);
      s.world.clock.advanceMinutes(1);
      await signedInTokens(s, withApp);
      const appsOnly = await follow(
        withApp,
        (await authorizationRequest(s.config, { acr_values: 'phr' })).url.toString(),
      );
      assert.equal(appsOnly.page.status, 403, appsOnly.url);
      assert.match(textOf(appsOnly.page.body), /Your organisation does not allow security keys or passkeys/);
    });
  });
});
