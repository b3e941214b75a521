// Twofold as the sign-in of an organisation's applications: the OpenID Connect provider's
// endpoints, handed over to it, and the interaction page where Twofold decides, with its
// own pages and rules, whether the person signs in to the application.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type Provider from 'oidc-provider';
import type { Session } from '../../store/sessions.js';
import { applicationSignIn, decideApplicationSignIn, type SignedInPerson } from '../../services/application-sign-in.js';
import type { Authentication } from '../../domain/sign-in-for-applications.js';
import { signOut } from '../../services/login.js';
import { signingKeys, signingKeysVersionOf } from '../../services/oidc-keys.js';
import { message } from '../messages.js';
import { OIDC_PREFIX, providerRequests, type ProviderRequest } from '../oidc/requests.js';
import { homeOf, signedInJustNow } from '../plugins/auth.js';
import {
  appSignInCookie,
  clientOf,
  cookieOptionsOf,
  flashCookie,
  formTargetOf,
  interactionPathOf,
  redirectWithFlash,
  rememberReturn,
  renderError,
  renderMovingOn,
  renderPage,
  returnCookie,
  type AppSignIn,
} from '../respond.js';
import { continueToApplication, keyNeededForApplication } from '../views/oidc.js';
import { allowsKind } from '../../domain/factor-policy.js';

/** How often an instance looks whether another one (or `twofold oidc rotate-keys`) changed the signing keys. */
const KEYS_CHECKED_EVERY_MS = 30_000;

/** The provider, and its request handler, made once with it. */
interface Built {
  provider: Provider;
  handler: ReturnType<Provider['callback']>;
}

/** The provider, built on first use and again when the signing keys change. */
function providerHost(app: FastifyInstance) {
  const { deps, publicUrl, cookies } = app.twofold;
  let built: (Built & { version: string; checkedAt: number }) | null = null;
  let building: Promise<Built> | null = null;
  const build = async (): Promise<Built> => {
    const keys = await signingKeys(deps);
    const { buildProvider } = await import('../oidc/provider.js');
    const provider = buildProvider({
      deps,
      issuer: publicUrl,
      keys,
      secureCookies: cookies.secure,
      onServerError: (error) => app.log.error({ err: error }, 'OpenID Connect provider error'),
    });
    built = { provider, handler: provider.callback(), version: keys.version, checkedAt: Date.now() };
    return built;
  };
  return async (): Promise<Built> => {
    if (built !== null && Date.now() - built.checkedAt < KEYS_CHECKED_EVERY_MS) return built;
    if (building !== null) return building;
    building = (async () => {
      if (built !== null && (await signingKeysVersionOf(deps.db)) === built.version) {
        built.checkedAt = Date.now();
        return built;
      }
      return build();
    })().finally(() => {
      building = null;
    });
    return building;
  };
}

function signedInPerson(request: FastifyRequest): SignedInPerson | null {
  const auth = request.auth;
  return auth?.stage === 'signed_in'
    ? { session: auth.session, user: auth.user, organisation: auth.organisation }
    : null;
}

/** A password given this recently counts as given for an application that asks for a new sign-in (`prompt=login`). */
const FRESH_PROOF_MS = 5 * 60_000;

/**
 * Whether the application asked for a sign-in more recent than the session's: `prompt=login`
 * (the password given again, unless just now) or `max_age` (given at most that long ago).
 */
function needsFreshProof(session: Session, reasons: readonly string[], maxAge: unknown, now: Date): boolean {
  const provedAgo = now.getTime() - (session.verifiedAt ?? session.createdAt).getTime();
  if (reasons.includes('login_prompt') && provedAgo > FRESH_PROOF_MS) return true;
  const seconds = typeof maxAge === 'string' || typeof maxAge === 'number' ? Number(maxAge) : Number.NaN;
  return Number.isFinite(seconds) && provedAgo > seconds * 1000;
}

type Interaction = Awaited<ReturnType<Provider['interactionDetails']>>;
type InteractionResult = Parameters<Provider['interactionResult']>[2];

/** The result that sends the person back to the application signed in, as `authentication` says. */
function signedInResult(person: SignedInPerson, authentication: Authentication): InteractionResult {
  return {
    login: {
      accountId: person.user.id,
      acr: authentication.acr,
      amr: authentication.amr,
      ts: Math.floor(authentication.authTime.getTime() / 1000),
      remember: true,
    },
    // What the application asked for is granted (see oidc/grants.ts): also when it asks for
    // consent (`prompt=consent`, which refresh tokens need).
    consent: {},
  };
}

