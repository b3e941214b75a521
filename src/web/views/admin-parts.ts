// What the administration pages share: how a user's 2FA state reads, and the role picker.
import { mayGiveRole } from '../../domain/privileges.js';
import type { MustSetUpReason, TwoFactorStatus } from '../../domain/enforcement.js';
import { ROLE_LABELS, ROLES, type Role } from '../../domain/users.js';
import { html, type Html } from './html.js';

/** A date as the organisation reads it, with its time zone. */
export type When = (at: Date) => string;

const SET_UP_SUMMARIES: Record<MustSetUpReason, string> = {
  reset: 'Reset or reactivated: sets up at next sign-in',
  due_now: 'Required now: sets up at next sign-in',
  joined_after_start: 'Required: sets up at next sign-in',
  deadline_passed: 'Overdue: sets up at next sign-in',
};

/** Where a user stands with 2FA, in one cell of the users list: each fact once. */
export function twoFactorSummary(status: TwoFactorStatus, confirmedDevices: number, when: When): string {
  switch (status.kind) {
    case 'enrolled':
      if (status.required)
        return confirmedDevices === 1 ? 'On, as required (1 device)' : `On, as required (${confirmedDevices} devices)`;
      return confirmedDevices === 1 ? 'On (1 device)' : `On (${confirmedDevices} devices)`;
    case 'not_required':
      return 'Off';
    case 'grace':
      return `Due by ${when(status.deadline)}`;
    case 'must_set_up':
      return SET_UP_SUMMARIES[status.reason];
    case 'blocked':
      return 'Overdue: cannot sign in until given a new deadline';
  }
}

const SET_UP_SENTENCES: Record<MustSetUpReason, string> = {
  reset:
    'Their two-factor authentication was reset, or their account reactivated: they link a new device at their next sign-in.',
  due_now: 'Two-factor authentication is required of them now: they link a device at their next sign-in.',
  joined_after_start: 'Your organisation requires two-factor authentication: they link a device at their next sign-in.',
  deadline_passed: 'Their deadline has passed: they must link a device at their next sign-in.',
};

/** The same, as the sentences a user's page begins its 2FA section with. */
export function twoFactorSentences(status: TwoFactorStatus, confirmedDevices: number, when: When): string[] {
  switch (status.kind) {
    case 'enrolled':
      return [
        confirmedDevices === 1
          ? 'Two-factor authentication is on, with 1 linked device.'
          : `Two-factor authentication is on, with ${confirmedDevices} linked devices.`,
        status.required ? 'It is required of them.' : 'It is not required of them.',
      ];
    case 'not_required':
      return ['Two-factor authentication is off, and not required of them.'];
    case 'grace':
      return [`Two-factor authentication is required of them: they must link a device by ${when(status.deadline)}.`];
    case 'must_set_up':
      return [SET_UP_SENTENCES[status.reason]];
    case 'blocked':
      return ['Their deadline has passed: they cannot sign in until a super admin gives them a new deadline.'];
  }
}

/** The sentences shown beside the fields of a person's forms. */
export type ProfileProblems = Partial<Record<'name' | 'email' | 'role' | 'status' | 'deadline', string>>;

export interface ProfileValues {
  name: string;
  email: string;
  role: string;
  status: string;
}

export function roleSelect(actorRole: Role, selected: string, error: string | undefined, disabled: boolean): Html {
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
