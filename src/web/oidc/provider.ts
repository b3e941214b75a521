// The OpenID Connect provider (panva's oidc-provider, OpenID-certified): Authorization
// Code with PKCE, refresh tokens, revocation and RP-initiated logout, for the applications
// registered in Twofold. Its state lives in the database; its sessions stand for Twofold
// sessions and end with them; every sign-in goes through Twofold's own pages and rules.
import { timingSafeEqual } from 'node:crypto';
import Provider, {
  errors,
  interactionPolicy,
  type Adapter,
  type AdapterPayload,
  type Configuration,
  type KoaContextWithOIDC,
} from 'oidc-provider';
import { ID_TOKEN_SIGNING_ALGS } from '../../domain/applications.js';
import { hasSessionEnded } from '../../domain/session-end.js';
import { ACR_VALUES, CLAIMS_BY_SCOPE, claimsOf } from '../../domain/sign-in-for-applications.js';
import {
  decideApplicationSignIn,
  recordApplicationError,
  recordApplicationSignIn,
} from '../../services/application-sign-in.js';
import type { Deps } from '../../services/deps.js';
import type { SigningKeys } from '../../services/oidc-keys.js';
import { sessionCutOffs } from '../../services/sessions.js';
import { findClientById, hashClientSecret } from '../../store/applications.js';
import { findAccountById } from '../../store/logins.js';
import {
  consumePayload,
  destroyByGrant,
  destroyPayload,
  findPayload,
  upsertPayload,
  type OidcPayload,
} from '../../store/oidc.js';
import { findSessionById } from '../../store/sessions.js';
import { keyFor } from '../keys.js';
import { loggedOutPage, logoutPage, notFoundPage, oidcErrorPage } from '../views/oidc.js';
import { grantAsked } from './grants.js';
import { TTL } from './lifetimes.js';
import { OIDC_PREFIX, providerRequests } from './requests.js';

/** Anything stored without a lifetime is kept this long. */
const DEFAULT_TTL_SECONDS = 14 * 24 * 60 * 60;

