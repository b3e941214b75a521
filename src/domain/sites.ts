// Sites behind a reverse proxy that asks Twofold, for every request, whether the person
// may in (forward auth): what a site's host name may be, which addresses a person may be
// sent back to, and what the site is told about them.
import type { Organisation } from './organisations.js';
import type { User } from './users.js';

export interface Site {
  id: string;
  organisationId: string;
  /** Lower-case host name, with a port unless it is the scheme's default: what the browser sends as Host. */
  host: string;
  /** A person who gave no second factor in this sign-in gives one (or links a device) before getting in. */
  requireTwoFactor: boolean;
  createdAt: Date;
}

/** A DNS name of 253 characters and a port. */
export const SITE_HOST_MAX_LENGTH = 253 + 6;
/** The longest address Twofold sends a person back to; a longer one brings them to the site's front page. */
export const SITE_ADDRESS_MAX_LENGTH = 2000;

export type SiteHostProblem =
  | 'site_host_missing'
  | 'site_host_too_long'
  | 'site_host_scheme'
  | 'site_host_credentials'
  | 'site_host_path'
  | 'site_host_wildcard'
  | 'site_host_default_port'
  | 'site_host_unreadable';

const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;
const IPV6 = /^\[[0-9a-f:.]+\]$/;

/** A host name (labels, or an IPv4 address) or a bracketed IPv6 address, as the URL parser leaves it. */
function isHostName(hostname: string): boolean {
  return IPV6.test(hostname) || hostname.split('.').every((label) => LABEL.test(label));
}

/**
 * A host as an administrator types it ("Wiki.Example.com", "wiki.example.com:8443"),
 * checked and written as the browser will send it: lower case, international names in
 * their ASCII form, no scheme, path, user name or wildcard, and no port 80 or 443 (a
 * browser leaves the default port out, so a site registered with it would never match).
 */
