// The floor the OpenID Connect sign-ins (figure 7) are compared with: oidc-provider alone,
// doing only what the protocol needs, with nothing of Twofold's. The same provider and the
// settings of Twofold's that cost CPU (src/web/oidc/provider.ts: PKCE required,
// client_secret_basic, an RS256-signed ID token, signed cookies, the same lifetimes, the
// scopes granted without consent by Twofold's own grantAsked), but its state in a Map of this
// process, one client, one account, and an interaction that signs that account in at once:
// GET /interaction/<uid> hands the provider its result and sends the browser on to resume.
// A sign-in is then authorize, interaction, resume and token. Started by bench/processes.ts
// (startOidcFloor) on 127.0.0.1 and PORT, with its client in BENCH_CLIENT_ID,
// BENCH_CLIENT_SECRET and BENCH_REDIRECT_URI.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import Provider, { type Adapter, type AdapterPayload, type Configuration } from 'oidc-provider';
import { ACR_TWO_FACTOR } from '../src/domain/sign-in-for-applications.js';
import { grantAsked } from '../src/web/oidc/grants.js';
import { TTL } from '../src/web/oidc/lifetimes.js';

const port = Number(process.env.PORT);
const clientId = process.env.BENCH_CLIENT_ID;
const clientSecret = process.env.BENCH_CLIENT_SECRET;
const redirectUri = process.env.BENCH_REDIRECT_URI;
if (!Number.isInteger(port) || port <= 0) throw new Error('PORT must be the port to listen on');
if (clientId === undefined || clientSecret === undefined || redirectUri === undefined) {
  throw new Error('BENCH_CLIENT_ID, BENCH_CLIENT_SECRET and BENCH_REDIRECT_URI must name the one client');
}

/** The one account: what its ID token says with the scopes openid and email. */
const ACCOUNT = { sub: 'floor-user', email: 'floor-user@bench.invalid', email_verified: true };

/** The one person's sign-in, as Twofold reports a sign-in with a second factor. */
const LOGIN = { accountId: ACCOUNT.sub, acr: ACR_TWO_FACTOR, amr: ['pwd', 'otp', 'mfa'], remember: true };

const stored = new Map<string, { payload: AdapterPayload; expiresAt: number }>();
/** Model and uid to id: the provider finds sessions by their uid. */
const idsByUid = new Map<string, string>();
/** Grant id to the keys of what was issued under it, for revocation. */
const keysByGrant = new Map<string, Set<string>>();

/** The provider's storage: one Map for every model; an entry past its lifetime is gone. Nothing is swept. */
class MemoryAdapter implements Adapter {
  constructor(private readonly model: string) {}

  private key(id: string): string {
    return `${this.model}:${id}`;
  }

  private live(id: string): AdapterPayload | undefined {
    const key = this.key(id);
    const entry = stored.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt > Date.now()) return entry.payload;
    stored.delete(key);
    return undefined;
  }

  upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
    const key = this.key(id);
    stored.set(key, { payload, expiresAt: expiresIn === undefined ? Infinity : Date.now() + expiresIn * 1000 });
    if (payload.uid !== undefined) idsByUid.set(this.key(payload.uid), id);
    if (payload.grantId !== undefined) {
      const keys = keysByGrant.get(payload.grantId) ?? new Set<string>();
      keysByGrant.set(payload.grantId, keys.add(key));
    }
    return Promise.resolve();
  }

  find(id: string): Promise<AdapterPayload | undefined> {
    return Promise.resolve(this.live(id));
  }

  findByUid(uid: string): Promise<AdapterPayload | undefined> {
    const id = idsByUid.get(this.key(uid));
    return Promise.resolve(id === undefined ? undefined : this.live(id));
  }

  /** No device flow: there are no user codes. */
  findByUserCode(): Promise<undefined> {
    return Promise.resolve(undefined);
  }

  consume(id: string): Promise<void> {
    const payload = this.live(id);
    if (payload !== undefined) payload.consumed = Math.floor(Date.now() / 1000);
    return Promise.resolve();
  }

  destroy(id: string): Promise<void> {
    stored.delete(this.key(id));
    return Promise.resolve();
  }

  revokeByGrantId(grantId: string): Promise<void> {
    for (const key of keysByGrant.get(grantId) ?? []) stored.delete(key);
    keysByGrant.delete(grantId);
    return Promise.resolve();
  }
}

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const cookieOptions = { httpOnly: true, sameSite: 'lax', secure: false, signed: true } as const;
const configuration: Configuration = {
  adapter: MemoryAdapter,
  clients: [
    {
      client_id: clientId,
      client_secret: clientSecret,
      redirect_uris: [redirectUri],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'RS256',
    },
  ],
  findAccount: (_ctx, sub) => (sub === ACCOUNT.sub ? { accountId: sub, claims: () => ({ ...ACCOUNT }) } : undefined),
  claims: { openid: ['sub'], email: ['email', 'email_verified'] },
  // offline_access, as Twofold's, is what gives the client the refresh_token grant; the bench
  // asks for openid and email, so no refresh token is issued.
  scopes: ['openid', 'email', 'offline_access'],
  responseTypes: ['code'],
  pkce: { required: () => true },
  jwks: { keys: [{ ...privateKey.export({ format: 'jwk' }), kid: 'floor', alg: 'RS256', use: 'sig' }] },
  ttl: { ...TTL },
  cookies: { keys: [randomBytes(32)], long: cookieOptions, short: cookieOptions },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  features: { devInteractions: { enabled: false } },
  // As Twofold: the scopes asked for are granted without a consent screen.
  loadExistingGrant: grantAsked,
};
const provider = new Provider(`http://127.0.0.1:${port}`, configuration);
// The bench talks to it directly: its addresses are the issuer's and the Host header's.
provider.proxy = false;
const handOver = provider.callback();

/** The interaction: the account signs in at once, and the browser goes on to resume. */
async function signIn(req: IncomingMessage, res: ServerResponse): Promise<void> {
  try {
    const to = await provider.interactionResult(
      req,
      res,
      { login: LOGIN, consent: {} },
      { mergeWithLastSubmission: false },
    );
    res.writeHead(303, { location: to, 'content-length': '0' }).end();
  } catch (error) {
    res.writeHead(400, { 'content-type': 'text/plain' }).end(error instanceof Error ? error.message : String(error));
  }
}

const server = createServer((req, res) => {
  const path = (req.url ?? '').split('?')[0] ?? '';
  if (req.method === 'GET' && path === '/healthz') {
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
  } else if (req.method === 'GET' && /^\/interaction\/[\w-]+$/.test(path)) {
    void signIn(req, res);
  } else {
    void handOver(req, res);
  }
});

const close = () => {
  server.close();
  server.closeIdleConnections();
};
process.once('SIGTERM', close);
process.once('SIGINT', close);
server.listen(port, '127.0.0.1');
