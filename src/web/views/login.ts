import { MAX_CODE_FAILURES_PER_LOGIN } from '../../services/login.js';
import { alert, codeField, csrfField, field } from './forms.js';
import { html, type Html } from './html.js';
import type { PageContext } from './layout.js';

export function loginForm(ctx: PageContext, email: string, problem: string | null): Html {
  return html`${problem === null ? '' : alert(problem)}
    <form method="post" action="/login" class="card narrow">
      ${csrfField(ctx.csrfToken)}
      ${field({ label: 'Email address', name: 'email', type: 'email', value: email, autocomplete: 'username', required: true, autofocus: email === '' })}
      ${field({ label: 'Password', name: 'password', type: 'password', autocomplete: 'current-password', required: true, autofocus: email !== '' })}
      <button type="submit">Sign in</button>
    </form>
    <p class="hint">Forgot your password? Ask an administrator of your organisation for a new set-password link.</p>`;
}

export function codeForm(ctx: PageContext, problem: string | null, attemptsLeft: number | null): Html {
  const left =
    attemptsLeft !== null && attemptsLeft < MAX_CODE_FAILURES_PER_LOGIN
      ? ` You have ${attemptsLeft} ${attemptsLeft === 1 ? 'try' : 'tries'} left before you must sign in again.`
      : '';
  return html`<p>
      Open your authenticator app and enter the 6-digit code it shows for this account. Any of your linked devices will
      do.
    </p>
    <form method="post" action="/login/code" class="card narrow">
      ${csrfField(ctx.csrfToken)} ${codeField(problem === null ? undefined : problem + left)}
      <button type="submit">Verify</button>
    </form>
    <p class="hint">Lost your device? Contact your administrator: they can reset your two-factor authentication.</p>`;
}
