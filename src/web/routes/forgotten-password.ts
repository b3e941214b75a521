// "Forgot your password?": the form, and the same answer whatever the address.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { requestForgottenPasswordLink } from '../../services/forgotten-password.js';
import { formSchema } from '../form-schema.js';
import { message } from '../messages.js';
import { clientOf, renderPage } from '../respond.js';
import { csrfField, field } from '../views/forms.js';
import { html } from '../views/html.js';

const TITLE = 'Forgot your password?';

function showForm(
  request: FastifyRequest,
  reply: FastifyReply,
  email: string,
  problem: string | undefined,
  status = 200,
) {
  return renderPage(
    request,
    reply,
    TITLE,
    (ctx) => html`<p>
        Enter the email address you sign in with. If it belongs to an account, we email it a link to set a new password.
      </p>
      <form method="post" action="/forgot-password" class="card narrow">
        ${csrfField(ctx.csrfToken)}
        ${field({ label: 'Email address', name: 'email', type: 'email', value: email, autocomplete: 'username', required: true, autofocus: true, error: problem })}
        <button type="submit">Email me a link</button>
      </form>
      <p><a href="/login">Back to sign in</a></p>`,
    status,
  );
}

export async function forgottenPasswordRoutes(app: FastifyInstance): Promise<void> {
  const { deps } = app.twofold;

  app.get('/forgot-password', { config: { access: 'public' } }, async (request, reply) =>
    showForm(request, reply, '', undefined),
  );

  app.post<{ Body: { email: string } }>(
    '/forgot-password',
    { config: { access: 'public' }, schema: formSchema({ email: 300 }) },
    async (request, reply) => {
      const result = await requestForgottenPasswordLink(deps, request.body.email, clientOf(request));
      if (result.ok) {
        return renderPage(
          request,
          reply,
          TITLE,
          () =>
            html`<div class="flash" role="status">${message('forgotten_password_sent')}</div>
            <p><a href="/login">Back to sign in</a></p>`,
        );
      }
      if (result.problem === 'throttled') {
        reply.header('retry-after', '3600');
        return showForm(request, reply, request.body.email, message('throttled'), 429);
      }
      return showForm(request, reply, request.body.email, message(result.problem), 400);
    },
  );
}
