// A user's page for administrators: profile, two-factor authentication, password link.
import type { CodeAttempts } from '../../domain/code-attempts.js';
import type { Device } from '../../domain/devices.js';
import { refusalOf, type AdminAction } from '../../domain/privileges.js';
import type { User } from '../../domain/users.js';
import type { UserOverview } from '../../services/administration.js';
import { roleSelect, twoFactorSentences, type ProfileProblems, type ProfileValues, type When } from './admin-parts.js';
import { csrfField, errorSummary, field } from './forms.js';
import { html, type Html } from './html.js';
import type { PageContext } from './layout.js';
import { lastUsedOf } from './two-factor.js';
import { RECOVERY_CODES_PER_SET } from '../../domain/recovery-codes.js';

export interface UserPageData {
  actor: User;
  overview: UserOverview;
  devices: Device[];
  /** Their recovery codes not yet used. */
  recoveryCodesLeft: number;
  codeAttempts: CodeAttempts;
  now: Date;
  values: ProfileValues;
  problems: ProfileProblems;
  deadlineValue: string;
  timeZone: string;
  /** The organisation-wide requirement: none, starting at `start`, or in force since then. */
  requirement: { phase: 'off' } | { phase: 'scheduled' | 'active'; start: Date };
  /** Their only device, and 2FA is required of them: removing it would be refused. */
  lastDeviceStays: boolean;
}

export function userPage(ctx: PageContext, d: UserPageData, when: When): Html {
  const { user } = d.overview;
  const self = d.actor.id === user.id;
  // Only what the viewer may do is offered; the server checks each action again.
  const may = (action: AdminAction) => refusalOf(d.actor, { action, person: user }) === null;
  return html`${errorSummary(d.problems)}
    <section aria-labelledby="profile-heading">
      <h2 id="profile-heading">Profile</h2>
      <form method="post" action="/admin/users/${user.id}" class="card">
        ${csrfField(ctx.csrfToken)}
        ${field({ label: 'Name', name: 'name', value: d.values.name, error: d.problems.name, required: true, autocomplete: 'off' })}
        ${field({ label: 'Email address', name: 'email', type: 'email', value: d.values.email, error: d.problems.email, required: true, autocomplete: 'off' })}
        ${roleSelect(d.actor.role, d.values.role, d.problems.role, self)}
        <fieldset class="field${d.problems.status ? ' has-error' : ''}">
          <legend>Status</legend>
          ${d.problems.status ? html`<p class="error">${d.problems.status}</p>` : ''}
          <p class="hint">
            Deactivating ends their sessions and stops them signing in. Reactivating lets them sign in again as before,
            with the devices they had linked.
          </p>
          <label class="choice"
            ><input
              type="radio"
              name="status"
              value="active"
              ${d.values.status === 'active' ? html`checked` : ''}
              ${self ? html`disabled` : ''}
            />
            Active</label
          >
          <label class="choice"
            ><input
              type="radio"
              name="status"
              value="inactive"
              ${d.values.status === 'inactive' ? html`checked` : ''}
              ${self ? html`disabled` : ''}
            />
            Inactive</label
          >
          ${self ? html`<input type="hidden" name="status" value="${d.values.status}" />` : ''}
        </fieldset>
        <button type="submit">Save profile</button>
      </form>
    </section>

    <section aria-labelledby="twofa-heading">
      <h2 id="twofa-heading">Two-factor authentication</h2>
      <p>${twoFactorSentences(d.overview.status, d.overview.confirmedDevices, when).join(' ')}</p>
      ${lockSection(ctx, user, d.codeAttempts, d.now, when, may('unlock-2fa'))}
      <p>
        ${
          d.recoveryCodesLeft === 0
            ? 'No recovery codes.'
            : `Recovery codes left: ${d.recoveryCodesLeft} of ${RECOVERY_CODES_PER_SET}.`
        }
      </p>
      ${
        d.devices.length === 0
          ? html`<p>No linked devices.</p>`
          : html`<div class="table-scroll">
              <table class="stack">
                <caption>
                  Linked devices
                </caption>
                <thead>
                  <tr>
                    <th scope="col">Device</th>
                    <th scope="col">Added</th>
                    <th scope="col">Last used</th>
                    ${may('remove-device') ? html`<th scope="col"><span class="visually-hidden">Actions</span></th>` : ''}
                  </tr>
                </thead>
                <tbody>
                  ${d.devices.map(
                    (dev) =>
                      html`<tr>
                        <td data-label="Device">${dev.name}</td>
                        <td data-label="Added">${when(dev.createdAt)}</td>
                        <td data-label="Last used">${lastUsedOf(dev, when)}</td>
                        ${
                          may('remove-device')
                            ? html`<td>
                              ${
                                d.lastDeviceStays
                                  ? ''
                                  : html`<a
                                      href="/admin/users/${user.id}/devices/${dev.id}/remove"
                                      aria-label="Remove ${dev.name}"
                                      >Remove</a
                                    >`
                              }
                            </td>`
                            : ''
                        }
                      </tr>`,
                  )}
                </tbody>
              </table>
            </div>
            ${
              may('remove-device') && may('reset-2fa') && d.lastDeviceStays
                ? html`<p class="note" role="note">
                    This is ${user.name}'s only device and two-factor authentication is required of them, so it cannot
                    be removed on its own. If they lost it, use Reset 2FA below: they link a new device at their next
                    sign-in.
                  </p>`
                : ''
            }`
      }
      ${
        may('set-2fa-requirement') && may('reset-2fa')
          ? html`${twoFactorSettingsForm(ctx, d, when)}
              <p><a class="button danger" href="/admin/users/${user.id}/reset-2fa">Reset 2FA</a></p>`
          : html`<p class="hint">Only super admins can change two-factor settings or reset them.</p>`
      }
    </section>

    <section aria-labelledby="password-heading">
      <h2 id="password-heading">Password</h2>
      <p>
        If ${user.name} forgot their password, create a one-time link on which they set a new one. Their two-factor
        authentication stays as it is.
      </p>
      <form method="post" action="/admin/users/${user.id}/password-link">
        ${csrfField(ctx.csrfToken)}
        <button type="submit">Create a set-password link</button>
      </form>
    </section>`;
}

