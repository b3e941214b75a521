// The signed-in home page, changing one's password, and the one-time set-password link.
import type { FastifyInstance } from 'fastify';
import { PASSWORD_MIN_LENGTH } from '../../domain/passwords.js';
import { ROLE_LABELS } from '../../domain/users.js';
import { takeNotices } from '../../services/notices.js';
import { changeOwnPassword, passwordLinkState, setPasswordWithLink, type LinkState } from '../../services/passwords.js';
import { authOrThrow } from '../plugins/auth.js';
import { formSchema } from '../form-schema.js';
import { clientOf, redirectWithFlash, renderPage, setSessionCookie, when } from '../respond.js';
import { message, type SentenceCode } from '../messages.js';
import { alert, csrfField, field } from '../views/forms.js';
import { noticesPanel } from '../views/account.js';
import { html, type Html } from '../views/html.js';
import type { PageContext } from '../views/layout.js';

const LINK_PROBLEMS = {
  unknown: 'link_unknown',
  used: 'link_used',
  expired: 'link_expired',
  inactive: 'account_inactive',
} as const satisfies Record<Exclude<LinkState, { ok: true }>['reason'], SentenceCode>;

const PASSWORD_HINT = `At least ${PASSWORD_MIN_LENGTH} characters. A few unrelated words make a strong password that is easy to remember.`;

function newPasswordFields(problem: string | undefined): Html {
  return html`${field({ label: 'New password', name: 'password', type: 'password', autocomplete: 'new-password', required: true, hint: PASSWORD_HINT, error: problem })}
  ${field({ label: 'Repeat the new password', name: 'confirmation', type: 'password', autocomplete: 'new-password', required: true })}`;
}

function setPasswordForm(ctx: PageContext, token: string, email: string, problem: string | undefined): Html {
  return html`<p>Choose the password for <strong>${email}</strong>.</p>
    <form method="post" action="/set-password/${token}" class="card narrow">
      ${csrfField(ctx.csrfToken)}
      <input type="text" name="username" value="${email}" autocomplete="username" hidden />
      ${newPasswordFields(problem)}
      <button type="submit">Set password</button>
    </form>`;
}

/** A link that no longer sets a password: why, and the ways on, so the page is not a dead end. */
function linkRefused(reason: keyof typeof LINK_PROBLEMS): Html {
  const signIn = html`<a href="/login">Sign in</a>`;
  // A deactivated account gets no link by "Forgot your password?" either.
  const ways = reason === 'inactive' ? signIn : html`<a href="/forgot-password">Forgot your password?</a> · ${signIn}`;
  return html`${alert(message(LINK_PROBLEMS[reason]))}
    <p>${ways}</p>`;
}

function changePasswordForm(ctx: PageContext, problems: { current?: string; password?: string }): Html {
  return html`<p>Your two-factor authentication stays as it is. Your other sessions end.</p>
    <form method="post" action="/account/password" class="card narrow">
      ${csrfField(ctx.csrfToken)}
      ${field({ label: 'Current password', name: 'current', type: 'password', autocomplete: 'current-password', required: true, error: problems.current })}
      ${newPasswordFields(problems.password)}
      <button type="submit">Change password</button>
    </form>`;
}

export async function accountRoutes(app: FastifyInstance): Promise<void> {
  const { deps, cookies } = app.twofold;

  app.get('/account', async (request, reply) => {
    const auth = authOrThrow(request);
    const notices = await takeNotices(deps, auth.tenant, auth.user);
    return renderPage(
      request,
      reply,
      `Welcome, ${auth.user.name}`,
      () =>
        html`${noticesPanel(notices, (at) => when(request, at))}
          <dl class="facts">
            <dt>Email</dt>
            <dd>${auth.user.email}</dd>
            <dt>Organisation</dt>
            <dd>${auth.organisation.name}</dd>
            <dt>Role</dt>
            <dd>${ROLE_LABELS[auth.user.role]}</dd>
          </dl>
          <ul class="links">
            <li><a href="/2fa">Two-Factor Authentication (2FA)</a>: your authenticator devices</li>
            <li><a href="/account/password">Change your password</a></li>
            <li><a href="/account/sessions">Your sessions</a>: where you are signed in</li>
          </ul>`,
    );
  });

  app.get('/account/password', { config: { stepUp: {} } }, async (request, reply) =>
    renderPage(request, reply, 'Change your password', (ctx) => changePasswordForm(ctx, {})),
  );

  app.post<{ Body: { current: string; password: string; confirmation: string } }>(
    '/account/password',
    { config: { stepUp: {} }, schema: formSchema({ current: 1000, password: 1000, confirmation: 1000 }) },
    async (request, reply) => {
      const auth = authOrThrow(request);
      const result = await changeOwnPassword(
        deps,
        auth.tenant,
        auth.user,
        auth.session,
        clientOf(request),
        request.body,
      );
      if (!result.ok) {
        return renderPage(
          request,
          reply,
          'Change your password',
          (ctx) => changePasswordForm(ctx, { [result.field]: message(result.problem) }),
          400,
        );
      }
      setSessionCookie(reply, cookies, result.token);
      return redirectWithFlash(reply, '/account', message('password_changed'));
    },
  );

  app.get<{ Params: { token: string } }>(
    '/set-password/:token',
    { config: { access: 'public' } },
    async (request, reply) => {
      const state = await passwordLinkState(deps, request.params.token);
      if (!state.ok) return renderPage(request, reply, 'Set your password', () => linkRefused(state.reason), 410);
      return renderPage(request, reply, 'Set your password', (ctx) =>
        setPasswordForm(ctx, request.params.token, state.user.email, undefined),
      );
    },
  );

  app.post<{ Params: { token: string }; Body: { password: string; confirmation: string } }>(
    '/set-password/:token',
    { config: { access: 'public' }, schema: formSchema({ password: 1000, confirmation: 1000 }) },
    async (request, reply) => {
      const result = await setPasswordWithLink(
        deps,
        request.params.token,
        request.body.password,
        request.body.confirmation,
        clientOf(request),
      );
      if (result.ok) return redirectWithFlash(reply, '/login', message('password_set'));
      if ('link' in result) return renderPage(request, reply, 'Set your password', () => linkRefused(result.link), 410);
      const state = await passwordLinkState(deps, request.params.token);
      const email = state.ok ? state.user.email : '';
      return renderPage(
        request,
        reply,
        'Set your password',
        (ctx) => setPasswordForm(ctx, request.params.token, email, message(result.problem)),
        400,
      );
    },
  );
}
