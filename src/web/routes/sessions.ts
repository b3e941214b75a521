// "Your sessions": where the user is signed in, and signing out the others; and the
// confirm-identity step that sensitive changes ask for.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { liveSessionsOf } from '../../services/sessions.js';
import { securityKeyRequest } from '../../services/security-keys.js';
import { confirmIdentity } from '../../services/step-up.js';
import { audit } from '../../services/audit.js';
import { authOrThrow, waysOf } from '../plugins/auth.js';
import { message, secondFactorProblemMessage } from '../messages.js';
import { formSchema, idParams } from '../form-schema.js';
import { allowScriptsFromSelf, clientOf, redirectWithFlash, renderPage, when } from '../respond.js';
import { confirmIdentityForm, sessionsTable } from '../views/account.js';

/** Only a path of this site, never another host ("//evil.example" or "https://..."). */
export function safeNext(next: string | undefined): string {
  return next !== undefined && /^\/(?![/\\])[\w\-/.%?=&]*$/.test(next) ? next : '/account';
}

export async function sessionRoutes(app: FastifyInstance): Promise<void> {
  const { deps } = app.twofold;

  app.get('/account/sessions', async (request, reply) => {
    const auth = authOrThrow(request);
    const sessions = await liveSessionsOf(deps, auth.tenant, auth.user.id);
    return renderPage(request, reply, 'Your sessions', (ctx) =>
      sessionsTable(ctx, sessions, auth.session.id, (at) => when(request, at)),
    );
  });

  app.post<{ Params: { id: string } }>(
    '/account/sessions/:id/end',
    { schema: { ...idParams, ...formSchema({}) } },
    async (request, reply) => {
      const auth = authOrThrow(request);
      const own = (await liveSessionsOf(deps, auth.tenant, auth.user.id)).find((s) => s.id === request.params.id);
      if (own === undefined || own.id === auth.session.id) {
        return redirectWithFlash(reply, '/account/sessions', message('session_already_ended'));
      }
      await auth.tenant.sessions.delete(own.id);
      await audit(
        auth.tenant,
        deps.now(),
        { actor: auth.user, client: clientOf(request) },
        'session_ended',
        auth.user,
        {
          ended: 'one other session',
        },
      );
      return redirectWithFlash(reply, '/account/sessions', message('session_ended'));
    },
  );

  app.post('/account/sessions/end-others', { schema: formSchema({}) }, async (request, reply) => {
    const auth = authOrThrow(request);
    await auth.tenant.sessions.deleteAllForUser(auth.user.id, auth.session.id);
    await audit(auth.tenant, deps.now(), { actor: auth.user, client: clientOf(request) }, 'session_ended', auth.user, {
      ended: 'all other sessions',
    });
    return redirectWithFlash(reply, '/account/sessions', message('signed_out_elsewhere'));
  });

  async function showConfirm(
    request: FastifyRequest,
    reply: FastifyReply,
    next: string,
    problems: { password?: string; code?: string },
    status = 200,
    keyAskedFor = false,
  ) {
    const auth = authOrThrow(request);
    const has = waysOf(auth);
    const keyOptions = has.key ? await securityKeyRequest(deps, auth.tenant, auth.user.id) : null;
    if (keyOptions !== null) allowScriptsFromSelf(reply);
    // An application that asked for phishing-resistant sign-in takes a key only (see routes/oidc.ts).
    const keyOnly = keyAskedFor && keyOptions !== null;
    const ways = { app: has.app && !keyOnly, keyOptions, keyOnly };
    return renderPage(
      request,
      reply,
      'Confirm it is you',
      (ctx) => confirmIdentityForm(ctx, next, ways, problems),
      status,
    );
  }

  // `next` may be a protected site's address waiting to be checked again (/auth/continue?to=…), up to about 2,700 characters.
  app.get<{ Querystring: { next?: string; with?: string } }>(
    '/confirm-identity',
    {
      schema: {
        querystring: {
          type: 'object',
          properties: { next: { type: 'string', maxLength: 3000 }, with: { type: 'string', maxLength: 20 } },
        },
      },
    },
    (request, reply) =>
      showConfirm(request, reply, safeNext(request.query.next), {}, 200, request.query.with === 'key'),
  );

  app.post<{ Body: { next?: string; password: string; code?: string; answer?: string; with?: string } }>(
    '/confirm-identity',
    {
      schema: formSchema({ next: 3000, password: 1000, code: 100, answer: 12_000, with: 20 }, [
        'next',
        'code',
        'answer',
        'with',
      ]),
    },
    async (request, reply) => {
      const auth = authOrThrow(request);
      const next = safeNext(request.body.next);
      // Asked for a key (an application asking for phishing-resistant sign-in): still only a key after a mistake.
      const keyAskedFor = request.body.with === 'key';
      // A key's answer when the key button gave one; the code typed otherwise.
      const byKey = (request.body.answer ?? '') !== '';
      const input = { password: request.body.password, code: (byKey ? request.body.answer : request.body.code) ?? '' };
      const result = await confirmIdentity(
        deps,
        auth.tenant,
        auth.user,
        auth.session,
        auth.organisation.allowedFactors,
        input,
        clientOf(request),
      );
      if (result.ok) return reply.redirect(next, 303);
      if (result.field === 'code') {
        const problem = secondFactorProblemMessage(result.problem, (at) => when(request, at), byKey);
        const status = result.problem.reason === 'locked' || result.problem.reason === 'slow_down' ? 429 : 400;
        return showConfirm(request, reply, next, { code: problem }, status, keyAskedFor);
      }
      if (result.problem === 'throttled' && result.until !== undefined) {
        return showConfirm(
          request,
          reply,
          next,
          { password: message('passwords_throttled_until', { until: when(request, result.until) }) },
          429,
          keyAskedFor,
        );
      }
      return showConfirm(request, reply, next, { password: message('password_wrong') }, 400, keyAskedFor);
    },
  );
}
