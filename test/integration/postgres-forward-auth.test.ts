// Forward auth on two real `twofold serve` processes on one PostgreSQL schema, as behind a
// load balancer, with the proxy's checks sent to either: a person signs in through one and
// is let in by the other; a site added or deleted on one, and a sign-out on the other, are
// seen by both. Twofold at https://2fa.example.com with its cookies for example.com and the
// sites under it, as the README sets it up. (PostgreSQL pass only.)
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { addSite } from '../../src/services/sites.js';
import { tenantFor } from '../../src/store/tenant.js';
import { linkDevice, makeOrganisation, makeUser } from '../helpers/app.js';
import { Browser, textOf, type Page } from '../helpers/browser.js';
import { postgresTestUrl } from '../helpers/databases.js';
import { proxyCheck, remoteHeadersOf } from '../helpers/forward-auth.js';
import { severalInstances, signInWithPasswordAndCode } from '../helpers/several-instances.js';

const SERVER = postgresTestUrl();
const skip = SERVER === null ? 'SKIPPED: forward auth on two instances: TWOFOLD_TEST_POSTGRES_URL is not set' : false;
if (skip !== false) console.log(skip);

/** The address both instances answer to, as a load balancer's; each request is sent to the instance the test chooses. */
const PUBLIC = 'https://2fa.example.com';
const ENDPOINTS = ['nginx', 'forward'] as const;
/**
 * How long another instance may still let people into a deleted site: an instance may
 * keep a site it read for a few seconds (never one it did not find, so an added site
 * counts at once everywhere).
 */
const DELETED_SITE_REFUSED_WITHIN_MS = 10_000;

function signInAddressFor(address: string): string {
  return `${PUBLIC}/auth/sign-in?${new URLSearchParams({ rd: address }).toString()}`;
}

/** Asks until the answer is 403, every 200 ms, letting the person in until then; how long it took. */
async function msUntilRefused(ask: () => Promise<Page>, withinMs: number): Promise<number> {
  const started = Date.now();
  for (;;) {
    const answer = await ask();
    const waited = Date.now() - started;
    if (answer.status === 403) return waited;
    assert.equal(answer.status, 200, textOf(answer.body));
    assert.ok(waited < withinMs, `still let in ${waited} ms after the site was deleted`);
    await sleep(200);
  }
}

