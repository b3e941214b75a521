// Sign-in: password, then the code; sign-out.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { signInWithPassword, signOut, submitSecondFactor } from '../../services/login.js';
import { securityKeyRequest } from '../../services/security-keys.js';
import { allowsKind, holdsAllowedDevice } from '../../domain/factor-policy.js';
import { authOrThrow, devicesByKindOf, homeOf, waysOf } from '../plugins/auth.js';
import { html } from '../views/html.js';
import { message, secondFactorProblemMessage, type SentenceCode } from '../messages.js';
import { formSchema } from '../form-schema.js';
import {
  allowFormsToLeadTo,
  allowScriptsFromSelf,
  appSignInOf,
  clearSessionCookie,
  clientOf,
  hasFlash,
  interactionPathOf,
  redirectWithFlash,
  renderPage,
  setSessionCookie,
  takeAppSignIn,
  takeReturn,
  when,
} from '../respond.js';
import type { ApplicationSignIns } from './oidc.js';
import { codeForm, loginForm, recoveryCodeForm, securityKeyStep } from '../views/login.js';

type Way = 'key' | 'app' | 'recovery';

const REFUSALS = {
  wrong_credentials: 'sign_in_wrong_credentials',
  inactive: 'account_inactive',
  blocked: 'sign_in_blocked',
} as const satisfies Record<string, SentenceCode>;

function showLogin(request: FastifyRequest, reply: FastifyReply, email: string, problem: string | null, status = 200) {
  return renderPage(request, reply, 'Sign in', (ctx) => loginForm(ctx, email, problem), status);
}

