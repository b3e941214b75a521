import { MAX_CODE_FAILURES_PER_LOGIN } from '../../services/login.js';
import { alert, codeField, csrfField, field, recoveryCodeField } from './forms.js';
import { securityKeyForm } from './security-keys.js';
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
    <p><a href="/forgot-password">Forgot your password?</a></p>`;
}

function triesLeft(attemptsLeft: number | null): string {
  return attemptsLeft !== null && attemptsLeft < MAX_CODE_FAILURES_PER_LOGIN
    ? ` You have ${attemptsLeft} ${attemptsLeft === 1 ? 'try' : 'tries'} left before you must sign in again.`
    : '';
}

/** The other ways of giving a second factor the person has, as links to them. */
function otherWays(has: { key: boolean; app: boolean }, showing: 'key' | 'app' | 'recovery'): Html {
  return html`${
    has.key && showing !== 'key'
      ? html`<p><a href="/login/code?with=key">Use your security key or passkey instead</a></p>`
      : ''
  }
    ${
      has.app && showing !== 'app'
        ? html`<p><a href="/login/code?with=app">Use a code from your authenticator app instead</a></p>`
        : ''
    }
    ${showing !== 'recovery' ? html`<p><a href="/login/code?with=recovery">Use a recovery code instead</a></p>` : ''}`;
}

/** The code step with a security key or passkey: a button that asks the browser for one. */
export function securityKeyStep(
  ctx: PageContext,
  options: unknown,
  problem: string | null,
  attemptsLeft: number | null,
  has: { key: boolean; app: boolean },
): Html {
  return html`<p>Use the security key or passkey you linked to this account.</p>
    ${securityKeyForm(ctx, {
      mode: 'use',
      action: '/login/code',
      options,
      buttonLabel: 'Use your security key or passkey',
      fields: html`<input type="hidden" name="with" value="key" />`,
      problem: problem === null ? null : problem + triesLeft(attemptsLeft),
    })}
    ${otherWays(has, 'key')}`;
}

export function codeForm(
  ctx: PageContext,
  problem: string | null,
  attemptsLeft: number | null,
  has: { key: boolean; app: boolean },
): Html {
  const left = triesLeft(attemptsLeft);
  return html`<p>
      Open your authenticator app and enter the 6-digit code it shows for this account. Any of your linked devices will
      do.
    </p>
    <form method="post" action="/login/code" class="card narrow">
      ${csrfField(ctx.csrfToken)} ${codeField(problem === null ? undefined : problem + left)}
      <button type="submit">Verify</button>
    </form>
    ${otherWays(has, 'app')}
    <p class="hint">
      Lost your device and your recovery codes? Contact your administrator: they can reset your two-factor
      authentication.
    </p>`;
}

export function recoveryCodeForm(
  ctx: PageContext,
  problem: string | null,
  attemptsLeft: number | null,
  has: { key: boolean; app: boolean },
): Html {
  return html`<p>Type one of the recovery codes you saved. Each code works once.</p>
    <form method="post" action="/login/code" class="card narrow">
      ${csrfField(ctx.csrfToken)} <input type="hidden" name="with" value="recovery" />
      ${recoveryCodeField(problem === null ? undefined : problem + triesLeft(attemptsLeft))}
      <button type="submit">Verify</button>
    </form>
    ${otherWays(has, 'recovery')}`;
}
