// Two real `twofold serve` processes on one PostgreSQL schema behind one public address, as
// behind a load balancer, signing a person in to an application: the authorization on one,
// the token exchange on the other, every later call on either. Every piece of the
// provider's state and its signing keys are in the database. (PostgreSQL pass only.)
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as oidc from 'openid-client';
import { ACR_TWO_FACTOR } from '../../src/domain/sign-in-for-applications.js';
import { createApplication } from '../../src/services/applications.js';
import { tenantFor } from '../../src/store/tenant.js';
import { linkDevice, makeOrganisation, makeUser } from '../helpers/app.js';
import { Browser, textOf } from '../helpers/browser.js';
import { postgresTestUrl } from '../helpers/databases.js';
import { severalInstances, signInWithPasswordAndCode } from '../helpers/several-instances.js';

const SERVER = postgresTestUrl();
const skip = SERVER === null ? 'SKIPPED: OpenID Connect on two instances: TWOFOLD_TEST_POSTGRES_URL is not set' : false;
if (skip !== false) console.log(skip);

/** The address both instances answer to, as a load balancer's; each request is sent to the instance a test chooses. */
const PUBLIC = 'http://twofold.example';
const REDIRECT = 'http://localhost:8080/callback';

test(
  'OpenID Connect on two instances: authorized on one, tokens from the other',
  { skip, timeout: 180_000 },
  async (t) => {
    assert.ok(SERVER !== null);
    const instances = await severalInstances(t, SERVER, { env: { TWOFOLD_PUBLIC_URL: PUBLIC } });
    const [A, B] = instances.urls;
    assert.ok(A !== undefined && B !== undefined);
    const organisationId = await makeOrganisation(instances, 'Acme Rail');
    const ada = await makeUser(instances, organisationId, { email: 'ada@acme.test', name: 'Ada Lovelace' });
    const secret = await linkDevice(instances, organisationId, ada.id);
    const created = await createApplication(
      instances.deps,
      tenantFor(instances.db, organisationId),
      { actor: null, client: null },
      {
        name: 'Rail Wiki',
        redirectUris: [REDIRECT],
        postLogoutRedirectUris: [],
        requireTwoFactor: true,
      },
    );
    assert.ok(created.ok);

    // The relying party: discovery on A, everything else on the instance `target` names.
    let target = A;
    const viaTarget = (url: URL | string) => String(url).replace(PUBLIC, target);
    const rewritten: oidc.CustomFetch = (url, options) => fetch(viaTarget(url), options as RequestInit);
    const config = await oidc.discovery(
      new URL(`${A}/.well-known/openid-configuration`),
      created.application.id,
      undefined,
      oidc.ClientSecretBasic(created.clientSecret),
      {
        execute: [oidc.allowInsecureRequests],
        [oidc.customFetch]: rewritten,
      },
    );
    config[oidc.customFetch] = rewritten;
    assert.equal(config.serverMetadata().issuer, PUBLIC);
    // Every address the provider gives is the public one, whichever instance was asked.
    assert.ok(String(config.serverMetadata().token_endpoint).startsWith(`${PUBLIC}/oidc/`));

    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const start = oidc.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT,
      scope: 'openid email profile offline_access',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
      prompt: 'consent',
    });

    // The browser: the authorization request on A, the password on B, the code on A, every
    // page and redirect on the other instance from the one before.
    const browser = new Browser(A);
    let hop = 0;
    const alternating = () => (hop++ % 2 === 0 ? A : B);
    const { page, url } = await signInWithPasswordAndCode(
      browser,
      PUBLIC,
      start.toString(),
      { ...ada, secret },
      { pages: alternating, password: B, code: A },
    );
    assert.ok(url.startsWith(REDIRECT), `ended at ${url}: ${textOf(page.body)}`);

    target = B;
    const tokens = await oidc.authorizationCodeGrant(config, new URL(url), {
      pkceCodeVerifier: verifier,
      expectedState: state,
      expectedNonce: nonce,
    });
    assert.equal(tokens.claims()?.sub, ada.id);
    assert.equal(tokens.claims()?.acr, ACR_TWO_FACTOR);
    target = A;
    const info = await oidc.fetchUserInfo(config, tokens.access_token, ada.id);
    assert.equal(info.email, ada.email);
    target = B;
    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token ?? '');
    target = A;
    assert.equal((await oidc.fetchUserInfo(config, refreshed.access_token, ada.id)).name, 'Ada Lovelace');
    // Both publish the same keys: made once, by whichever instance came first.
    const jwks = await Promise.all([A, B].map(async (base) => (await fetch(`${base}/oidc/jwks`)).text()));
    assert.equal(jwks[0], jwks[1]);
    // The code, used again on the other instance, is refused.
    target = A;
    await assert.rejects(
      oidc.authorizationCodeGrant(config, new URL(url), {
        pkceCodeVerifier: verifier,
        expectedState: state,
        expectedNonce: nonce,
      }),
    );
  },
);