/**
 * The provider's way back to the application, carrying `result`: a path of Twofold's. What
 * `provider.interactionResult` does, on the interaction already read.
 */
async function resumeWith(interaction: Interaction, result: InteractionResult, publicAddress: URL): Promise<string> {
  interaction.result = result;
  await interaction.save(interaction.exp - Math.floor(Date.now() / 1000));
  const resume = new URL(interaction.returnTo, publicAddress);
  if (resume.origin !== publicAddress.origin) throw new Error(`the provider resumes at ${resume.origin}`);
  return `${resume.pathname}${resume.search}`;
}

/** What an interaction's authorization request asked for, as Twofold reads it. */
function askedIn(interaction: Interaction) {
  const params = interaction.params as { client_id?: unknown; acr_values?: unknown; max_age?: unknown };
  return {
    clientId: typeof params.client_id === 'string' ? params.client_id : '',
    acrValues: typeof params.acr_values === 'string' ? params.acr_values : undefined,
    maxAge: params.max_age,
  };
}

/** Twofold's side of the applications' sign-ins: the provider, shared by its routes and the code step. */
export interface ApplicationSignIns {
  providerOf: () => Promise<Built>;
  /**
   * Just after the code step signed the session `token` in: when the application's sign-in
   * `signIn` (bound to this browser) may go on without another page (the person is allowed,
   * with nothing to be shown or asked first), its result is saved and the provider's way
   * back to the application returned. Otherwise null: the interaction page decides, as
   * for any other way back.
   */
  resumeAfterSecondFactor: (signIn: AppSignIn, token: string) => Promise<string | null>;
}

export function applicationSignIns(app: FastifyInstance): ApplicationSignIns {
  const { deps } = app.twofold;
  const providerOf = providerHost(app);
  const publicAddress = new URL(app.twofold.publicUrl);
  return {
    providerOf,
    resumeAfterSecondFactor: async (signIn, token) => {
      const person = await signedInJustNow(deps, token);
      if (person === null) return null;
      const { provider } = await providerOf();
      const interaction = await provider.Interaction.find(signIn.uid);
      if (interaction === undefined || interaction.result !== undefined) return null;
      const asked = askedIn(interaction);
      // Reads only: a refusal is recorded by the interaction page, which shows it.
      const decision = await decideApplicationSignIn(deps, person, asked.clientId, asked.acrValues);
      if (decision.kind !== 'allowed') return null;
      if (needsFreshProof(person.session, interaction.prompt.reasons, asked.maxAge, deps.now())) return null;
      return resumeWith(interaction, signedInResult(person, decision.authentication), publicAddress);
    },
  };
}

