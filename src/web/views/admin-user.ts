// A user's page for administrators: profile, two-factor authentication, password link.
import type { CodeAttempts } from '../../domain/code-attempts.js';
import type { Device } from '../../domain/devices.js';
import type { User } from '../../domain/users.js';
import type { FieldProblems, UserOverview } from '../../services/administration.js';
import { roleSelect, twoFactorSentences, type ProfileValues, type When } from './admin-parts.js';
import { csrfField, errorSummary, field } from './forms.js';
import { html, type Html } from './html.js';
import type { PageContext } from './layout.js';
import { lastUsedOf } from './two-factor.js';

export interface UserPageData {
  actor: User;
  overview: UserOverview;
  devices: Device[];
  codeAttempts: CodeAttempts;
  now: Date;
  values: ProfileValues;
  problems: FieldProblems;
  deadlineValue: string;
  timeZone: string;
  organisationRequires: boolean;
  /** Their only device, and 2FA is required of them: removing it would be refused. */
  lastDeviceStays: boolean;
}

export function userPage(ctx: PageContext, d: UserPageData, when: When): Html {
  const { user } = d.overview;
  const self = d.actor.id === user.id;
  const superAdmin = d.actor.role === 'super_admin';
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
            Deactivating ends their sessions and stops them signing in. Reactivating clears their devices: they set up
            two-factor authentication again at their next sign-in.
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
      ${lockSection(ctx, user, d.codeAttempts, d.now, when)}
      ${
        d.devices.length === 0
          ? html`<p>No linked devices.</p>`
          : html`<div class="table-scroll">
              <table>
                <caption>
                  Linked devices
                </caption>
                <thead>
                  <tr>
                    <th scope="col">Device</th>
                    <th scope="col">Added</th>
                    <th scope="col">Last used</th>
                    ${superAdmin ? html`<th scope="col"><span class="visually-hidden">Actions</span></th>` : ''}
                  </tr>
                </thead>
                <tbody>
                  ${d.devices.map(
                    (dev) =>
                      html`<tr>
                        <td>${dev.name}</td>
                        <td>${when(dev.createdAt)}</td>
                        <td>${lastUsedOf(dev, when)}</td>
                        ${
                          superAdmin
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
              superAdmin && d.lastDeviceStays
                ? html`<p class="note" role="note">
                    This is ${user.name}'s only device and two-factor authentication is required of them, so it cannot
                    be removed on its own. If they lost it, use Reset 2FA below: they link a new device at their next
                    sign-in.
                  </p>`
                : ''
            }`
      }
      ${
        superAdmin
          ? html` <form method="post" action="/admin/users/${user.id}/2fa" class="card">
                ${csrfField(ctx.csrfToken)}
                ${d.organisationRequires ? html`<p class="hint">Your organisation requires two-factor authentication for everyone; the box below matters only if that requirement is cancelled before it starts.</p>` : ''}
                <label class="choice"
                  ><input
                    type="checkbox"
                    name="required"
                    value="yes"
                    ${user.twoFactor.requiredIndividually ? html`checked` : ''}
                  />
                  Require two-factor authentication</label
                >
                ${field({
                  label: `Personal deadline (${d.timeZone})`,
                  name: 'deadline',
                  type: 'datetime-local',
                  value: d.deadlineValue,
                  error: d.problems.deadline,
                  hint: 'Optional. The date by which they must link a device. It replaces the organisation’s start date for them, so it can give someone who missed it more time. Without one, a requirement for this user alone is due at their next sign-in.',
                })}
                <button type="submit">Save two-factor settings</button>
              </form>
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

function lockSection(ctx: PageContext, user: User, attempts: CodeAttempts, now: Date, when: When): Html | '' {
  const locked = attempts.lockedUntil !== null && attempts.lockedUntil.getTime() > now.getTime();
  if (!locked && attempts.failures === 0) return '';
  return html`<div class="${locked ? 'warning' : 'hint'}" role="note">
    <p>
      ${
        locked && attempts.lockedUntil !== null
          ? html`<strong>Second factor locked</strong> until ${when(attempts.lockedUntil)}, after ${attempts.failures} wrong
            codes in a row. ${user.name} cannot sign in with a code until then.`
          : html`${attempts.failures} wrong ${attempts.failures === 1 ? 'code' : 'codes'} in a row since the last right one.`
      }
    </p>
    <form method="post" action="/admin/users/${user.id}/unlock-2fa">
      ${csrfField(ctx.csrfToken)}
      <button type="submit" class="secondary">${locked ? 'Unlock now' : 'Clear the count'}</button>
    </form>
  </div>`;
}
