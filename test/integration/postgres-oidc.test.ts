// Two real `twofold serve` processes on one PostgreSQL schema behind one public address, as
// behind a load balancer, signing a person in to an application: the authorization on one,
// the token exchange on the other, every later call on either. Every piece of the
// provider's state and its signing keys are in the database. (PostgreSQL pass only.)
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import * as oidc from 'openid-client';
import { hashPassword } from '../../src/domain/passwords.js';
import { keyringOf, newSecretKeyText, parseSecretKey, sealSecret } from '../../src/domain/secret-box.js';
import { ACR_TWO_FACTOR } from '../../src/domain/sign-in-for-applications.js';
import { codeAt, newTotpSecret, timeStepAt } from '../../src/domain/totp.js';
import { emailKey } from '../../src/domain/users.js';
import { depsOn } from '../../src/instance.js';
import { createApplication } from '../../src/services/applications.js';
import { migrateToLatest, openDatabase, type Db } from '../../src/store/db.js';
import { insertOrganisation } from '../../src/store/organisations.js';
import { tenantFor } from '../../src/store/tenant.js';
import { Browser, movesOnTo, textOf, type Page } from '../helpers/browser.js';
import { createPostgresSchema, postgresTestUrl } from '../helpers/databases.js';
import { startServer, type RunningServer } from '../helpers/processes.js';

const SERVER = postgresTestUrl();
const skip = SERVER === null ? 'SKIPPED: OpenID Connect on two instances: TWOFOLD_TEST_POSTGRES_URL is not set' : false;
if (skip !== false) console.log(skip);

/** The address both instances answer to, as a load balancer's; each request is sent to the instance a test chooses. */
const PUBLIC = 'http://twofold.example';
const REDIRECT = 'http://localhost:8080/callback';
const PASSWORD = 'correct horse battery';

test(
  'OpenID Connect on two instances: authorized on one, tokens from the other',
  { skip, timeout: 180_000 },
  async (t) => {
    assert.ok(SERVER !== null);
    const schema = await createPostgresSchema(SERVER);
    const keyText = newSecretKeyText();
    const key = parseSecretKey(keyText);
    assert.ok(key !== null);
    const db: Db = openDatabase({ kind: 'postgres', url: schema.url, poolSize: 3 });
    const servers: RunningServer[] = [];
    t.after(async () => {
      await Promise.all(servers.map((server) => server.stop(5_000)));
      await db.destroy();
      await schema.drop();
    });

    await migrateToLatest(db);
    const organisationId = randomUUID();
    const now = new Date();
    await insertOrganisation(db, { id: organisationId, name: 'Acme Rail', timeZone: 'UTC', now });
    const tenant = tenantFor(db, organisationId);
    const userId = randomUUID();
    const email = 'ada@acme.test';
    await tenant.users.insert({
      id: userId,
      email,
      emailKey: emailKey(email),
      name: 'Ada Lovelace',
      role: 'user',
      passwordHash: await hashPassword(PASSWORD),
      now,
    });
    const deviceId = randomUUID();
    const secret = newTotpSecret();
    await tenant.devices.insertUnconfirmed({
      id: deviceId,
      userId,
      name: 'Phone',
      sealedSecret: sealSecret(key, secret, deviceId),
      now,
    });
    const earlier = new Date(now.getTime() - 10 * 60_000);
    assert.ok(await tenant.devices.acceptTimeStep(userId, deviceId, timeStepAt(earlier), earlier, 'enrolment'));
    const deps = depsOn(db, {
      secretKey: keyringOf(key),
      sessionIdleMinutes: 30,
      sessionAbsoluteHours: 12,
      pendingLoginMinutes: 10,
      publicUrl: PUBLIC,
    });
    const created = await createApplication(
      deps,
      tenant,
      { actor: null, client: null },
      {
        name: 'Rail Wiki',
        redirectUris: [REDIRECT],
        postLogoutRedirectUris: [],
        requireTwoFactor: true,
      },
    );
    assert.ok(created.ok);

    const env = {
      DATABASE_URL: schema.url,
      TWOFOLD_SECRET_KEY: keyText,
      TWOFOLD_LOG_LEVEL: 'warn',
      TWOFOLD_PUBLIC_URL: PUBLIC,
    };
    servers.push(...(await Promise.all([startServer(env), startServer(env)])));
    const [A, B] = servers.map((server) => server.url);
    assert.ok(A !== undefined && B !== undefined);

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

    // The browser: the authorization request on A, the password on B, the code on A, the
    // rest of the redirects alternating.
    const browser = new Browser(A);
    let hop = 0;
    const instanceFor = () => (hop++ % 2 === 0 ? A : B);
    const follow = async (from: string): Promise<{ page: Page; url: string }> => {
      let url = from;
      for (let hops = 0; hops < 15; hops++) {
        const page = await browser.get(url.replace(PUBLIC, instanceFor()));
        // A redirect, or the page that moves on by itself on the way back to the application.
        const onwards = movesOnTo(page) ?? (page.status >= 300 && page.status < 400 ? page.location : undefined);
        if (onwards === undefined) return { page, url };
        const next = new URL(onwards, PUBLIC).toString();
        if (next.startsWith(REDIRECT)) return { page, url: next };
        url = next;
      }
      throw new Error('too many redirects');
    };
    let { page, url } = await follow(start.toString());
    assert.equal(new URL(url).pathname, '/login', textOf(page.body));
    const passwordStep = await browser.post(`${B}/login`, { email, password: PASSWORD });
    assert.equal(passwordStep.status, 303, textOf(passwordStep.body));
    ({ page, url } = await follow(new URL(passwordStep.location ?? '/', PUBLIC).toString()));
    assert.equal(new URL(url).pathname, '/login/code', textOf(page.body));
    const codeStep = await browser.post(`${A}/login/code`, { code: codeAt(secret, new Date()) });
    assert.equal(codeStep.status, 303, textOf(codeStep.body));
    ({ page, url } = await follow(new URL(codeStep.location ?? '/', PUBLIC).toString()));
    assert.ok(url.startsWith(REDIRECT), `ended at ${url}: ${textOf(page.body)}`);

    target = B;
    const tokens = await oidc.authorizationCodeGrant(config, new URL(url), {
      pkceCodeVerifier: verifier,
      expectedState: state,
      expectedNonce: nonce,
    });
    assert.equal(tokens.claims()?.sub, userId);
    assert.equal(tokens.claims()?.acr, ACR_TWO_FACTOR);
    target = A;
    const info = await oidc.fetchUserInfo(config, tokens.access_token, userId);
    assert.equal(info.email, email);
    target = B;
    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token ?? '');
    target = A;
    assert.equal((await oidc.fetchUserInfo(config, refreshed.access_token, userId)).name, 'Ada Lovelace');
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