export function siteHostOf(typed: string): { ok: true; host: string } | { ok: false; problem: SiteHostProblem } {
  const host = typed.trim().toLowerCase();
  const refused = (problem: SiteHostProblem) => ({ ok: false, problem }) as const;
  if (host === '') return refused('site_host_missing');
  if (host.length > SITE_HOST_MAX_LENGTH) return refused('site_host_too_long');
  if (/^[a-z][a-z0-9+.-]*:\/\//.test(host)) return refused('site_host_scheme');
  if (host.includes('@')) return refused('site_host_credentials');
  if (/[/?#\\]/.test(host)) return refused('site_host_path');
  if (host.includes('*')) return refused('site_host_wildcard');
  if (!URL.canParse(`http://${host}`)) return refused('site_host_unreadable');
  const url = new URL(`http://${host}`);
  const typedPort = /:(\d+)$/.exec(host)?.[1];
  if (typedPort !== undefined && (url.port === '' || url.port === '443')) return refused('site_host_default_port');
  const typedName = typedPort === undefined ? host : host.slice(0, -typedPort.length - 1);
  // The parser reads "1.2.3" or "0x7f.1" as other addresses: only what is typed as it is sent is accepted.
  const ascii = [...typedName].every((c) => c.charCodeAt(0) < 0x80);
  if ((ascii && url.hostname !== typedName) || !isHostName(url.hostname) || url.port === '0') {
    return refused('site_host_unreadable');
  }
  return { ok: true, host: url.host };
}

/** C0 and C1 control characters, DEL among them: never part of an address or a header. */
export function isControlCharacter(character: string): boolean {
  const code = character.codePointAt(0) ?? 0;
  return code < 0x20 || (code >= 0x7f && code <= 0x9f);
}

/** An address on some site: where a person was going, or is to be sent back to. */
export interface SiteAddress {
  /** As the browser sends it in Host (no default port). */
  host: string;
  /** The whole address, normalised; the site's front page when it is too long to carry. */
  href: string;
}

function addressOf(url: URL): SiteAddress | null {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  if (url.username !== '' || url.password !== '' || !isHostName(url.hostname)) return null;
  return { host: url.host, href: url.href.length > SITE_ADDRESS_MAX_LENGTH ? `${url.origin}/` : url.href };
}

/**
 * An absolute http or https address with no user name or password: what may be asked for
 * as the place to return to (whether its host is a registered site is the caller's to
 * check). Anything else (a relative or protocol-relative address, javascript:, padding, a
 * control character) is null.
 */
export function returnAddressOf(text: string): SiteAddress | null {
  if (text.length > SITE_ADDRESS_MAX_LENGTH || text !== text.trim() || !/^https?:\/\//i.test(text)) return null;
  // The parser would drop a line break silently: an address that holds one was not meant as it reads.
  if ([...text].some(isControlCharacter)) return null;
  if (!URL.canParse(text)) return null;
  const url = new URL(text);
  return url.href.length > SITE_ADDRESS_MAX_LENGTH ? null : addressOf(url);
}

/** The Host as a proxy passes it on: a name or bracketed IPv6 address, and a port. */
const FORWARDED_HOST = /^(?:[A-Za-z0-9_.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/**
 * The address a proxy says was asked for, from its scheme, Host and path (X-Forwarded-Proto,
 * -Host, -Uri): null unless the scheme is http or https and the host a plain host. A path
 * that is not one (it does not start with "/", or holds a control character) stands for
 * the site's front page: it names no other host.
 */
export function requestedAddressOf(proto: string, host: string, uri: string | null): SiteAddress | null {
  const scheme = proto.toLowerCase();
  if ((scheme !== 'http' && scheme !== 'https') || !FORWARDED_HOST.test(host)) return null;
  const origin = `${scheme}://${host}`;
  if (!URL.canParse(origin)) return null;
  const site = addressOf(new URL(origin));
  if (site === null) return null;
  const path = uri !== null && uri.startsWith('/') && ![...uri].some(isControlCharacter) ? uri : '/';
  // Appended, not resolved: resolved, "//evil.example/" would be another host.
  const url = URL.canParse(origin + path) ? new URL(origin + path) : null;
  // Appending a path that starts with "/" never changes the host; checked all the same.
  const whole = url === null ? null : addressOf(url);
  return whole !== null && whole.host === site.host ? whole : site;
}

/**
 * The address a proxy says was asked for as one URL (X-Original-URL): null unless it is an
 * absolute http or https address with a plain host and nothing around it.
 */
export function originalAddressOf(text: string): SiteAddress | null {
  if (/\s/.test(text) || !/^https?:\/\//i.test(text) || !URL.canParse(text)) return null;
  return addressOf(new URL(text));
}

/** Where Twofold's cookies go: its own host name (any port), or the whole of a domain; https alone when Secure. */
export interface CookieScope {
  hostname: string;
  domain: string | null;
  secure: boolean;
}

/**
 * Whether the browser sends Twofold's session with the requests to an address: otherwise
 * the proxy never sees anyone signed in there, and sending a person to it after signing
 * in would bring them straight back, round and round.
 */
export function cookieReaches(scope: CookieScope, address: SiteAddress): boolean {
  const url = new URL(address.href);
  if (scope.secure && url.protocol !== 'https:') return false;
  if (scope.domain === null) return url.hostname === scope.hostname;
  return url.hostname === scope.domain || url.hostname.endsWith(`.${scope.domain}`);
}

/** What a site is told about the person it lets in. */
export interface RemoteIdentity {
  /** Their id: stable, never given to anyone else. */
  user: string;
  email: string;
  name: string;
  /** Their role, then their organisation's id (which a role name can never be). */
  groups: string[];
}

export function remoteIdentityOf(user: User, organisation: Organisation): RemoteIdentity {
  return { user: user.id, email: user.email, name: user.name, groups: [user.role, organisation.id] };
}
