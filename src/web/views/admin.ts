// Administration pages: the users list, a user's page, and the Manage 2FA page.
import type { Device } from '../../domain/devices.js';
import type { AfterDeadline, MustSetUpReason, PolicyPhase, TwoFactorStatus } from '../../domain/enforcement.js';
import { mayGiveRole, refusalOf, type AdminAction } from '../../domain/privileges.js';
import { ROLE_LABELS, ROLES, type Role, type User } from '../../domain/users.js';
import type { CodeAttempts } from '../../domain/code-attempts.js';
import type { FieldProblems, UserOverview } from '../../services/administration.js';
import { csrfField, errorSummary, field } from './forms.js';
import { html, type Html } from './html.js';
import type { PageContext } from './layout.js';

type When = (at: Date) => string;

const SET_UP_SUMMARIES: Record<MustSetUpReason, string> = {
  reset: 'Reset: sets up at next sign-in',
  due_now: 'Required now: sets up at next sign-in',
  joined_after_start: 'Sets up at next sign-in',
  deadline_passed: 'Overdue: sets up at next sign-in',
};

export function twoFactorSummary(status: TwoFactorStatus, when: When): string {
  switch (status.kind) {
    case 'enrolled':
      return 'On';
    case 'not_required':
      return 'Off';
    case 'grace':
      return `Due by ${when(status.deadline)}`;
    case 'must_set_up':
      return SET_UP_SUMMARIES[status.reason];
    case 'blocked':
      return 'Overdue: cannot sign in';
  }
}

function userRow(o: UserOverview, when: When): Html {
  return html`<tr${o.overdue ? html` class="overdue"` : ''}>
    <td data-label="User"><div><a href="/admin/users/${o.user.id}">${o.user.name}</a><br><span class="muted">${o.user.email}</span></div></td>
    <td data-label="Role">${ROLE_LABELS[o.user.role]}</td>
    <td data-label="Status">${o.user.status === 'active' ? 'Active' : 'Inactive'}</td>
    <td data-label="Enrolled">${o.confirmedDevices > 0 ? 'Yes' : 'No'}</td>
    <td data-label="Devices">${o.confirmedDevices}</td>
    <td data-label="Required">${o.required ? 'Yes' : 'No'}</td>
    <td data-label="Deadline">${o.deadline === null ? (o.required ? 'Now' : '') : when(o.deadline)}</td>
    <td data-label="2FA state"><div>${o.overdue ? html`<strong class="badge">Overdue</strong> ` : ''}${twoFactorSummary(o.status, when)}</div></td>
  </tr>`;
}

export function usersList(
  ctx: PageContext,
  users: UserOverview[],
  search: string,
  page: number,
  pages: number,
  total: number,
  when: When,
): Html {
  const link = (p: number) => `/admin/users?${new URLSearchParams({ q: search, page: String(p) }).toString()}`;
  return html`<p><a class="button" href="/admin/users/new">Add a user</a></p>
    <form method="get" action="/admin/users" class="search" role="search">
      <label for="q">Search by name or email</label>
      <input id="q" name="q" type="search" value="${search}" />
      <button type="submit">Search</button>
    </form>
    <p>${total === 1 ? '1 user' : `${total} users`}${search ? html` matching “${search}”` : ''}.</p>
    ${
      users.length === 0
        ? ''
        : html`<div class="table-scroll">
            <table class="stack">
              <caption>
                Users and their two-factor authentication
              </caption>
              <thead>
                <tr>
                  <th scope="col">User</th>
                  <th scope="col">Role</th>
                  <th scope="col">Status</th>
                  <th scope="col">Enrolled</th>
                  <th scope="col">Devices</th>
                  <th scope="col">Required</th>
                  <th scope="col">Deadline</th>
                  <th scope="col">2FA state</th>
                </tr>
              </thead>
              <tbody>
                ${users.map((o) => userRow(o, when))}
              </tbody>
            </table>
          </div>`
    }
    ${
      pages > 1
        ? html`<nav aria-label="Pages" class="pager">
            ${page > 1 ? html`<a href="${link(page - 1)}" rel="prev">Previous</a>` : ''}
            <span>Page ${page} of ${pages}</span>
            ${page < pages ? html`<a href="${link(page + 1)}" rel="next">Next</a>` : ''}
          </nav>`
        : ''
    }`;
}