test(
  'forward auth on two instances: signed in through one, let in by the other; sites and sign-outs seen by both',
  { skip, timeout: 120_000 },
  async (t) => {
    assert.ok(SERVER !== null);
    const started = Date.now();
    const instances = await severalInstances(t, SERVER, {
      env: { TWOFOLD_PUBLIC_URL: PUBLIC, TWOFOLD_COOKIE_DOMAIN: 'example.com' },
    });
    const [A, B] = instances.urls;
    assert.ok(A !== undefined && B !== undefined);
    t.diagnostic(`instances at ${A} and ${B}, ready ${Date.now() - started} ms after the start`);
    const org = await makeOrganisation(instances, 'Acme Rail');
    const tenant = tenantFor(instances.db, org);
    const ada = await makeUser(instances, org, { email: 'ada@acme.test', name: 'Ada Lovelace' });
    const secret = await linkDevice(instances, org, ada.id);
    const grace = await makeUser(instances, org, {
      email: 'grace@acme.test',
      name: 'Grace Hopper',
      role: 'super_admin',
    });
    for (const [host, requireTwoFactor] of [
      ['vault.example.com', true],
      ['wiki.example.com', false],
    ] as const) {
      const added = await addSite(instances.deps, tenant, { actor: null, client: null }, { host, requireTwoFactor });
      assert.ok(added.ok, JSON.stringify(added));
    }
    const vault = 'https://vault.example.com/reports/2026?quarter=4';
    const wiki = 'https://wiki.example.com/docs/Start';
    const adaAsSeen = {
      'remote-user': ada.id,
      'remote-email': 'ada@acme.test',
      'remote-name': 'Ada Lovelace',
      'remote-groups': `user,${org}`,
    };

    // Nobody signed in: B sends the proxy to the sign-in at the public address, the page asked for intact.
    const browser = new Browser(A);
    const nginx = await proxyCheck(browser, 'nginx', vault, { at: B });
    assert.equal(nginx.status, 401);
    assert.equal(nginx.location, signInAddressFor(vault));
    const forward = await proxyCheck(browser, 'forward', vault, { at: B });
    assert.equal(forward.status, 302);
    assert.equal(forward.location, signInAddressFor(vault));

    // Ada signs in through A, password and code, and is sent on to the page she asked for.
    const { url } = await signInWithPasswordAndCode(
      browser,
      PUBLIC,
      signInAddressFor(vault),
      { ...ada, secret },
      { pages: () => A, password: A, code: A },
    );
    assert.equal(url, vault);

    // B lets her into both sites, the one that requires 2FA too, and tells them who she is.
    for (const address of [vault, wiki]) {
      for (const endpoint of ENDPOINTS) {
        const answer = await proxyCheck(browser, endpoint, address, { at: B });
        assert.equal(answer.status, 200, `${endpoint} on B for ${address}: ${answer.status} ${textOf(answer.body)}`);
        assert.deepEqual(remoteHeadersOf(answer), adaAsSeen);
        assert.equal(answer.headers['cache-control'], 'no-store');
      }
    }

    // Grace signs in on A with her password alone (she has no device): B lets her into the
    // wiki, and sends her to give a second factor for the vault.
    const admin = new Browser(A);
    assert.equal((await admin.signIn(grace.email, grace.password)).location, '/account');
    const graceAtWiki = await proxyCheck(admin, 'nginx', wiki, { at: B });
    assert.equal(graceAtWiki.status, 200);
    assert.deepEqual(remoteHeadersOf(graceAtWiki), {
      'remote-user': grace.id,
      'remote-email': 'grace@acme.test',
      'remote-name': 'Grace Hopper',
      'remote-groups': `super_admin,${org}`,
    });
    const graceAtVault = await proxyCheck(admin, 'nginx', vault, { at: B });
    assert.equal(graceAtVault.status, 401);
    assert.equal(graceAtVault.location, signInAddressFor(vault));
    assert.deepEqual(remoteHeadersOf(graceAtVault), {});

    // A site added on A's Applications page is protected by B at once, though B was asked
    // about its host just before, when it was no site.
    const docs = 'https://docs.example.com/';
    assert.equal((await proxyCheck(browser, 'nginx', docs, { at: B })).status, 403);
    await admin.get('/admin/applications');
    const added = await admin.post('/admin/applications/sites', { host: 'docs.example.com' });
    assert.equal(added.status, 303, textOf(added.body));
    for (const at of [B, A]) {
      for (const endpoint of ENDPOINTS) {
        const answer = await proxyCheck(browser, endpoint, docs, { at });
        assert.equal(answer.status, 200, `${endpoint} on ${at === A ? 'A' : 'B'}: ${answer.status}`);
        assert.deepEqual(remoteHeadersOf(answer), adaAsSeen);
      }
    }

    // Deleted there: A refuses at once, B within a few seconds, and never with a way in.
    const site = await tenant.sites.findByHost('docs.example.com');
    assert.ok(site !== null);
    await admin.get(`/admin/applications/sites/${site.id}/delete`);
    const deleted = await admin.post(`/admin/applications/sites/${site.id}/delete`, {});
    assert.equal(deleted.status, 303, textOf(deleted.body));
    for (const endpoint of ENDPOINTS) {
      const answer = await proxyCheck(browser, endpoint, docs, { at: A });
      assert.equal(answer.status, 403, `${endpoint} on A`);
    }
    const waited = await msUntilRefused(
      () => proxyCheck(browser, 'nginx', docs, { at: B }),
      DELETED_SITE_REFUSED_WITHIN_MS,
    );
    t.diagnostic(`B refused the site deleted on A after ${waited} ms`);
    for (const at of [A, B]) {
      for (const endpoint of ENDPOINTS) {
        const answer = await proxyCheck(browser, endpoint, docs, { at });
        assert.equal(answer.status, 403, `${endpoint} on ${at === A ? 'A' : 'B'}`);
        assert.equal(answer.location, undefined);
        assert.deepEqual(remoteHeadersOf(answer), {});
      }
    }

    // Ada signs out on B: A refuses at once, to the browser (which dropped the cookie) and to
    // a proxy that passes the old session cookie on; and so does B.
    const oldCookie = browser.cookieHeader();
    await browser.get(`${B}/account`);
    const out = await browser.post(`${B}/logout`, {});
    assert.equal(out.location, '/login');
    assert.notEqual(browser.cookieHeader(), oldCookie);
    for (const at of [A, B]) {
      for (const cookie of [browser.cookieHeader(), oldCookie]) {
        const nginxAfter = await proxyCheck(browser, 'nginx', vault, { at, headers: { cookie } });
        assert.equal(nginxAfter.status, 401, `nginx on ${at === A ? 'A' : 'B'}`);
        assert.equal(nginxAfter.location, signInAddressFor(vault));
        const forwardAfter = await proxyCheck(browser, 'forward', wiki, { at, headers: { cookie } });
        assert.equal(forwardAfter.status, 302, `forward on ${at === A ? 'A' : 'B'}`);
        assert.equal(forwardAfter.location, signInAddressFor(wiki));
        assert.deepEqual({ ...remoteHeadersOf(nginxAfter), ...remoteHeadersOf(forwardAfter) }, {});
      }
    }
    t.diagnostic(`forward auth on two instances in ${Date.now() - started} ms`);
  },
);
