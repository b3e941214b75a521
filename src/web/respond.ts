// Rendering pages and carrying a message across a redirect.
import { message, type SentenceCode } from './messages.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ClientInfo } from '../domain/audit.js';
import type { User } from '../domain/users.js';
import { daysLeft } from '../domain/enforcement.js';
import { formatDateTime } from '../domain/time-zones.js';
import { html, type Html } from './views/html.js';
import { page, type PageContext } from './views/layout.js';
import type { Auth } from './plugins/auth.js';

export interface CookieNames {
  session: string;
  flash: string;
  /** Where to go once signed in: an application's or a site's sign-in waiting for Twofold's. */
  return: string;
  /**
   * The application's sign-in this browser was sent to Twofold's sign-in page for, by the
   * provider itself (see appSignInCookie): what lets the code step finish it at once.
   */
  appSignIn: string;
  csrf: string;
  secure: boolean;
  /**
   * The Domain of every cookie (TWOFOLD_COOKIE_DOMAIN), so that the browser sends the
   * session with the requests of the protected sites under it; null for this host alone.
   */
  domain: string | null;
}

export function cookieNamesFor(secure: boolean, domain: string | null = null): CookieNames {
  // __Host- cookies are only accepted over https, for the whole site, from this host
  // alone; a cookie for a domain can be at most __Secure- (only over https).
  const prefix = !secure ? '' : domain === null ? '__Host-' : '__Secure-';
  return {
    session: `${prefix}twofold_session`,
    flash: `${prefix}twofold_flash`,
    return: `${prefix}twofold_return`,
    appSignIn: `${prefix}twofold_app_sign_in`,
    csrf: `${prefix}twofold_csrf`,
    secure,
    domain,
  };
}

/** Every cookie of Twofold's own: for the whole site (or the domain), never read by a script, kept from other sites' forms. */
export function cookieOptionsOf(names: CookieNames) {
  return {
    path: '/',
    httpOnly: true,
    sameSite: 'lax',
    secure: names.secure,
    ...(names.domain === null ? {} : { domain: names.domain }),
  } as const;
}

export function setSessionCookie(reply: FastifyReply, names: CookieNames, token: string): void {
  reply.setCookie(names.session, token, cookieOptionsOf(names));
}

export function clearSessionCookie(reply: FastifyReply, names: CookieNames): void {
  reply.clearCookie(names.session, cookieOptionsOf(names));
}

/**
 * The only places a person is sent back to after signing in, all of them Twofold's own
 * pages: an application's sign-in in progress, or the page that checks a protected site's
 * address (base64url, at most SITE_ADDRESS_MAX_LENGTH characters) again before sending the
 * person there.
 */
const RETURN_PATH = /^\/(?:oidc\/interaction\/[A-Za-z0-9_-]{1,100}|auth\/continue\?to=[A-Za-z0-9_-]{1,2700})$/;

const RETURN_KEPT_SECONDS = 3600;

export function isReturnPath(path: string): boolean {
  return RETURN_PATH.test(path);
}

/** A way back that Twofold itself is about to hand out: anything else is a bug. */
function checkedReturnPath(path: string): string {
  if (!isReturnPath(path)) throw new Error(`${path} is not a place to return to after signing in`);
  return path;
}

/** An application's or a site's sign-in waits for Twofold's: once it is done, the person goes back to it. Kept for an hour at most. */
export function rememberReturn(reply: FastifyReply, path: string): void {
  const names = reply.server.twofold.cookies;
  reply.setCookie(names.return, checkedReturnPath(path), {
    ...cookieOptionsOf(names),
    signed: true,
    maxAge: RETURN_KEPT_SECONDS,
  });
}

/** The Set-Cookie line of rememberReturn, for an answer Fastify does not write (the provider's). */
export function returnCookie(app: FastifyInstance, path: string): string {
  const names = app.twofold.cookies;
  return app.serializeCookie(names.return, app.signCookie(checkedReturnPath(path)), {
    ...cookieOptionsOf(names),
    maxAge: RETURN_KEPT_SECONDS,
  });
}

/** The application's or site's sign-in to go back to, if one waits; it is forgotten as it is taken. */
export function takeReturn(request: FastifyRequest, reply: FastifyReply): string | null {
  const names = request.server.twofold.cookies;
  const raw = request.cookies[names.return];
  if (raw === undefined) return null;
  reply.clearCookie(names.return, cookieOptionsOf(names));
  const unsigned = request.unsignCookie(raw);
  return unsigned.valid && unsigned.value !== null && RETURN_PATH.test(unsigned.value) ? unsigned.value : null;
}