function roleSelect(actorRole: Role, selected: string, error: string | undefined, disabled: boolean): Html {
  const roles = ROLES.filter((r) => mayGiveRole(actorRole, r) || r === selected);
  return html`<div class="field${error ? ' has-error' : ''}">
    <label for="field-role">Role</label>
    <p class="hint" id="field-role-hint">
      Admins manage users. Super admins also manage two-factor authentication settings.
    </p>
    ${error ? html`<p class="error" id="field-role-error">${error}</p>` : ''}
    <select
      id="field-role"
      name="role"
      aria-describedby="field-role-hint${error ? ' field-role-error' : ''}"
      ${disabled ? html`disabled` : ''}
    >
      ${roles.map((r) => html`<option value="${r}" ${r === selected ? html`selected` : ''}>${ROLE_LABELS[r]}</option>`)}
    </select>
    ${disabled ? html`<input type="hidden" name="role" value="${selected}" />` : ''}
  </div>`;
}

export interface ProfileValues {
  name: string;
  email: string;
  role: string;
  status: string;
}

export function newUserForm(ctx: PageContext, actorRole: Role, values: ProfileValues, problems: FieldProblems): Html {
  return html`${errorSummary(problems)}
    <p>The new user gets a one-time link to set their own password. You will see it on the next page.</p>
    <form method="post" action="/admin/users" class="card">
      ${csrfField(ctx.csrfToken)}
      ${field({ label: 'Name', name: 'name', value: values.name, error: problems.name, required: true, autocomplete: 'off' })}
      ${field({ label: 'Email address', name: 'email', type: 'email', value: values.email, error: problems.email, required: true, autocomplete: 'off' })}
      ${roleSelect(actorRole, values.role, problems.role, false)}
      <button type="submit">Create user</button>
    </form>`;
}