function sha256Equals(storedHash: string, presented: string): boolean {
  const a = Buffer.from(storedHash, 'utf8');
  const b = Buffer.from(hashClientSecret(presented), 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** oidc-provider's storage, on Twofold's database. */
function adapterFor(deps: Deps) {
  return class DatabaseAdapter implements Adapter {
    constructor(private readonly model: string) {}

    async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
      const now = deps.now();
      const expiresAt = new Date(now.getTime() + (expiresIn ?? DEFAULT_TTL_SECONDS) * 1000);
      const sessionId = this.model === 'Session' ? (providerRequests.getStore()?.person?.session.id ?? null) : null;
      await upsertPayload(deps.db, this.model, id, payload as OidcPayload, expiresAt, sessionId);
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      if (this.model === 'Client') return clientMetadata(deps, id);
      return this.visible(await findPayload(deps.db, this.model, { id }, deps.now()));
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      return this.visible(await findPayload(deps.db, this.model, { uid }, deps.now()));
    }

    findByUserCode(): Promise<undefined> {
      return Promise.resolve(undefined);
    }

    /** A provider session is there only while the Twofold session it stands for is. */
    private async visible(
      found: { payload: OidcPayload; twofoldSessionId: string | null } | null,
    ): Promise<AdapterPayload | undefined> {
      if (found === null) return undefined;
      if (this.model !== 'Session' || found.payload.accountId === undefined) return found.payload as AdapterPayload;
      if (found.twofoldSessionId === null) return undefined;
      const session = await findSessionById(deps.db, found.twofoldSessionId);
      const now = deps.now();
      if (
        session === null ||
        session.stage !== 'signed_in' ||
        session.userId !== found.payload.accountId ||
        hasSessionEnded(session, sessionCutOffs(deps, now))
      ) {
        return undefined;
      }
      return found.payload as AdapterPayload;
    }

    /** A code used a second time: refused, and everything issued from it revoked (RFC 6749, 4.1.2). */
    async consume(id: string): Promise<void> {
      if (await consumePayload(deps.db, this.model, id, deps.now())) return;
      const found = await findPayload(deps.db, this.model, { id }, deps.now());
      if (found?.payload.grantId !== undefined) await destroyByGrant(deps.db, found.payload.grantId);
      throw new errors.InvalidGrant('authorization code already consumed');
    }

    async destroy(id: string): Promise<void> {
      await destroyPayload(deps.db, this.model, id);
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      await destroyByGrant(deps.db, grantId);
    }
  };
}

/**
 * A registered application, as the provider's client metadata; its secret is the stored hash.
 * Read from the database at every request: oidc-provider keeps its Client objects under a
 * hash of this metadata, so an application changed or given a new secret is a new Client
 * from the next request on, on every instance (oidc.test.ts proves it).
 */
async function clientMetadata(deps: Deps, clientId: string): Promise<AdapterPayload | undefined> {
  const found = await findClientById(deps.db, clientId);
  if (found === null) return undefined;
  const { application, secretHash } = found;
  return {
    client_id: application.id,
    client_secret: secretHash,
    client_name: application.name,
    redirect_uris: application.redirectUris,
    post_logout_redirect_uris: application.postLogoutRedirectUris,
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
    id_token_signed_response_alg: application.idTokenSigningAlg,
  };
}

function clientIdOf(ctx: KoaContextWithOIDC): string | null {
  const id = ctx.oidc?.client?.clientId ?? ctx.oidc?.params?.client_id;
  return typeof id === 'string' ? id : null;
}

/** An error answered to a known application is recorded in its organisation's audit log. */
function auditError(deps: Deps, ctx: KoaContextWithOIDC, error: unknown): void {
  const request = providerRequests.getStore();
  const clientId = clientIdOf(ctx);
  if (request === undefined || clientId === null) return;
  const { error: code, error_description: description } = error as { error?: string; error_description?: string };
  request.pending.push(
    recordApplicationError(deps, clientId, code ?? 'server_error', description ?? '', request.client).catch(() => {}),
  );
}

export interface ProviderOptions {
  deps: Deps;
  issuer: string;
  keys: SigningKeys;
  secureCookies: boolean;
  /** Called for an error the provider did not expect, for the application log. */
  onServerError: (error: unknown) => void;
}

export function buildProvider({ deps, issuer, keys, secureCookies, onServerError }: ProviderOptions): Provider {
  const policy = interactionPolicy.base();
  // Every sign-in to an application passes Twofold's own decision (who may, which factors),
  // made on the interaction page; only the answer it just gave lets the request through.
  // Without an answer just given, the provider's session goes on only for the person signed
  // in to Twofold in this browser, when Twofold would let them in as the session says
  // (the same second factor): a silent sign-in (`prompt=none`) then works.
  const { Check } = interactionPolicy;
  const login = policy.get('login');
  login?.checks.add(
    new Check('twofold_session', 'End-User is not signed in to Twofold', 'login_required', (ctx) => {
      if (ctx.oidc.result?.login !== undefined) return Check.NO_NEED_TO_PROMPT;
      const person = providerRequests.getStore()?.person ?? null;
      return person !== null && person.user.id === ctx.oidc.session?.accountId
        ? Check.NO_NEED_TO_PROMPT
        : Check.REQUEST_PROMPT;
    }),
    0,
  );
  login?.checks.add(
    new Check(
      'twofold_decides',
      'Twofold must decide who signs in to the application',
      'interaction_required',
      async (ctx) => {
        if (ctx.oidc.result?.login !== undefined) return Check.NO_NEED_TO_PROMPT;
        const person = providerRequests.getStore()?.person ?? null;
        const clientId = ctx.oidc.client?.clientId;
        if (person === null || clientId === undefined) return Check.REQUEST_PROMPT;
        const acrValues = ctx.oidc.params?.acr_values;
        const decision = await decideApplicationSignIn(
          deps,
          person,
          clientId,
          typeof acrValues === 'string' ? acrValues : undefined,
        );
        return decision.kind === 'allowed' && decision.authentication.acr === ctx.oidc.session?.acr
          ? Check.NO_NEED_TO_PROMPT
          : Check.REQUEST_PROMPT;
      },
    ),
    1,
  );
  const cookieOptions = { httpOnly: true, sameSite: 'lax', secure: secureCookies, signed: true } as const;
  const { current, previous } = deps.secretKey;
  const configuration: Configuration = {
    adapter: adapterFor(deps),
    clients: [],
    findAccount: async (_ctx, sub) => {
      // The person signed in to Twofold in this browser was read for this request already.
      const person = providerRequests.getStore()?.person ?? null;
      const account = person?.user.id === sub ? person : await findAccountById(deps.db, sub);
      if (account === null || account.user.status !== 'active') return undefined;
      const claims = claimsOf(account.user, account.organisation);
      return { accountId: sub, claims: (): { sub: string; [claim: string]: unknown } => ({ ...claims }) };
    },
    claims: {
      openid: [...CLAIMS_BY_SCOPE.openid],
      email: [...CLAIMS_BY_SCOPE.email],
      profile: [...CLAIMS_BY_SCOPE.profile],
    },
    scopes: ['openid', 'email', 'profile', 'offline_access'],
    acrValues: [...ACR_VALUES],
    responseTypes: ['code'],
    pkce: { required: () => true },
    enabledJWA: { idTokenSigningAlgValues: [...ID_TOKEN_SIGNING_ALGS] },
    clientDefaults: {
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'RS256',
    },
    jwks: { keys: keys.jwks },
    ttl: { ...TTL },
    cookies: {
      names: {
        session: 'twofold_oidc_session',
        interaction: 'twofold_oidc_interaction',
        resume: 'twofold_oidc_resume',
      },
      keys: [current, ...previous].map((key) => keyFor(key, 'oidc cookies')),
      long: cookieOptions,
      short: cookieOptions,
    },
    routes: {
      authorization: `${OIDC_PREFIX}/auth`,
      token: `${OIDC_PREFIX}/token`,
      jwks: `${OIDC_PREFIX}/jwks`,
      userinfo: `${OIDC_PREFIX}/userinfo`,
      revocation: `${OIDC_PREFIX}/revoke`,
      end_session: `${OIDC_PREFIX}/logout`,
      introspection: `${OIDC_PREFIX}/introspect`,
      registration: `${OIDC_PREFIX}/register`,
      pushed_authorization_request: `${OIDC_PREFIX}/par`,
      code_verification: `${OIDC_PREFIX}/device`,
      device_authorization: `${OIDC_PREFIX}/device/auth`,
      backchannel_authentication: `${OIDC_PREFIX}/backchannel`,
      challenge: `${OIDC_PREFIX}/challenge`,
    },
    interactions: {
      policy,
      url: (_ctx, interaction) => `${OIDC_PREFIX}/interaction/${interaction.uid}`,
    },
    features: {
      devInteractions: { enabled: false },
      // An application revokes only what was issued to it.
      revocation: { enabled: true, allowedPolicy: (_ctx, client, token) => token.clientId === client.clientId },
      userinfo: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: (ctx, form) => {
          const client = ctx.oidc.client;
          // The form posts here, then the browser is sent on to the application: a form's
          // redirect must be allowed by the page's form-action.
          const origins = (client?.postLogoutRedirectUris ?? []).map((uri) => new URL(uri).origin);
          ctx.set(
            'content-security-policy',
            `default-src 'self'; style-src 'self'; script-src 'none'; frame-ancestors 'none'; form-action 'self' ${[...new Set(origins)].join(' ')}`,
          );
          ctx.type = 'html';
          ctx.body = logoutPage(form, client?.clientName ?? null);
        },
        postLogoutSuccessSource: (ctx) => {
          ctx.type = 'html';
          ctx.body = loggedOutPage(ctx.oidc.client?.clientName ?? null);
        },
      },
    },
    // The person's decision to sign in to their organisation's application is their
    // organisation's: the scopes asked for are granted without a consent screen.
    loadExistingGrant: grantAsked,
    issueRefreshToken: (_ctx, client, code) =>
      client.grantTypeAllowed('refresh_token') && code.scopes.has('offline_access'),
    renderError: (ctx, out, error) => {
      const status = (error as { statusCode?: number }).statusCode ?? 400;
      if (status >= 500) onServerError(error);
      ctx.type = 'html';
      ctx.body = oidcErrorPage(out.error ?? 'server_error', out.error_description ?? null);
    },
  };
  const provider = new Provider(issuer, configuration);
  // Its addresses come from X-Forwarded-Host and -Proto, which the routes set to Twofold's
  // public address on every request they hand over.
  provider.proxy = true;
  // An address under the provider's that none of its routes answers: Twofold's own page.
  provider.use(async (ctx, next) => {
    await next();
    if (ctx.status === 404 && ctx.body === undefined) {
      ctx.status = 404;
      ctx.type = 'html';
      ctx.body = notFoundPage();
    }
  });
  // Someone not signed in to Twofold at all, sent to the interaction page that has just been
  // made: sent straight to Twofold's sign-in page instead, with what that page would have
  // set (the way back to it, and which application it is for), a request sooner.
  provider.use(async (ctx, next) => {
    await next();
    const interaction = ctx.oidc?.entities.Interaction;
    const signInFirst = providerRequests.getStore()?.signInFirst ?? null;
    const application = ctx.oidc?.client?.clientName;
    if (ctx.status !== 303 || interaction === undefined || signInFirst === null || application === undefined) return;
    const interactionPath = `${OIDC_PREFIX}/interaction/${interaction.uid}`;
    if (
      ctx.oidc.route !== 'authorization' ||
      new URL(ctx.response.get('location'), issuer).pathname !== interactionPath
    ) {
      return;
    }
    const redirectUri = typeof ctx.oidc.params?.redirect_uri === 'string' ? ctx.oidc.params.redirect_uri : '';
    for (const line of signInFirst(interaction.uid, application, redirectUri)) ctx.append('Set-Cookie', line);
    ctx.redirect('/login');
  });
  // The stored secret is its SHA-256: the presented one is hashed to compare.
  provider.Client.prototype.compareClientSecret = function compare(this: { clientSecret?: string }, actual: string) {
    return Promise.resolve(this.clientSecret !== undefined && sha256Equals(this.clientSecret, actual));
  };
  // "Signed in to <application>": each time the application is given a code.
  provider.on('authorization.success', (ctx: KoaContextWithOIDC) => {
    const request = providerRequests.getStore();
    const person = request?.person ?? null;
    const client = ctx.oidc.client;
    if (request === undefined || person === null || client === undefined) return;
    if (person.user.id !== ctx.oidc.session?.accountId) return;
    const application = { id: client.clientId, name: client.clientName ?? client.clientId };
    request.pending.push(
      recordApplicationSignIn(deps, person, application, ctx.oidc.session.acr ?? '', request.client).catch(() => {}),
    );
  });
  provider.on('end_session.success', (ctx: KoaContextWithOIDC) => {
    const request = providerRequests.getStore();
    if (request !== undefined && ctx.oidc.params?.logout !== undefined) {
      request.signOutOfTwofold = true;
      ctx.append('Set-Cookie', request.clearTwofoldSession);
    }
  });
  const onError = (ctx: KoaContextWithOIDC, error: unknown) => auditError(deps, ctx, error);
  provider.on('authorization.error', onError);
  provider.on('grant.error', onError);
  provider.on('userinfo.error', onError);
  provider.on('revocation.error', onError);
  provider.on('end_session.error', onError);
  provider.on('server_error', (ctx: KoaContextWithOIDC, error: unknown) => {
    onServerError(error);
    auditError(deps, ctx, error);
  });
  return provider;
}
