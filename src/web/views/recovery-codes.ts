// The recovery codes page: how many are left, making a new set, and a new set shown once.
import { FEW_RECOVERY_CODES_LEFT, RECOVERY_CODES_PER_SET } from '../../domain/recovery-codes.js';
import { csrfField } from './forms.js';
import { html, type Html } from './html.js';
import type { PageContext } from './layout.js';

/** How many of the person's codes are left, with a warning when few are. */
function codesLeft(left: number, hasDevice: boolean): Html {
  if (!hasDevice) {
    return html`<p>
      Recovery codes sign you in when your devices are gone. You get them when you link your first device.
    </p>`;
  }
  return left <= FEW_RECOVERY_CODES_LEFT
    ? html`<p class="notices" role="status">
        ${left === 0 ? 'You have no recovery codes left.' : `Only ${left} recovery ${left === 1 ? 'code is' : 'codes are'} left.`}
        Make a new set so that you can still sign in if you lose your devices.
      </p>`
    : html`<p>${left} of ${RECOVERY_CODES_PER_SET} recovery codes are left. Each works once.</p>`;
}

/** What the 2FA page says of the person's recovery codes. */
export function recoveryCodesSummary(left: number, hasDevice: boolean): Html {
  if (!hasDevice) return codesLeft(left, false);
  return html`${codesLeft(left, true)}
    <p><a href="/2fa/recovery-codes">Recovery codes</a></p>`;
}

export function recoveryCodesPage(ctx: PageContext, left: number, hasDevice: boolean): Html {
  if (!hasDevice) return html`${codesLeft(left, false)} <p><a href="/2fa">Back to 2FA</a></p>`;
  return html`${codesLeft(left, true)}
    <form method="post" action="/2fa/recovery-codes" class="card narrow">
      ${csrfField(ctx.csrfToken)}
      <p>A new set replaces the old one: the codes you have now stop working.</p>
      <button type="submit">Generate new recovery codes</button>
    </form>
    <p><a href="/2fa">Back to 2FA</a></p>`;
}

/** A new set, shown once: the person keeps it by downloading, printing or writing it down. */
export function newRecoveryCodesPage(
  codes: readonly string[],
  download: string,
  next: string,
  lead: string | null,
): Html {
  return html`${lead === null ? '' : html`<p class="lead">${lead}</p>`}
    <p>
      Keep these ${codes.length} codes somewhere safe, away from your phone: a password manager, or on paper. Each code
      works once, instead of a code from your authenticator app. <strong>You will not see them again.</strong>
    </p>
    <ol class="recovery-codes">
      ${codes.map((code) => html`<li><code>${code}</code></li>`)}
    </ol>
    <p class="no-print actions">
      <a class="button" href="${download}" download="twofold-recovery-codes.txt">Download (.txt)</a>
      <span class="hint">To print them, use your browser's Print (Ctrl+P or ⌘P): only the codes are printed.</span>
    </p>
    <p class="no-print"><a class="button secondary" href="${next}">I have kept them, continue</a></p>`;
}