/** An application's sign-in in progress: its interaction, and where the application will be given the code. */
export interface AppSignIn {
  uid: string;
  /** The origin of the application's redirect address (http or https only). */
  origin: string;
}

const INTERACTION_UID = /^[A-Za-z0-9_-]{1,100}$/;

/** The path of an application's sign-in in progress: where Twofold sends the person back. */
export function interactionPathOf(uid: string): string {
  return checkedReturnPath(`/oidc/interaction/${uid}`);
}

/** The origin a redirect address leads to, when it is one a page's form-action can name: http or https. */
export function formTargetOf(redirectUri: string): string | null {
  try {
    const url = new URL(redirectUri);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.origin : null;
  } catch {
    return null;
  }
}

/**
 * The Set-Cookie line that binds the application's sign-in `uid` to this browser, for the
 * provider's answer that sends a browser straight to the sign-in page. Only the provider,
 * answering the browser that made the authorization request, sets it: a way back (which
 * `/2fa?back=` can also set) is not proof that the sign-in is this browser's own.
 */
export function appSignInCookie(app: FastifyInstance, signIn: AppSignIn): string {
  const names = app.twofold.cookies;
  return app.serializeCookie(names.appSignIn, app.signCookie(`${signIn.uid} ${signIn.origin}`), {
    ...cookieOptionsOf(names),
    maxAge: RETURN_KEPT_SECONDS,
  });
}

/** The application's sign-in bound to this browser, if its cookie is Twofold's and well formed. */
export function appSignInOf(request: FastifyRequest): AppSignIn | null {
  const raw = request.cookies[request.server.twofold.cookies.appSignIn];
  if (raw === undefined) return null;
  const unsigned = request.unsignCookie(raw);
  if (!unsigned.valid || unsigned.value === null) return null;
  const [uid = '', origin = '', ...rest] = unsigned.value.split(' ');
  if (rest.length > 0 || !INTERACTION_UID.test(uid) || formTargetOf(origin) !== origin) return null;
  return { uid, origin };
}

/** appSignInOf, and the cookie forgotten: it serves one sign-in. */
export function takeAppSignIn(request: FastifyRequest, reply: FastifyReply): AppSignIn | null {
  const names = request.server.twofold.cookies;
  if (request.cookies[names.appSignIn] === undefined) return null;
  reply.clearCookie(names.appSignIn, cookieOptionsOf(names));
  return appSignInOf(request);
}

/**
 * Lets this page's forms lead, through redirects, to `origin` as well as here: a browser
 * holds every redirect of a form's submission to the page's form-action.
 */
export function allowFormsToLeadTo(reply: FastifyReply, origin: string): void {
  const policy = String(reply.getHeader('content-security-policy') ?? '');
  void reply.header('content-security-policy', policy.replace("form-action 'self'", `form-action 'self' ${origin}`));
}

/** Whether a message for the next page is waiting in this request's cookies. */
export function hasFlash(request: FastifyRequest): boolean {
  return request.cookies[request.server.twofold.cookies.flash] !== undefined;
}

export function redirectWithFlash(reply: FastifyReply, url: string, message: string): FastifyReply {
  reply.setCookie(reply.server.twofold.cookies.flash, message, {
    ...cookieOptionsOf(reply.server.twofold.cookies),
    signed: true,
  });
  return reply.redirect(url, 303);
}

/** The Set-Cookie line that carries `message` to the next page, for an answer Fastify does not write. */
export function flashCookie(app: FastifyInstance, message: string): string {
  const names = app.twofold.cookies;
  return app.serializeCookie(names.flash, app.signCookie(message), cookieOptionsOf(names));
}

function takeFlash(request: FastifyRequest, reply: FastifyReply): string | null {
  const names = request.server.twofold.cookies;
  const raw = request.cookies[names.flash];
  if (raw === undefined) return null;
  reply.clearCookie(names.flash, cookieOptionsOf(names));
  const unsigned = request.unsignCookie(raw);
  return unsigned.valid ? unsigned.value : null;
}

export function clientOf(request: FastifyRequest): ClientInfo {
  return { ip: request.ip, userAgent: String(request.headers['user-agent'] ?? '').slice(0, 300) };
}

/** Who acts, from where: for the audit log of an admin's change. */
export function contextOf(request: FastifyRequest): { actor: User; client: ClientInfo } {
  const actor = request.auth?.user;
  if (actor === undefined) throw new Error(`route ${request.routeOptions.url ?? ''} needs a signed-in actor`);
  return { actor, client: clientOf(request) };
}

