// What a super admin confirms on a user's behalf: removing one device, resetting 2FA.
import type { Device } from '../../domain/devices.js';
import type { User } from '../../domain/users.js';
import { csrfField } from './forms.js';
import { html, type Html } from './html.js';
import type { PageContext } from './layout.js';

export function removeUserDeviceConfirmation(ctx: PageContext, user: User, device: Device): Html {
  return html`<p>
      Remove <strong>${device.name}</strong> from ${user.name}'s two-factor authentication? Their sessions end now, and
      the device no longer gives codes for their account.
    </p>
    <form method="post" action="/admin/users/${user.id}/devices/${device.id}/remove" class="actions">
      ${csrfField(ctx.csrfToken)}
      <button type="submit" class="danger">Remove ${device.name}</button>
      <a href="/admin/users/${user.id}">Cancel</a>
    </form>`;
}

export function resetConfirmation(ctx: PageContext, user: User, deviceCount: number): Html {
  return html`<p>Reset two-factor authentication for <strong>${user.name}</strong> (${user.email})?</p>
    <ul>
      <li>
        All ${deviceCount === 1 ? 'their 1 linked device is' : `their ${deviceCount} linked devices are`} removed.
      </li>
      <li>Their sessions end now.</li>
      <li>At their next sign-in they are shown the setup screen and must link an authenticator app again.</li>
    </ul>
    <form method="post" action="/admin/users/${user.id}/reset-2fa" class="actions">
      ${csrfField(ctx.csrfToken)}
      <button type="submit" class="danger">Reset 2FA for ${user.name}</button>
      <a href="/admin/users/${user.id}">Cancel</a>
    </form>`;
}