/**
 * The per-user requirement and deadline, said as they work in the organisation's phase:
 * with a requirement for everyone in force the box cannot matter, so it is not shown.
 */
function twoFactorSettingsForm(ctx: PageContext, d: UserPageData, when: When): Html {
  const { user } = d.overview;
  const { requirement } = d;
  const box = html`<label class="choice"
    ><input
      type="checkbox"
      name="required"
      value="yes"
      ${user.twoFactor.requiredIndividually ? html`checked` : ''}
    />
    Require two-factor authentication</label
  >`;
  let about: Html;
  let deadlineHint: string;
  switch (requirement.phase) {
    case 'off':
      about = box;
      deadlineHint =
        'Optional, and only with the box ticked. The date by which they must link a device. Without one, they must link a device at their next sign-in.';
      break;
    case 'scheduled':
      about = html`<p class="note">
          Your organisation will require two-factor authentication of everyone from ${when(requirement.start)}. Ticking
          the box requires it of ${user.name} now, whatever becomes of that requirement: at their next sign-in, or by
          their personal deadline if you give one.
        </p>
        ${box}`;
      deadlineHint =
        'Optional. The date by which they must link a device. It replaces the organisation’s start date for them, so it can give them more time or less.';
      break;
    case 'active':
      // Kept as it is: with the requirement for everyone in force it changes nothing.
      about = html`<p class="note">
          Your organisation has required two-factor authentication of everyone since ${when(requirement.start)}, and
          that cannot be turned off, so it is required of ${user.name} too.
        </p>
        ${user.twoFactor.requiredIndividually ? html`<input type="hidden" name="required" value="yes" />` : ''}`;
      deadlineHint =
        'Optional. The date by which they must link a device. It replaces the organisation’s start date for them, so it can give someone who missed it more time.';
      break;
  }
  return html`<form method="post" action="/admin/users/${user.id}/2fa" class="card">
    ${csrfField(ctx.csrfToken)} ${about}
    ${field({
      label: `Personal deadline in ${d.timeZone}`,
      name: 'deadline',
      type: 'datetime-local',
      value: d.deadlineValue,
      error: d.problems.deadline,
      hint: deadlineHint,
    })}
    <button type="submit">Save two-factor settings</button>
  </form>`;
}

function lockSection(
  ctx: PageContext,
  user: User,
  attempts: CodeAttempts,
  now: Date,
  when: When,
  mayUnlock: boolean,
): Html | '' {
  const locked = attempts.lockedUntil !== null && attempts.lockedUntil.getTime() > now.getTime();
  if (!locked && attempts.failures === 0) return '';
  return html`<div class="${locked ? 'warning' : 'hint'}" role="note">
    <p>
      ${
        locked && attempts.lockedUntil !== null
          ? html`<strong>Second factor locked</strong> until ${when(attempts.lockedUntil)}, after ${attempts.failures} wrong
            codes in a row. ${user.name} cannot sign in with a code until then.`
          : attempts.failures === 1
            ? '1 wrong code since the last right one.'
            : `${attempts.failures} wrong codes in a row since the last right one.`
      }
    </p>
    ${
      mayUnlock
        ? html`<form method="post" action="/admin/users/${user.id}/unlock-2fa">
            ${csrfField(ctx.csrfToken)}
            <button type="submit" class="secondary">${locked ? 'Unlock now' : 'Clear the count'}</button>
          </form>`
        : html`<p>${locked ? 'Only a super admin can unlock it sooner.' : 'Only a super admin can clear the count.'}</p>`
    }
  </div>`;
}
