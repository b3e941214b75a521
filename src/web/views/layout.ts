// The page shell: navigation for who is signed in, the 2FA reminder banner, flash messages.
import { roleMay } from '../../domain/privileges.js';
import type { Role } from '../../domain/users.js';
import { html, type Html } from './html.js';

export interface Viewer {
  name: string;
  email: string;
  role: Role;
  organisationName: string;
}

export interface PageContext {
  csrfToken: string;
  /** Null before a login is complete: a pending login shows no navigation. */
  viewer: Viewer | null;
  /** True while a login is pending, so the page offers a way out. */
  pending: boolean;
  flash: string | null;
  /** `setUpHref`: where "Set it up now" leads; the 2FA page, with the way back to a sign-in waiting for this one. */
  reminder: { deadline: string; daysLeft: number; setUpHref: string } | null;
  path: string;
}

function navLink(ctx: PageContext, href: string, label: string): Html {
  const current = ctx.path === href || ctx.path.startsWith(`${href}/`);
  return html`<li><a href="${href}" ${current ? html`aria-current="page"` : ''}>${label}</a></li>`;
}

function signOutForm(ctx: PageContext, label = 'Sign out'): Html {
  return html`<form method="post" action="/logout" class="inline">
    <input type="hidden" name="_csrf" value="${ctx.csrfToken}" />
    <button type="submit" class="link-button">${label}</button>
  </form>`;
}

function header(ctx: PageContext): Html {
  const viewer = ctx.viewer;
  if (viewer === null) {
    return html`<header class="top">
      <span class="brand">Twofold</span>${ctx.pending ? signOutForm(ctx, 'Cancel and sign out') : ''}
    </header>`;
  }
  return html`<header class="top">
    <span class="brand">Twofold <span class="org">${viewer.organisationName}</span></span>
    <nav aria-label="Main">
      <ul>
        ${navLink(ctx, '/account', 'Account')} ${navLink(ctx, '/2fa', 'Two-Factor Authentication (2FA)')}
        ${roleMay(viewer.role, 'list-users') ? navLink(ctx, '/admin/users', 'Users') : ''}
        ${roleMay(viewer.role, 'view-audit') ? navLink(ctx, '/admin/audit', 'Audit log') : ''}
        ${roleMay(viewer.role, 'manage-policy') ? navLink(ctx, '/admin/2fa', 'Manage 2FA') : ''}
        ${roleMay(viewer.role, 'manage-applications') ? navLink(ctx, '/admin/applications', 'Applications') : ''}
        ${roleMay(viewer.role, 'manage-email') ? navLink(ctx, '/admin/email', 'Email') : ''}
      </ul>
    </nav>
    <span class="who">${viewer.email}</span>
    ${signOutForm(ctx)}
  </header>`;
}

function reminderBanner(ctx: PageContext): Html | '' {
  if (ctx.reminder === null) return '';
  const { deadline, daysLeft, setUpHref } = ctx.reminder;
  const sentence =
    daysLeft === 1
      ? `Set up two-factor authentication before ${deadline} (1 day left).`
      : `Set up two-factor authentication before ${deadline} (${daysLeft} days left).`;
  return html`<div class="banner" role="status">
    ${sentence}
    <a href="${setUpHref}">Set it up now</a>
  </div>`;
}

/**
 * A whole page. With `moveOnTo`, the browser goes on to that address of this site as soon as
 * the page is shown: a meta refresh, which needs no script.
 */
export function page(ctx: PageContext, title: string, body: Html, moveOnTo?: string): string {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        ${moveOnTo === undefined ? '' : html`<meta http-equiv="refresh" content="0;url=${moveOnTo}" />`}
        <title>${title} · Twofold</title>
        <link rel="stylesheet" href="/static/app.css" />
      </head>
      <body>
        <a class="skip" href="#main">Skip to content</a>
        ${header(ctx)} ${reminderBanner(ctx)}
        <main id="main">
          ${ctx.flash === null ? '' : html`<div class="flash" role="status">${ctx.flash}</div>`}
          <h1>${title}</h1>
          ${body}
        </main>
      </body>
    </html>`.text;
}
