import { MAX_CODE_FAILURES_PER_LOGIN } from '../../services/login.js';
import { alert, codeField, csrfField, field, recoveryCodeField } from './forms.js';
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

function triesLeft(attemptsLeft: number | null): string {
  return attemptsLeft !== null && attemptsLeft < MAX_CODE_FAILURES_PER_LOGIN
    ? ` You have ${attemptsLeft} ${attemptsLeft === 1 ? 'try' : 'tries'} left before you must sign in again.`
    : '';
}

export function codeForm(ctx: PageContext, problem: string | null, attemptsLeft: number | null): Html {
  const left = triesLeft(attemptsLeft);
  return html`<p>
      Open your authenticator app and enter the 6-digit code it shows for this account. Any of your linked devices will
      do.
    </p>
    <form method="post" action="/login/code" class="card narrow">
      ${csrfField(ctx.csrfToken)} ${codeField(problem === null ? undefined : problem + left)}
      <button type="submit">Verify</button>
    </form>
    <p><a href="/login/code?with=recovery">Use a recovery code instead</a></p>
    <p class="hint">
      Lost your device and your recovery codes? Contact your administrator: they can reset your two-factor
      authentication.
    </p>`;
}

export function recoveryCodeForm(ctx: PageContext, problem: string | null, attemptsLeft: number | null): Html {
  return html`<p>Type one of the recovery codes you saved. Each code works once.</p>
    <form method="post" action="/login/code" class="card narrow">
      ${csrfField(ctx.csrfToken)} <input type="hidden" name="with" value="recovery" />
      ${recoveryCodeField(problem === null ? undefined : problem + triesLeft(attemptsLeft))}
      <button type="submit">Verify</button>
    </form>
    <p><a href="/login/code">Use a code from your authenticator app instead</a></p>`;
}