export function linkIssued(user: User, link: string, validUntil: string, purpose: 'invite' | 'reset'): Html {
  return html`<p>
      ${purpose === 'invite' ? 'The account is created.' : 'A new set-password link is ready.'} Give this link to
      <strong>${user.name}</strong> (${user.email}) yourself, by a channel you trust: sending it by email is not
      available yet.
    </p>
    <p class="secret link"><code>${link}</code></p>
    <p>
      It works once, until ${validUntil}. It will not be shown again; you can always create a new one, which voids this
      one. ${purpose === 'reset' ? 'Setting a new password does not change their two-factor authentication.' : ''}
    </p>
    <p><a href="/admin/users/${user.id}">Back to ${user.name}</a> · <a href="/admin/users">All users</a></p>`;
}

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
      <p><strong>${twoFactorSummary(d.overview.status, when)}</strong>${d.overview.overdue ? ' (overdue)' : ''}.</p>
      ${lockSection(ctx, user, d.codeAttempts, d.now, when, may('unlock-2fa'))}
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
                    ${may('remove-device') ? html`<th scope="col"><span class="visually-hidden">Actions</span></th>` : ''}
                  </tr>
                </thead>
                <tbody>
                  ${d.devices.map(
                    (dev) =>
                      html`<tr>
                        <td>${dev.name}</td>
                        <td>${when(dev.createdAt)}</td>
                        <td>${dev.lastUsedAt ? when(dev.lastUsedAt) : 'Not yet'}</td>
                        ${
                          may('remove-device')
                            ? html`<td>
                              <a href="/admin/users/${user.id}/devices/${dev.id}/remove" aria-label="Remove ${dev.name}"
                                >Remove</a
                              >
                            </td>`
                            : ''
                        }
                      </tr>`,
                  )}
                </tbody>
              </table>
            </div>`
      }
      ${
        may('set-2fa-requirement') && may('reset-2fa')
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
          : html`${attempts.failures} wrong ${attempts.failures === 1 ? 'code' : 'codes'} in a row since the last right one.`
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

export interface PolicyPageData {
  phase: PolicyPhase;
  start: Date | null;
  afterDeadline: AfterDeadline;
  timeZone: string;
  startValue: string;
  problem: string | null;
}

function requirementSection(ctx: PageContext, d: PolicyPageData, when: When): Html {
  const problem = d.problem === null ? '' : html`<div class="error-summary" role="alert"><p>${d.problem}</p></div>`;
  if (d.phase === 'active' && d.start !== null) {
    return html`${problem}
      <div class="locked" role="note">
        <p>
          <strong>Locked.</strong> Two-factor authentication is required for everyone in the organisation since
          ${when(d.start)}. It cannot be turned off.
        </p>
      </div>`;
  }
  const scheduled = d.phase === 'scheduled' && d.start !== null;
  return html`${scheduled && d.start !== null ? html`<p class="lead">Two-factor authentication will be required for everyone from <strong>${when(d.start)}</strong>. Until then you can change the date or cancel. From that moment it cannot be turned off.</p>` : html`<p class="lead">Two-factor authentication is not required for everyone. You can require it for chosen users on their pages.</p>`}
    ${problem}
    <form method="post" action="/admin/2fa/requirement" class="card">
      ${csrfField(ctx.csrfToken)}
      <fieldset>
        <legend>${scheduled ? 'Change when it starts' : 'Require two-factor authentication for everyone'}</legend>
        <label class="choice"
          ><input type="radio" name="start" value="date" checked /> From a date: people can link their devices until
          then</label
        >
        ${field({ label: `Start date and time (${d.timeZone})`, name: 'date', type: 'datetime-local', value: d.startValue })}
        <label class="choice"><input type="radio" name="start" value="now" /> Starting now</label>
      </fieldset>
      <label class="choice"
        ><input type="checkbox" name="understood" value="yes" required /> I understand that once it starts, the
        requirement cannot be turned off.</label
      >
      <button type="submit">${scheduled ? 'Save start' : 'Require 2FA for everyone'}</button>
    </form>
    ${
      scheduled
        ? html`<form method="post" action="/admin/2fa/cancel">
            ${csrfField(ctx.csrfToken)}
            <button type="submit" class="secondary">Cancel the requirement</button>
          </form>`
        : ''
    }`;
}

export function policyPage(ctx: PageContext, d: PolicyPageData, when: When): Html {
  return html`<section aria-labelledby="requirement-heading">
      <h2 id="requirement-heading">Everyone in the organisation</h2>
      ${requirementSection(ctx, d, when)}
    </section>
    <section aria-labelledby="after-heading">
      <h2 id="after-heading">After a deadline has passed</h2>
      <form method="post" action="/admin/2fa/after-deadline" class="card">
        ${csrfField(ctx.csrfToken)}
        <fieldset>
          <legend>What happens to a user without a device once their deadline has passed</legend>
          <label class="choice"
            ><input
              type="radio"
              name="afterDeadline"
              value="set_up_at_login"
              ${d.afterDeadline === 'set_up_at_login' ? html`checked` : ''}
            />
            They must set one up at their next sign-in</label
          >
          <label class="choice"
            ><input
              type="radio"
              name="afterDeadline"
              value="block"
              ${d.afterDeadline === 'block' ? html`checked` : ''}
            />
            They cannot sign in until an administrator gives them a new deadline</label
          >
        </fieldset>
        <p class="hint">
          Either way, someone who never had a date (added after the start, required on their own without a deadline, or
          reset) sets up at their next sign-in.
        </p>
        <button type="submit">Save</button>
      </form>
    </section>
    <section aria-labelledby="tz-heading">
      <h2 id="tz-heading">Time zone</h2>
      <form method="post" action="/admin/2fa/time-zone" class="card">
        ${csrfField(ctx.csrfToken)}
        ${field({ label: 'Time zone for dates and deadlines', name: 'timeZone', value: d.timeZone, hint: 'An IANA time zone name such as Europe/Amsterdam, America/New_York or UTC.', required: true })}
        <button type="submit">Save time zone</button>
      </form>
    </section>`;
}
