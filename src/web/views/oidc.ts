// The pages of signing in to an application: the way back to it once Twofold has let the
// person in; and the pages the OpenID Connect provider shows itself (an application's
// request it cannot complete, the sign-out an application asked for, and its outcome),
// which it writes outside a Fastify request, so no one is shown as signed in on them.
import { message } from '../messages.js';
import { html, trusted, type Html } from './html.js';
import { page, type PageContext } from './layout.js';

/**
 * What the person sees for a moment on the way back to the application (the page moves on
 * by itself), or keeps seeing if their browser does not follow a refresh; when the page has
 * a message for them (`movingOn` false), until they go on.
 */
export function continueToApplication(application: string, to: string, movingOn: boolean): Html {
  return html`<p class="lead">
      ${movingOn ? `You are signed in. Twofold is taking you back to ${application}.` : 'You are signed in.'}
    </p>
    <p><a class="button" href="${to}">Continue to ${application}</a></p>`;
}

/**
 * An application asked for phishing-resistant sign-in and the person has no key to give:
 * they may link one (when their organisation allows keys) and come back, or go back to
 * the application, which is told they were not signed in.
 */
export function keyNeededForApplication(application: string, mayAddKey: boolean, back: string): Html {
  return html`<p class="lead">
      ${application} asks for phishing-resistant sign-in: a security key or passkey. You have none linked to your
      account, so Twofold cannot sign you in to ${application}.
    </p>
    ${
      mayAddKey
        ? html`<p>You can add one now; you are then brought back here and on to ${application}.</p>
            <p><a class="button" href="/2fa/security-keys">Add a security key or passkey</a></p>`
        : html`<p>Your organisation does not allow security keys or passkeys. Ask your administrator.</p>`
    }
    <p><a href="${back}">Go back to ${application} without signing in</a></p>`;
}

function providerPage(title: string, body: Html): string {
  const ctx: PageContext = { csrfToken: '', viewer: null, pending: false, flash: null, reminder: null, path: '/oidc' };
  return page(ctx, title, body);
}

function sentenceFor(error: string, description: string | null): string {
  if (error === 'invalid_redirect_uri' || /redirect_uri/.test(description ?? '')) return message('app_error_redirect');
  if (error === 'invalid_client' || error === 'unauthorized_client') return message('app_error_client');
  if (error === 'invalid_request' && /session not found|expired|interaction/.test(description ?? ''))
    return message('app_error_expired');
  return message('app_error_other', { code: error });
}

export function oidcErrorPage(error: string, description: string | null): string {
  return providerPage(
    message('app_request_title'),
    html`<p>${sentenceFor(error, description)}</p>
      <p class="hint">Error: ${error}${description === null ? '' : html` (${description})`}</p>
      <p><a href="/">Go to Twofold’s start page</a></p>`,
  );
}

/** `form` is the provider's own hidden form (its anti-forgery token); the buttons submit it. */
export function logoutPage(form: string, application: string | null): string {
  const from = application ?? 'the application';
  return providerPage(
    `Sign out of ${from}`,
    html`${trusted(form)}
      <p>You are signing out of ${from}. You can stay signed in to Twofold, or sign out of it too.</p>
      <div class="actions">
        <button type="submit" form="op.logoutForm" name="logout" value="yes">Sign out of Twofold too</button>
        <button type="submit" form="op.logoutForm" class="secondary">Only sign out of ${from}</button>
      </div>`,
  );
}

export function loggedOutPage(application: string | null): string {
  return providerPage(
    'Signed out',
    html`<p>You are signed out${application === null ? '' : html` of ${application}`}.</p>
      <p><a href="/">Go to Twofold’s start page</a></p>`,
  );
}

export function notFoundPage(): string {
  return providerPage(
    message('not_found_title'),
    html`<p>${message('not_found')}</p>
      <p><a href="/">Go to the start page</a></p>`,
  );
}
