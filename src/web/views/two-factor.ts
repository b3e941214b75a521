// The user's 2FA page, the set-up steps shared by it and the login setup screen.
import type { Device } from '../../domain/devices.js';
import { DEVICE_NAME_MAX_LENGTH } from '../../domain/devices.js';
import type { DeviceRemoval } from '../../domain/enforcement.js';
import type { PendingDevice } from '../../services/devices.js';
import { codeField, csrfField, field } from './forms.js';
import { html, type Html } from './html.js';
import type { PageContext } from './layout.js';

export const APPS_SENTENCE =
  'Any authenticator app that makes time-based codes works: Google Authenticator, Microsoft Authenticator, 1Password, Authy, Bitwarden and others.';

export function addDeviceForm(ctx: PageContext, action: string, name: string, problem: string | undefined): Html {
  return html`<form method="post" action="${action}" class="card">
    ${csrfField(ctx.csrfToken)}
    ${field({
      label: 'Device name',
      name: 'name',
      value: name,
      error: problem,
      maxlength: DEVICE_NAME_MAX_LENGTH,
      required: true,
      hint: 'A name you will recognise, such as the brand or model of your phone ("Pixel 8", "Work iPhone").',
    })}
    <button type="submit">Add</button>
  </form>`;
}

export function confirmDeviceSteps(
  ctx: PageContext,
  action: string,
  pending: PendingDevice,
  problem: string | undefined,
  cancelHref: string,
): Html {
  return html`<ol class="steps">
      <li>
        <p>Open your authenticator app, add an account, and scan this QR code.</p>
        <img
          class="qr"
          src="${pending.qrSvgDataUri}"
          width="240"
          height="240"
          alt="QR code to add ${pending.device.name} to your authenticator app"
        />
      </li>
      <li>
        <p>
          Cannot scan it? Choose to enter a key by hand in the app, and type this key. Spaces do not matter; the code is
          time-based.
        </p>
        <p class="secret">
          <code id="secret" aria-label="Secret key"
            >${pending.secretForTyping.split(' ').map((group, i) => html`${i > 0 ? ' ' : ''}<span class="group">${group}</span>`)}</code
          >
        </p>
      </li>
      <li>
        <p>
          Enter the 6-digit code the app now shows, and press Verify. The code changes every 30 seconds; if it expires
          before you press Verify, enter the new one.
        </p>
        <form method="post" action="${action}" class="card narrow">
          ${csrfField(ctx.csrfToken)} ${codeField(problem)}
          <button type="submit">Verify</button>
        </form>
      </li>
    </ol>
    <p><a href="${cancelHref}">Cancel</a> (nothing is linked until you verify a code)</p>`;
}

/** When the device last gave a code that signed in, or "Never": linking it is not a use. */
export function lastUsedOf(device: Device, when: (at: Date) => string): string {
  return device.lastUsedAt === null ? 'Never' : when(device.lastUsedAt);
}

function deviceRow(ctx: PageContext, device: Device, when: (at: Date) => string, removable: boolean): Html {
  return html`<tr>
    <td data-label="Device">${device.name}</td>
    <td data-label="Kind">${device.kind === 'webauthn' ? 'Security key or passkey' : 'Authenticator app'}</td>
    <td data-label="Added">${when(device.createdAt)}</td>
    <td data-label="Last used">${lastUsedOf(device, when)}</td>
    <td>
      ${removable ? html`<a href="/2fa/devices/${device.id}/remove" aria-label="Remove ${device.name}">Remove</a>` : ''}
    </td>
  </tr>`;
}

/** Where the 2FA page offers to add a device. */
export const ADD_DEVICE_HREF = '/2fa#add-device';

/** Why the only device has no Remove link, and what to do to replace it. */
function lastDeviceStaysNote(): Html {
  return html`<p class="note" role="note">
    Your organisation requires two-factor authentication, so your only device cannot be removed. To replace it,
    <a href="${ADD_DEVICE_HREF}">add the new device</a> first; then you can remove the old one.
  </p>`;
}

/**
 * The confirmed devices, each with a Remove link unless removing it would be refused
 * (`lastDeviceStays`: the only one, and 2FA is required).
 */
export function devicesTable(
  ctx: PageContext,
  devices: Device[],
  when: (at: Date) => string,
  lastDeviceStays: boolean,
): Html {
  if (devices.length === 0) return html`<p>You have no linked devices.</p>`;
  return html`<div class="table-scroll">
      <table class="stack">
        <caption>
          Your linked devices
        </caption>
        <thead>
          <tr>
            <th scope="col">Device</th>
            <th scope="col">Kind</th>
            <th scope="col">Added</th>
            <th scope="col">Last used</th>
            <th scope="col"><span class="visually-hidden">Actions</span></th>
          </tr>
        </thead>
        <tbody>
          ${devices.map((d) => deviceRow(ctx, d, when, !lastDeviceStays))}
        </tbody>
      </table>
    </div>
    ${lastDeviceStays ? lastDeviceStaysNote() : ''}`;
}

/** Asks before removing a device; says why instead when the removal would be refused. */
export function removeDeviceConfirmation(ctx: PageContext, device: Device, removal: DeviceRemoval): Html {
  if (!removal.ok) {
    return html`<p>
        <strong>${device.name}</strong> is your last device and your organisation requires two-factor
        authentication, so it cannot be removed.
      </p>
      <p>To replace it, add the new device first. Then you can remove ${device.name}.</p>
      <p class="actions"><a class="button" href="${ADD_DEVICE_HREF}">Add a device</a> <a href="/2fa">Back to your devices</a></p>`;
  }
  return html`<p>
      Remove <strong>${device.name}</strong>? It will no longer give codes for signing in to your account.
    </p>
    ${
      removal.turnsOffTwoFactor
        ? html`<p class="warning">
            This is your last device: removing it turns two-factor authentication off for your account.
          </p>`
        : ''
    }
    <form method="post" action="/2fa/devices/${device.id}/remove" class="actions">
      ${csrfField(ctx.csrfToken)}
      <button type="submit" class="danger">Remove ${device.name}</button>
      <a href="/2fa">Cancel</a>
    </form>`;
}

/**
 * The setup screen when only security keys and passkeys are allowed: what to do, and what
 * a person whose browser cannot use one can do instead.
 */
export function keysOnlySetup(lead: string, holdsAKey: boolean): Html {
  return html`<p class="lead">${lead}</p>
    <ol class="steps">
      <li>
        Have a security key (such as a YubiKey) at hand, or use the passkeys of your phone, computer or password
        manager.
      </li>
      <li>Name it, press Add the key, and follow your browser’s prompt.</li>
      <li>Keep the recovery codes you are shown if this is your first device.</li>
    </ol>
    <p><a href="/setup/security-keys">Add a security key or passkey</a></p>
    ${
      holdsAKey
        ? html`<p>You already have a security key or passkey here: signing out and in again with it also lets you go on.</p>`
        : ''
    }
    <p class="hint">
      Security keys and passkeys need JavaScript and a browser that supports them (a recent Chrome, Edge, Firefox or
      Safari). If this browser cannot use them, sign out and sign in from one that can, or ask your administrator for
      help: an authenticator app cannot be linked in your organisation.
    </p>`;
}
