// Forward auth: a reverse proxy (nginx auth_request, Traefik ForwardAuth, Caddy
// forward_auth) asks here, at every request to a protected site, whether the person may
// in; and the pages a person not yet let in is sent to, which send them on to the site.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  cookieReaches,
  isControlCharacter,
  originalAddressOf,
  requestedAddressOf,
  returnAddressOf,
  type RemoteIdentity,
  type SiteAddress,
} from '../../domain/sites.js';
import { decideSiteAccess, siteSignIn, type SitePerson } from '../../services/site-access.js';
import { message, type SentenceCode } from '../messages.js';
import { homeOf } from '../plugins/auth.js';
import { clientOf, redirectWithFlash, rememberReturn, renderError } from '../respond.js';
import { refusalAtSite } from '../views/forward-auth.js';

function sitePersonOf(request: FastifyRequest): SitePerson | null {
  const auth = request.auth;
  return auth?.stage === 'signed_in'
    ? {
        session: auth.session,
        user: auth.user,
        organisation: auth.organisation,
        confirmedDevices: auth.confirmedDevices,
      }
    : null;
}

/** A header's value; a repeated one arrives joined with commas and is refused by the checks that read it. */
function headerOf(request: FastifyRequest, name: string): string | null {
  const value = request.headers[name];
  return typeof value === 'string' ? value : null;
}

/**
 * The address the proxy asks about: from X-Forwarded-Proto, -Host and -Uri (Traefik, Caddy,
 * nginx as the README sets it up), or from X-Original-URL. A proxy overwrites the headers it
 * sets but may pass the others on from the browser: when both name a host and the hosts
 * differ, someone is trying to be checked for one site and let into another, and the
 * answer is no.
 */
function requestedAddress(request: FastifyRequest): SiteAddress | null {
  const host = headerOf(request, 'x-forwarded-host');
  const original = headerOf(request, 'x-original-url');
  const fromParts =
    host === null
      ? null
      : requestedAddressOf(headerOf(request, 'x-forwarded-proto') ?? '', host, headerOf(request, 'x-forwarded-uri'));
  const fromUrl = original === null ? null : originalAddressOf(original);
  if (host !== null && original !== null) return fromParts?.host === fromUrl?.host ? fromParts : null;
  return host !== null ? fromParts : fromUrl;
}

/**
 * A value that may hold anything a person typed, as a header: control characters (a line
 * break would end the header and start another) become spaces, and the rest goes out as
 * its UTF-8 bytes.
 */
function headerValueOf(text: string): string {
  const clean = [...text]
    .map((character) => (isControlCharacter(character) ? ' ' : character))
    .join('')
    .trim();
  return Buffer.from(clean, 'utf8').toString('latin1');
}

function identityHeaders(identity: RemoteIdentity): Record<string, string> {
  return {
    'Remote-User': headerValueOf(identity.user),
    'Remote-Email': headerValueOf(identity.email),
    // Never empty, so that a proxy that copies only what is there leaves no header of the browser's in place.
    'Remote-Name': headerValueOf(identity.name) || headerValueOf(identity.email),
    'Remote-Groups': identity.groups.map((group) => headerValueOf(group).replace(/,/g, ' ')).join(','),
  };
}

/** Twofold's own page that checks a site's address again and sends the person there. */
function continuePathOf(address: SiteAddress): string {
  return `/auth/continue?to=${Buffer.from(address.href, 'utf8').toString('base64url')}`;
}

