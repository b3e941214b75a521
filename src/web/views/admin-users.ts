// The users list: who is in the organisation, and where each stands with two-factor authentication.
import { ROLE_LABELS } from '../../domain/users.js';
import type { UserOverview } from '../../services/administration.js';
import { twoFactorSummary, type When } from './admin-parts.js';
import { html, type Html } from './html.js';
import type { PageContext } from './layout.js';

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
