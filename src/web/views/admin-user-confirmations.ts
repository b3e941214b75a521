// What a super admin confirms on a user's behalf: removing one device, resetting 2FA.
import type { Device } from '../../domain/devices.js';
import type { DeviceRemoval } from '../../domain/enforcement.js';
import type { User } from '../../domain/users.js';
import { csrfField } from './forms.js';
import { html, type Html } from './html.js';
import type { PageContext } from './layout.js';

/** Asks before removing one of a user's devices; says why instead when it would be refused. */
export function removeUserDeviceConfirmation(
  ctx: PageContext,
  user: User,
  device: Device,
  removal: DeviceRemoval,
): Html {
  if (!removal.ok) {
    return html`<p>
        <strong>${device.name}</strong> is ${user.name}'s last device and two-factor authentication is required of
        them, so it cannot be removed on its own.
      </p>
      <p>
        If they still have it, they can add another device on their own Two-Factor Authentication page, then remove
        this one there. If they lost it, reset their two-factor authentication: they link a new device at their next
        sign-in.
      </p>
      <p class="actions">
        <a href="/admin/users/${user.id}/reset-2fa">Reset 2FA for ${user.name}</a>
        <a href="/admin/users/${user.id}">Back to ${user.name}</a>
      </p>`;
  }
  return html`<p>
      Remove <strong>${device.name}</strong> from ${user.name}'s two-factor authentication? Their sessions end now, and
      the device no longer gives codes for their account.
    </p>
    ${
      removal.turnsOffTwoFactor
        ? html`<p class="warning">
            This is their last device: removing it turns two-factor authentication off for their account.
          </p>`
        : ''
    }
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
        ${deviceCount === 1 ? 'Their linked device is removed.' : `All their ${deviceCount} linked devices are removed.`}
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
