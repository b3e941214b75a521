// The "Add a user" form, and the page that hands over a one-time set-password link.
import type { Role, User } from '../../domain/users.js';
import { roleSelect, type ProfileProblems, type ProfileValues } from './admin-parts.js';
import { csrfField, errorSummary, field } from './forms.js';
import { html, type Html } from './html.js';
import type { PageContext } from './layout.js';

export function newUserForm(ctx: PageContext, actorRole: Role, values: ProfileValues, problems: ProfileProblems): Html {
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
      ${purpose === 'invite' ? 'The account is created.' : 'A new set-password link is ready.'} We have emailed this
      link to <strong>${user.name}</strong> (${user.email}). If the email does not arrive, give it to them yourself, by
      a channel you trust.
    </p>
    <p class="secret link"><code>${link}</code></p>
    <p>
      It works once, until ${validUntil}. It will not be shown again; you can always create a new one, which voids this
      one. ${purpose === 'reset' ? 'Setting a new password does not change their two-factor authentication.' : ''}
    </p>
    <p><a href="/admin/users/${user.id}">Back to ${user.name}</a> · <a href="/admin/users">All users</a></p>`;
}