export async function loginRoutes(app: FastifyInstance, { signIns }: { signIns: ApplicationSignIns }): Promise<void> {
  const { deps, cookies } = app.twofold;

  app.get('/', { config: { access: 'public' } }, async (request, reply) =>
    reply.redirect(homeOf(request.auth?.stage ?? null), 303),
  );

  app.get('/login', { config: { access: 'public' } }, async (request, reply) => {
    if (request.auth !== null) return reply.redirect(homeOf(request.auth.stage), 303);
    return showLogin(request, reply, '', null);
  });

  app.post<{ Body: { email: string; password: string } }>(
    '/login',
    { config: { access: 'public' }, schema: formSchema({ email: 300, password: 1000 }) },
    async (request, reply) => {
      // Signing in from a browser that holds another session replaces it.
      if (request.auth !== null) await signOut(deps, request.auth.session);
      const result = await signInWithPassword(deps, request.body.email, request.body.password, clientOf(request));
      if (result.kind === 'throttled') {
        clearSessionCookie(reply, cookies);
        const seconds = Math.ceil((result.until.getTime() - deps.now().getTime()) / 1000);
        reply.header('retry-after', String(seconds));
        return showLogin(request, reply, request.body.email, message('sign_in_throttled', { seconds }), 429);
      }
      if (result.kind === 'refused') {
        clearSessionCookie(reply, cookies);
        return showLogin(request, reply, request.body.email, message(REFUSALS[result.reason]), 401);
      }
      setSessionCookie(reply, cookies, result.token);
      if (result.kind === 'signed_in') return reply.redirect(takeReturn(request, reply) ?? '/account', 303);
      return reply.redirect(result.stage === 'code' ? '/login/code' : '/setup', 303);
    },
  );

  /** The way of giving the second factor asked for (`with`), among those the person has: a key first, else an app. */
  const wayOf = (asked: string | undefined, has: { key: boolean; app: boolean }): Way => {
    if (asked === 'recovery') return 'recovery';
    if (asked === 'app' && has.app) return 'app';
    return has.key ? 'key' : 'app';
  };

  /** The code step's page: a security key or passkey, an authenticator code, or a recovery code. */
  const showCodeStep = async (
    request: FastifyRequest,
    reply: FastifyReply,
    asked: string | undefined,
    problem: string | null,
    attemptsLeft: number | null,
    status = 200,
  ) => {
    const auth = authOrThrow(request);
    const has = waysOf(auth);
    // On the way to an application: the code step may send the person straight on to it.
    const signIn = appSignInOf(request);
    if (signIn !== null) allowFormsToLeadTo(reply, signIn.origin);
    // Devices all of a kind the organisation no longer allows: said before they are used once more.
    const allowed = auth.organisation.allowedFactors;
    const notice =
      auth.confirmedDevices === 0 || holdsAllowedDevice(allowed, devicesByKindOf(auth))
        ? ''
        : html`<p class="lead">
          ${message(allowsKind(allowed, 'webauthn') ? 'sign_in_then_add_key' : 'sign_in_then_add_app')}
        </p>`;
    switch (wayOf(asked, has)) {
      case 'recovery':
        return renderPage(
          request,
          reply,
          'Enter a recovery code',
          (ctx) => html`${notice}${recoveryCodeForm(ctx, problem, attemptsLeft, has)}`,
          status,
        );
      case 'app':
        return renderPage(
          request,
          reply,
          'Enter your code',
          (ctx) => html`${notice}${codeForm(ctx, problem, attemptsLeft, has)}`,
          status,
        );
      case 'key': {
        const options = await securityKeyRequest(deps, auth.tenant, auth.user.id);
        allowScriptsFromSelf(reply);
        return renderPage(
          request,
          reply,
          'Use your security key',
          (ctx) => html`${notice}${securityKeyStep(ctx, options, problem, attemptsLeft, has)}`,
          status,
        );
      }
    }
  };

  app.get<{ Querystring: { with?: string } }>(
    '/login/code',
    {
      config: { access: 'code' },
      schema: { querystring: { type: 'object', properties: { with: { type: 'string', maxLength: 20 } } } },
    },
    async (request, reply) => showCodeStep(request, reply, request.query.with, null, null),
  );

  app.post<{ Body: { code?: string; answer?: string; with?: string } }>(
    '/login/code',
    {
      config: { access: 'code' },
      schema: formSchema({ code: 100, answer: 12_000, with: 20 }, ['code', 'answer', 'with']),
    },
    async (request, reply) => {
      const auth = authOrThrow(request);
      const byKey = request.body.with === 'key';
      const given = (byKey ? request.body.answer : request.body.code) ?? '';
      const result = await submitSecondFactor(
        deps,
        auth.session,
        auth.user,
        auth.organisation.allowedFactors,
        given,
        clientOf(request),
      );
      switch (result.kind) {
        case 'signed_in': {
          setSessionCookie(reply, cookies, result.token);
          const next = takeReturn(request, reply) ?? '/account';
          const signIn = takeAppSignIn(request, reply);
          if (result.recoveryCodesLeft !== null) {
            return redirectWithFlash(reply, next, message('recovery_code_used', { left: result.recoveryCodesLeft }));
          }
          // The application's sign-in this browser began, with nothing to show first: straight
          // on to the application (the provider's redirect, which this page's form-action
          // allows), a page sooner than through the interaction page.
          const straight =
            signIn !== null && next === interactionPathOf(signIn.uid) && !hasFlash(request)
              ? await signIns.resumeAfterSecondFactor(signIn, result.token)
              : null;
          return reply.redirect(straight ?? next, 303);
        }
        case 'start_over':
          clearSessionCookie(reply, cookies);
          return redirectWithFlash(reply, '/login', message('sign_in_start_over'));
        case 'retry':
          return showCodeStep(
            request,
            reply,
            request.body.with,
            secondFactorProblemMessage(result.problem, (at) => when(request, at), byKey),
            result.attemptsLeft,
            result.problem.reason === 'locked' || result.problem.reason === 'slow_down' ? 429 : 400,
          );
      }
    },
  );

  app.post('/logout', { config: { access: 'any_session' }, schema: formSchema({}) }, async (request, reply) => {
    await signOut(deps, authOrThrow(request).session);
    clearSessionCookie(reply, cookies);
    return redirectWithFlash(reply, '/login', message('signed_out'));
  });
}
