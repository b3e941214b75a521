// The users list: who is in the organisation, and where each stands with two-factor authentication.
import { refusalOf } from '../../domain/privileges.js';
import { ROLE_LABELS, type User } from '../../domain/users.js';
import type { UserOverview } from '../../services/administration.js';
import { twoFactorSummary, type When } from './admin-parts.js';
import { html, type Html } from './html.js';
import type { PageContext } from './layout.js';

/** A person the actor may not open (an admin looking at a super admin) is listed without a link. */
function userRow(o: UserOverview, when: When, mayOpen: boolean): Html {
  const summary = twoFactorSummary(o.status, o.confirmedDevices, when);
  const name = mayOpen ? html`<a href="/admin/users/${o.user.id}">${o.user.name}</a>` : o.user.name;
  return html`<tr${o.overdue ? html` class="overdue"` : ''}>
    <td class="who">${name}<br /><span class="muted">${o.user.email}</span></td>
    <td class="role">${ROLE_LABELS[o.user.role]}</td>
    <td class="account">${o.user.status === 'active' ? 'Active' : 'Inactive'}</td>
    <td class="two-factor" data-label="2FA">${o.overdue ? html`<strong>${summary}</strong>` : summary}</td>
  </tr>`;
}

/** What the list shows: a search, and whether only active people without two-factor authentication. */
export interface UsersFilter {
  search: string;
  withoutTwoFactor: boolean;
}

function countSentence(total: number, { search, withoutTwoFactor }: UsersFilter): string {
  const users = total === 1 ? '1 user' : `${total} users`;
  const without = withoutTwoFactor ? ' without two-factor authentication' : '';
  return search === '' ? `${users}${without}.` : `${users}${without} matching “${search}”.`;
}

export function usersList(
  ctx: PageContext,
  actor: User,
  users: UserOverview[],
  filter: UsersFilter,
  page: number,
  pages: number,
  total: number,
  when: When,
): Html {
  const { search, withoutTwoFactor } = filter;
  const link = (p: number) =>
    `/admin/users?${new URLSearchParams({ q: search, ...(withoutTwoFactor ? { without: '2fa' } : {}), page: String(p) }).toString()}`;
  return html`<p><a class="button" href="/admin/users/new">Add a user</a></p>
    <form method="get" action="/admin/users" class="search" role="search">
      <label for="q">Search by name or email</label>
      <input id="q" name="q" type="search" value="${search}" />
      <label class="choice"
        ><input type="checkbox" name="without" value="2fa" ${withoutTwoFactor ? html`checked` : ''} /> Only active
        people without two-factor authentication</label
      >
      <button type="submit">Search</button>
    </form>
    <p>${countSentence(total, filter)}</p>
    ${
      users.length === 0
        ? ''
        : html`<div class="table-scroll">
            <table class="users">
              <caption>
                Users and their two-factor authentication
              </caption>
              <thead>
                <tr>
                  <th scope="col">User</th>
                  <th scope="col">Role</th>
                  <th scope="col">Account</th>
                  <th scope="col">Two-factor authentication</th>
                </tr>
              </thead>
              <tbody>
                ${users.map((o) => userRow(o, when, refusalOf(actor, { action: 'view-user', person: o.user }) === null))}
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