export async function forwardAuthRoutes(app: FastifyInstance): Promise<void> {
  const { deps, publicUrl, cookies } = app.twofold;
  const scope = { hostname: new URL(publicUrl).hostname, domain: cookies.domain, secure: cookies.secure };

  type Verdict =
    | { kind: 'allowed'; identity: RemoteIdentity }
    | { kind: 'sign_in'; signInUrl: string }
    | { kind: 'refused'; title: SentenceCode; sentence: SentenceCode };

  /** The proxy's question, answered with the session the guard read and the site, read at most every few seconds. */
  async function verdictOf(request: FastifyRequest): Promise<Verdict> {
    const address = requestedAddress(request);
    if (address === null) return { kind: 'refused', title: 'site_unknown_title', sentence: 'site_unknown' };
    const decision = await decideSiteAccess(deps, sitePersonOf(request), address.host);
    switch (decision.kind) {
      case 'unknown_site':
        return { kind: 'refused', title: 'site_unknown_title', sentence: 'site_unknown' };
      case 'no_access':
        return { kind: 'refused', title: 'site_no_access_title', sentence: 'site_no_access' };
      case 'allowed':
        return { kind: 'allowed', identity: decision.identity };
      // Not signed in, or without the second factor the site requires: Twofold's sign-in
      // page asks for what is missing (a password, a code, a device) and sends them back.
      case 'sign_in_first':
      case 'link_device':
      case 'give_code':
        return {
          kind: 'sign_in',
          signInUrl: `${publicUrl}/auth/sign-in?${new URLSearchParams({ rd: address.href }).toString()}`,
        };
    }
  }

  function answer(reply: FastifyReply, verdict: Verdict, signInStatus: 401 | 302): FastifyReply {
    void reply.header('cache-control', 'no-store');
    switch (verdict.kind) {
      case 'allowed':
        return reply.code(200).headers(identityHeaders(verdict.identity)).send();
      case 'sign_in':
        // nginx reads the address from the 401's Location (auth_request_set) to redirect to it.
        return reply
          .code(signInStatus)
          .header('location', verdict.signInUrl)
          .type('text/html; charset=utf-8')
          .send(
            signInStatus === 401
              ? refusalAtSite(message('site_sign_in_needed_title'), message('site_sign_in_needed'), publicUrl)
              : '',
          );
      case 'refused':
        return reply
          .code(403)
          .type('text/html; charset=utf-8')
          .send(refusalAtSite(message(verdict.title), message(verdict.sentence), publicUrl));
    }
  }

  const check = { config: { access: 'protocol' } } as const;
  // nginx's auth_request: 401 becomes the redirect to sign in (error_page 401 =302).
  app.get('/auth/nginx', check, async (request, reply) => answer(reply, await verdictOf(request), 401));
  // Traefik's ForwardAuth and Caddy's forward_auth pass any answer but a 2xx on to the browser.
  app.get('/auth/forward', check, async (request, reply) => answer(reply, await verdictOf(request), 302));

  /** Sends the person to the site at `address`, or first to whatever Twofold still needs of them. */
  async function goTo(request: FastifyRequest, reply: FastifyReply, address: SiteAddress | null) {
    if (address === null) return renderError(request, reply, 400, 'site_address_title', 'site_address_refused');
    const decision = await siteSignIn(deps, sitePersonOf(request), address.host, clientOf(request));
    if (decision.kind === 'unknown_site') {
      return renderError(request, reply, 400, 'site_address_title', 'site_address_refused');
    }
    // Signed in here, a person the browser does not show signed in there would come straight back.
    if (!cookieReaches(scope, address)) {
      return renderError(request, reply, 400, 'site_address_title', 'site_cookies_do_not_reach');
    }
    const here = continuePathOf(address);
    const host = decision.site.host;
    switch (decision.kind) {
      case 'sign_in_first': {
        rememberReturn(reply, here);
        const stage = request.auth?.stage ?? null;
        if (stage !== null) return reply.redirect(homeOf(stage), 303);
        return redirectWithFlash(reply, '/login', message('site_sign_in_to_continue', { host }));
      }
      case 'no_access':
        return renderError(request, reply, 403, 'site_no_access_title', 'site_no_access');
      case 'link_device':
        rememberReturn(reply, here);
        return redirectWithFlash(reply, '/2fa', message('site_needs_device', { host }));
      case 'give_code':
        return reply.redirect(`/confirm-identity?${new URLSearchParams({ next: here }).toString()}`, 303);
      case 'allowed':
        return reply.redirect(address.href, 303);
    }
  }

  const page = (name: string) =>
    ({
      config: { access: 'public' },
      schema: { querystring: { type: 'object', properties: { [name]: { type: 'string', maxLength: 4000 } } } },
    }) as const;

  // Where the proxy sends a person who is not let in yet: `rd` is the address they asked for.
  app.get<{ Querystring: { rd?: string } }>('/auth/sign-in', page('rd'), (request, reply) =>
    goTo(request, reply, returnAddressOf(request.query.rd ?? '')),
  );

  // Where Twofold's sign-in (password, code, setup, a device linked) returns to: the address
  // is checked again, against the sites and the person as they are now.
  app.get<{ Querystring: { to?: string } }>('/auth/continue', page('to'), (request, reply) => {
    const to = request.query.to ?? '';
    const text = /^[A-Za-z0-9_-]+$/.test(to) ? Buffer.from(to, 'base64url').toString('utf8') : '';
    return goTo(request, reply, returnAddressOf(text));
  });
}
