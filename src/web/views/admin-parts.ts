// What the administration pages share: how a user's 2FA state reads, and the role picker.
import type { MustSetUpReason, TwoFactorStatus } from '../../domain/enforcement.js';
import { ROLE_LABELS, ROLES, type Role } from '../../domain/users.js';
import { html, type Html } from './html.js';

/** A date as the organisation reads it, with its time zone. */
export type When = (at: Date) => string;

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

export interface ProfileValues {
  name: string;
  email: string;
  role: string;
  status: string;
}

export function roleSelect(actorRole: Role, selected: string, error: string | undefined, disabled: boolean): Html {
  const roles = ROLES.filter((r) => r !== 'super_admin' || actorRole === 'super_admin' || selected === 'super_admin');
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