export function timeZoneOf(request: FastifyRequest): string {
  return request.auth?.organisation.timeZone ?? 'UTC';
}

export function when(request: FastifyRequest, at: Date): string {
  return formatDateTime(at, timeZoneOf(request));
}

export function pageContext(request: FastifyRequest, reply: FastifyReply): PageContext {
  const auth = request.auth;
  return contextFor(request, reply, auth?.stage === 'signed_in' ? auth : null, auth !== null);
}

/**
 * The context of a page for a person who, by this request, is signed in with a device (a
 * new set of recovery codes is shown to no one else). What the request read of them before
 * may be out of date: the device linked in it ended a sign-in held at the setup screen and
 * any deadline to set one up.
 */
export function pageContextOfEnrolled(request: FastifyRequest, reply: FastifyReply): PageContext {
  const auth = request.auth;
  if (auth === null) throw new Error(`route ${request.routeOptions.url ?? ''} shows an account without a session`);
  return { ...contextFor(request, reply, auth, true), reminder: null };
}

function contextFor(
  request: FastifyRequest,
  reply: FastifyReply,
  signedIn: Auth | null,
  hasSession: boolean,
): PageContext {
  const now = request.server.twofold.deps.now();
  return {
    csrfToken: reply.generateCsrf(),
    viewer: signedIn && {
      name: signedIn.user.name,
      email: signedIn.user.email,
      role: signedIn.user.role,
      organisationName: signedIn.organisation.name,
    },
    pending: hasSession && signedIn === null,
    flash: takeFlash(request, reply),
    reminder:
      signedIn?.status.kind === 'grace'
        ? {
            deadline: when(request, signedIn.status.deadline),
            daysLeft: daysLeft(signedIn.status.deadline, now),
            setUpHref: '/2fa',
          }
        : null,
    path: request.url.split('?')[0] ?? '/',
  };
}

export type BodyOf = (ctx: PageContext) => Html;

/** A page; `ctx` is the request's own unless given (see pageContextOfEnrolled). */
export function renderPage(
  request: FastifyRequest,
  reply: FastifyReply,
  title: string,
  body: BodyOf,
  statusCode = 200,
  ctx: PageContext = pageContext(request, reply),
): FastifyReply {
  return reply
    .code(statusCode)
    .type('text/html; charset=utf-8')
    .send(page(ctx, title, body(ctx)));
}

/**
 * For the pages that offer security keys and passkeys: scripts from Twofold itself are
 * allowed on this answer (every other answer keeps script-src 'none').
 */
export function allowScriptsFromSelf(reply: FastifyReply): void {
  const policy = String(reply.getHeader('content-security-policy') ?? '');
  void reply.header('content-security-policy', policy.replace("script-src 'none'", "script-src 'self'"));
}

/**
 * A page that sends the browser on to `to`, a path of this site, as soon as it is shown
 * (a meta refresh, no script), and links there for a browser that does not follow it. With
 * `comeBackTo` (a sign-in that waits, see rememberReturn), a person who follows the
 * reminder's "Set it up now" instead comes back there once a device is linked.
 */
export function renderMovingOn(
  request: FastifyRequest,
  reply: FastifyReply,
  title: string,
  to: string,
  body: (ctx: PageContext, movingOn: boolean) => Html,
  comeBackTo?: string,
): FastifyReply {
  // "//host" and "/\host" lead to another host.
  if (!/^\/(?![/\\])/.test(to)) throw new Error(`${to} is not a path of this site`);
  const ctx = pageContext(request, reply);
  if (ctx.reminder !== null && comeBackTo !== undefined) {
    const back = checkedReturnPath(comeBackTo);
    ctx.reminder = { ...ctx.reminder, setUpHref: `/2fa?${new URLSearchParams({ back }).toString()}` };
  }
  // A message for the person (a recovery code used, a deadline to set up 2FA) is not
  // skipped past: the page then waits for them to go on.
  const movingOn = ctx.flash === null && ctx.reminder === null;
  return reply
    .code(200)
    .type('text/html; charset=utf-8')
    .send(page(ctx, title, body(ctx, movingOn), movingOn ? to : undefined));
}

export function renderError(
  request: FastifyRequest,
  reply: FastifyReply,
  statusCode: number,
  title: SentenceCode,
  what: SentenceCode,
): FastifyReply {
  return renderPage(
    request,
    reply,
    message(title),
    () =>
      html`<p>${message(what)}</p>
        <p><a href="/">Go to the start page</a></p>`,
    statusCode,
  );
}
