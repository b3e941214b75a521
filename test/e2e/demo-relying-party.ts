// A small application that signs people in with Twofold, as a real one would: openid-client
// with discovery, client_secret_basic, PKCE (S256), state and nonce kept in a cookie of its
// own, and a page that shows who is signed in. It serves plain node:http on 127.0.0.1 and
// is addressed as http://localhost:PORT: another site than Twofold's http://127.0.0.1:PORT,
// so that its cookies and Twofold's stay apart, and the way back to it leaves Twofold's site.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { TestContext } from 'node:test';
import * as oidc from 'openid-client';
import { reservePort } from '../helpers/ports.js';

export const DEMO_NAME = 'Demo Wiki';
/** What the person signed in shows: from the ID token and userinfo. */
export interface SignedIn {
  sub: string;
  email: string;
  acr: string;
}

export interface DemoRelyingParty {
  /** http://localhost:PORT, with no trailing slash. */
  url: string;
  redirectUri: string;
}

const FLOW_COOKIE = 'demo_flow';
const SESSION_COOKIE = 'demo_session';

interface Flow {
  verifier: string;
  state: string;
  nonce: string;
}

function escape(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );
}

function page(response: ServerResponse, status: number, title: string, body: string, cookies: string[] = []): void {
  response.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    ...(cookies.length === 0 ? {} : { 'set-cookie': cookies }),
  });
  response.end(
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title></head>` +
      `<body><main><h1>${escape(title)}</h1>${body}</main></body></html>`,
  );
}

function redirect(response: ServerResponse, location: string, cookies: string[] = []): void {
  response.writeHead(303, { location, ...(cookies.length === 0 ? {} : { 'set-cookie': cookies }) });
  response.end();
}

function cookiesOf(request: IncomingMessage): Map<string, string> {
  const jar = new Map<string, string>();
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) jar.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  return jar;
}

function cookie(name: string, value: string, maxAgeSeconds: number): string {
  return `${name}=${value}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${maxAgeSeconds}`;
}

/**
 * Registers nothing itself: `register(redirectUri)` is called with the address to register
 * in Twofold and returns the client's id and secret. Closed after the test.
 */
export async function serveDemoRelyingParty(
  t: TestContext,
  issuer: string,
  register: (redirectUri: string) => Promise<{ clientId: string; clientSecret: string }>,
): Promise<DemoRelyingParty> {
  const port = await reservePort();
  const url = `http://localhost:${port}`;
  const redirectUri = `${url}/callback`;
  const { clientId, clientSecret } = await register(redirectUri);
  const config = await oidc.discovery(new URL(issuer), clientId, undefined, oidc.ClientSecretBasic(clientSecret), {
    execute: [oidc.allowInsecureRequests],
  });
  const sessions = new Map<string, SignedIn>();

  const home = (request: IncomingMessage, response: ServerResponse) => {
    const signedIn = sessions.get(cookiesOf(request).get(SESSION_COOKIE) ?? '');
    if (signedIn === undefined) {
      page(response, 200, DEMO_NAME, `<p>You are not signed in.</p><p><a href="/login">Sign in with Twofold</a></p>`);
      return;
    }
    page(
      response,
      200,
      DEMO_NAME,
      `<p>You are signed in.</p><dl>` +
        `<dt>sub</dt><dd id="sub">${escape(signedIn.sub)}</dd>` +
        `<dt>email</dt><dd id="email">${escape(signedIn.email)}</dd>` +
        `<dt>acr</dt><dd id="acr">${escape(signedIn.acr)}</dd></dl>` +
        `<p><a href="/login">Sign in with Twofold</a></p>`,
    );
  };

  const login = async (response: ServerResponse) => {
    const flow: Flow = {
      verifier: oidc.randomPKCECodeVerifier(),
      state: oidc.randomState(),
      nonce: oidc.randomNonce(),
    };
    const authorization = oidc.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: 'openid email',
      code_challenge: await oidc.calculatePKCECodeChallenge(flow.verifier),
      code_challenge_method: 'S256',
      state: flow.state,
      nonce: flow.nonce,
    });
    const kept = Buffer.from(JSON.stringify(flow)).toString('base64url');
    redirect(response, authorization.toString(), [cookie(FLOW_COOKIE, kept, 600)]);
  };

  const callback = async (request: IncomingMessage, response: ServerResponse) => {
    const forget = cookie(FLOW_COOKIE, '', 0);
    const kept = cookiesOf(request).get(FLOW_COOKIE);
    if (kept === undefined) {
      page(response, 400, 'Sign-in failed', '<p>No sign-in was started in this browser.</p>', [forget]);
      return;
    }
    const flow = JSON.parse(Buffer.from(kept, 'base64url').toString('utf8')) as Flow;
    try {
      const tokens = await oidc.authorizationCodeGrant(config, new URL(request.url ?? '/', url), {
        pkceCodeVerifier: flow.verifier,
        expectedState: flow.state,
        expectedNonce: flow.nonce,
      });
      const claims = tokens.claims();
      if (claims === undefined) throw new Error('no ID token');
      const info = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
      const id = randomBytes(16).toString('base64url');
      sessions.set(id, { sub: claims.sub, email: String(info.email ?? ''), acr: String(claims.acr ?? '') });
      redirect(response, '/', [forget, cookie(SESSION_COOKIE, id, 3600)]);
    } catch (error) {
      const what = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      page(response, 400, 'Sign-in failed', `<p id="error">${escape(what)}</p>`, [forget]);
    }
  };

  const server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', url).pathname;
    const handled =
      path === '/'
        ? Promise.resolve(home(request, response))
        : path === '/login'
          ? login(response)
          : path === '/callback'
            ? callback(request, response)
            : Promise.resolve(page(response, 404, 'Not found', '<p>No such page.</p>'));
    handled.catch((error: unknown) => {
      if (!response.headersSent) page(response, 500, 'Error', `<p>${escape(String(error))}</p>`);
      else response.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  t.after(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );
  return { url, redirectUri };
}