export async function oidcRoutes(app: FastifyInstance, { signIns }: { signIns: ApplicationSignIns }): Promise<void> {
  const { deps, cookies } = app.twofold;
  const { providerOf } = signIns;
  const publicAddress = new URL(app.twofold.publicUrl);

  // The provider's own endpoints: it reads the request's body itself.
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));
    const handOver = async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
      // The same limit as every form here, before the provider reads anything.
      if (Number(request.headers['content-length'] ?? 0) > (app.initialConfig.bodyLimit ?? 0)) {
        return renderError(request, reply, 413, 'too_large_title', 'too_large');
      }
      const { handler } = await providerOf();
      // The provider builds its addresses from the request's: they are Twofold's public ones.
      request.raw.headers['x-forwarded-host'] = publicAddress.host;
      request.raw.headers['x-forwarded-proto'] = publicAddress.protocol.replace(':', '');
      const person = signedInPerson(request);
      const handed: ProviderRequest = {
        person,
        signOutOfTwofold: false,
        pending: [],
        client: clientOf(request),
        clearTwofoldSession: app.serializeCookie(cookies.session, '', {
          ...cookieOptionsOf(cookies),
          expires: new Date(0),
        }),
        signInFirst:
          request.auth === null
            ? (uid, applicationName, redirectUri) => {
                const origin = formTargetOf(redirectUri);
                return [
                  returnCookie(app, interactionPathOf(uid)),
                  flashCookie(app, message('app_sign_in_to_continue', { application: applicationName })),
                  ...(origin === null ? [] : [appSignInCookie(app, { uid, origin })]),
                ];
              }
            : null,
      };
      reply.hijack();
      await providerRequests.run(handed, () => handler(request.raw, reply.raw));
      await Promise.all(handed.pending);
      // RP-initiated logout that the person extended to Twofold.
      if (handed.signOutOfTwofold && request.auth !== null) await signOut(deps, request.auth.session);
      return undefined;
    };
    const config = { access: 'protocol' } as const;
    scope.get('/.well-known/openid-configuration', { config }, handOver);
    scope.route({ method: ['GET', 'POST'], url: `${OIDC_PREFIX}/*`, config, handler: handOver });
  });

  app.get<{ Params: { uid: string } }>(
    `${OIDC_PREFIX}/interaction/:uid`,
    {
      config: { access: 'public' },
      schema: {
        params: {
          type: 'object',
          properties: { uid: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,100}$' } },
          required: ['uid'],
        },
      },
    },
    async (request, reply) => {
      const { provider } = await providerOf();
      let details: Awaited<ReturnType<Provider['interactionDetails']>>;
      try {
        details = await provider.interactionDetails(request.raw, reply.raw);
      } catch {
        return renderError(request, reply, 400, 'app_request_title', 'app_error_expired');
      }
      if (details.uid !== request.params.uid) {
        return renderError(request, reply, 400, 'app_request_title', 'app_error_expired');
      }
      const here = interactionPathOf(details.uid);
      const asked = askedIn(details);
      const person = signedInPerson(request);
      const decision = await applicationSignIn(deps, person, asked.clientId, asked.acrValues, clientOf(request));
      const confirmFirst = (withKey = false) =>
        reply.redirect(
          `/confirm-identity?${new URLSearchParams(withKey ? { next: here, with: 'key' } : { next: here }).toString()}`,
          303,
        );
      switch (decision.kind) {
        case 'unknown_application':
          return renderError(request, reply, 400, 'app_request_title', 'app_error_client');
        case 'sign_in_first': {
          rememberReturn(reply, here);
          const stage = request.auth?.stage ?? null;
          if (stage !== null) return reply.redirect(homeOf(stage), 303);
          return redirectWithFlash(
            reply,
            '/login',
            message('app_sign_in_to_continue', { application: decision.application.name }),
          );
        }
        case 'no_access':
          return renderError(request, reply, 403, 'app_no_access_title', 'app_no_access');
        case 'link_device':
          rememberReturn(reply, here);
          return redirectWithFlash(
            reply,
            '/2fa',
            message('app_needs_device', { application: decision.application.name }),
          );
        case 'give_code':
          return confirmFirst();
        case 'use_key': {
          // A key they have: used again now, whatever the session's second factor was.
          if (decision.hasKey) return confirmFirst(true);
          // None: never a sign-in with less. The person may link one and come back here, or
          // go back to the application, which is told `access_denied`.
          const { name } = decision.application;
          const back = await resumeWith(
            details,
            {
              error: 'access_denied',
              error_description: `${name} asks for phishing-resistant sign-in (${decision.acr}): a security key or passkey, which this person has not linked`,
            },
            publicAddress,
          );
          rememberReturn(reply, here);
          const keysAllowed = person !== null && allowsKind(person.organisation.allowedFactors, 'webauthn');
          return renderPage(
            request,
            reply,
            'A security key or passkey is needed',
            () => keyNeededForApplication(name, keysAllowed, back),
            403,
          );
        }
        case 'allowed': {
          if (person === null) throw new Error('an application sign-in was allowed without a signed-in person');
          if (needsFreshProof(person.session, details.prompt.reasons, asked.maxAge, deps.now())) {
            return confirmFirst();
          }
          const to = await resumeWith(details, signedInResult(person, decision.authentication), publicAddress);
          // Not a redirect: this answer often ends the redirects of a form just posted here
          // (the password, the code, a device linked), and a browser holds every redirect
          // of a form's submission to the page's form-action, 'self': Chromium refuses to
          // follow the provider's next one, to the application's address. From this page
          // the way on is a navigation of its own (a meta refresh), which form-action does
          // not govern.
          const { name } = decision.application;
          return renderMovingOn(
            request,
            reply,
            `Continue to ${name}`,
            to,
            (_ctx, movingOn) => continueToApplication(name, to, movingOn),
            here,
          );
        }
      }
    },
  );
}
