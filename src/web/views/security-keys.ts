// The parts of the pages that offer security keys and passkeys: a form whose button asks
// the browser for a key (public/security-key.js) and posts its answer, and what a browser
// without JavaScript or WebAuthn is told instead.
import { DEVICE_NAME_MAX_LENGTH } from '../../domain/devices.js';
import { csrfField, field } from './forms.js';
import { html, type Html } from './html.js';
import type { PageContext } from './layout.js';

/** The scripts, placed after the forms they serve; the page's policy must allow scripts from 'self'. */
export function securityKeyScripts(): Html {
  return html`<script src="/static/simplewebauthn-browser.js"></script>
    <script src="/static/security-key.js"></script>`;
}

export interface KeyFormOptions {
  /** 'use' a key the person has, or 'make' a new one. */
  mode: 'use' | 'make';
  action: string;
  /** The browser's options, with the challenge handed out for them. */
  options: unknown;
  buttonLabel: string;
  /** Fields posted with the answer (hidden ones, a name). */
  fields: Html;
  problem: string | null;
}

export function securityKeyForm(ctx: PageContext, o: KeyFormOptions): Html {
  return html`<form
      method="post"
      action="${o.action}"
      class="card narrow"
      data-security-key="${o.mode}"
      data-options="${JSON.stringify(o.options)}"
      data-unsupported="This browser cannot use security keys or passkeys. Use another way below, or another browser."
    >
      ${csrfField(ctx.csrfToken)} ${o.fields}
      <input type="hidden" name="answer" value="" />
      ${o.problem === null ? '' : html`<p class="error" role="alert">${o.problem}</p>`}
      <p class="hint" data-key-status aria-live="polite"></p>
      <noscript><p class="error">Security keys and passkeys need JavaScript, which is off in this browser.</p></noscript>
      <button type="submit" data-key-button disabled>${o.buttonLabel}</button>
    </form>
    ${securityKeyScripts()}`;
}

/** The page that makes a new key: its name, then the button that has the browser make it. */
export function newSecurityKeyForm(
  ctx: PageContext,
  action: string,
  options: unknown,
  name: string,
  problem: string | null,
  cancelHref: string,
): Html {
  return html`<p>
      A security key (such as a YubiKey) or a passkey (kept by your phone, computer or password manager) signs you in
      with a touch or your screen lock, and cannot be tricked by a fake sign-in page.
    </p>
    ${securityKeyForm(ctx, {
      mode: 'make',
      action,
      options,
      buttonLabel: 'Add the key',
      fields: field({
        label: 'Name',
        name: 'name',
        value: name,
        maxlength: DEVICE_NAME_MAX_LENGTH,
        required: true,
        hint: 'A name you will recognise, such as "YubiKey on my keyring" or "Passkey on my laptop".',
      }),
      problem,
    })}
    <p><a href="${cancelHref}">Cancel</a></p>`;
}
