// Parts of the account pages: security notices, sessions, the confirm-identity form.
import { securityKeyScripts } from './security-keys.js';
import type { RecordedAuditEvent } from '../../domain/audit.js';
import type { Session } from '../../store/sessions.js';
import { message } from '../messages.js';
import { codeField, csrfField, field } from './forms.js';
import { html, type Html } from './html.js';
import type { PageContext } from './layout.js';

type When = (at: Date) => string;

function noticeText(event: RecordedAuditEvent, when: When): string {
  const at = when(event.at);
  const device = typeof event.detail.device === 'string' ? event.detail.device : null;
  switch (event.action) {
    case 'device_added':
      return device === null
        ? message('notice_device_added', { at })
        : message('notice_named_device_added', { device, at });
    case 'device_removed':
      if (event.detail.by_admin === true)
        return device === null
          ? message('notice_device_removed_by_admin', { at })
          : message('notice_named_device_removed_by_admin', { device, at });
      return device === null
        ? message('notice_device_removed', { at })
        : message('notice_named_device_removed', { device, at });
    case 'two_factor_reset':
      return message('notice_two_factor_reset', { at });
    case 'second_factor_locked':
      return message('notice_second_factor_locked', { at });
    default:
      return message('notice_other', { at });
  }
}

export function noticesPanel(events: RecordedAuditEvent[], when: When): Html | '' {
  if (events.length === 0) return '';
  return html`<section class="notices" aria-labelledby="notices-heading">
    <h2 id="notices-heading">Security notices since you last signed in</h2>
    <ul>
      ${events.map((e) => html`<li>${noticeText(e, when)}</li>`)}
    </ul>
    <p>If you did not expect this, change your password and tell your administrator.</p>
  </section>`;
}

const BROWSERS: [RegExp, string][] = [
  [/Edg\//, 'Edge'],
  [/Firefox\//, 'Firefox'],
  [/Chrom(e|ium)\//, 'Chrome'],
  [/Safari\//, 'Safari'],
];
const SYSTEMS: [RegExp, string][] = [
  [/Android/, 'Android'],
  [/iPhone|iPad/, 'iOS'],
  [/Windows/, 'Windows'],
  [/Mac OS X/, 'macOS'],
  [/Linux/, 'Linux'],
];

/** "Firefox on Linux" from a user agent, or the start of its text when nothing is recognised. */
export function browserOf(userAgent: string): string {
  const browser = BROWSERS.find(([pattern]) => pattern.test(userAgent))?.[1];
  const system = SYSTEMS.find(([pattern]) => pattern.test(userAgent))?.[1];
  if (browser === undefined && system === undefined)
    return userAgent === '' ? 'Unknown browser' : userAgent.slice(0, 60);
  return system === undefined ? (browser ?? 'A browser') : `${browser ?? 'A browser'} on ${system}`;
}

export function sessionsTable(ctx: PageContext, sessions: Session[], currentId: string, when: When): Html {
  return html`<div class="table-scroll">
      <table class="stack">
        <caption>
          Where you are signed in
        </caption>
        <thead>
          <tr>
            <th scope="col">Browser</th>
            <th scope="col">Address</th>
            <th scope="col">Signed in</th>
            <th scope="col">Last active</th>
            <th scope="col"><span class="visually-hidden">Actions</span></th>
          </tr>
        </thead>
        <tbody>
          ${sessions.map(
            (s) =>
              html`<tr>
                <td data-label="Browser">${browserOf(s.client.userAgent)}</td>
                <td data-label="Address">${s.client.ip}</td>
                <td data-label="Signed in">${when(s.createdAt)}</td>
                <td data-label="Last active">${when(s.lastSeenAt)}</td>
                <td>
                  ${
                    s.id === currentId
                      ? html`<strong>This session</strong>`
                      : html`<form method="post" action="/account/sessions/${s.id}/end" class="inline">
                        ${csrfField(ctx.csrfToken)}
                        <button type="submit" class="secondary">Sign out this session</button>
                      </form>`
                  }
                </td>
              </tr>`,
          )}
        </tbody>
      </table>
    </div>
    ${
      sessions.length > 1
        ? html`<form method="post" action="/account/sessions/end-others">
          ${csrfField(ctx.csrfToken)}
          <button type="submit">Sign out everywhere else</button>
        </form>`
        : ''
    }`;
}

/**
 * The step-up form: the password, and a code from an app (`ways.app`) or the person's
 * security key or passkey (`keyOptions`, the browser's options, when they have one).
 */
export function confirmIdentityForm(
  ctx: PageContext,
  next: string,
  /** `keyOnly`: asked for a key alone, which the form says again when it is sent. */
  ways: { app: boolean; keyOptions: unknown; keyOnly: boolean },
  problems: { password?: string; code?: string },
): Html {
  const byKey = ways.keyOptions !== null;
  const what = ways.app
    ? byKey
      ? 'your password, and a code from your authenticator app or your security key or passkey'
      : 'your password and a code from your authenticator app'
    : byKey
      ? 'your password, then use your security key or passkey'
      : 'your password';
  return html`<p>
      To change how your account is protected, confirm it is you: enter ${what}. You will not be asked again for 10
      minutes.
    </p>
    <form
      method="post"
      action="/confirm-identity"
      class="card narrow"
      ${
        byKey
          ? html`data-security-key="use" data-options="${JSON.stringify(ways.keyOptions)}"
          data-unsupported="This browser cannot use security keys or passkeys${ways.app ? '; enter a code from your app instead' : ''}."`
          : ''
      }
    >
      ${csrfField(ctx.csrfToken)}
      <input type="hidden" name="next" value="${next}" />
      ${ways.keyOnly ? html`<input type="hidden" name="with" value="key" />` : ''}
      ${field({
        label: 'Password',
        name: 'password',
        type: 'password',
        autocomplete: 'current-password',
        required: true,
        autofocus: true,
        error: problems.password,
      })}
      ${ways.app ? codeField(problems.code) : ''}
      ${!ways.app && problems.code !== undefined ? html`<p class="error" role="alert">${problems.code}</p>` : ''}
      ${ways.app || !byKey ? html`<button type="submit">Confirm</button>` : ''}
      ${
        byKey
          ? html`<input type="hidden" name="answer" value="" />
            <p class="hint" data-key-status aria-live="polite"></p>
            <noscript><p class="error">Security keys and passkeys need JavaScript, which is off in this browser.</p></noscript>
            <button type="submit" ${ways.app ? html`class="secondary"` : ''} data-key-button>
              Confirm with your security key or passkey
            </button>`
          : ''
      }
    </form>
    ${byKey ? securityKeyScripts() : ''}
    <p><a href="${next}">Cancel</a></p>`;
}
