// The applications of an organisation that sign people in through Twofold (OpenID Connect
// relying parties): what makes a name and a redirect address acceptable, and what a change
// to one changes.
import { isControlCharacter } from './sites.js';
import { NAME_MAX_LENGTH } from './users.js';

/** What a super admin chooses for an application, and may change later. */
export interface ApplicationSettings {
  name: string;
  /** Exact addresses the application may be sent back to after sign-in. */
  redirectUris: readonly string[];
  /** Exact addresses it may be sent back to after signing out. */
  postLogoutRedirectUris: readonly string[];
  /** A person without a second factor links one before they are sent back. */
  requireTwoFactor: boolean;
  /** A person signs in to it with a security key or passkey, whatever it asks for (acr phr). */
  requirePhishingResistant: boolean;
  /** How its ID tokens are signed. */
  idTokenSigningAlg: IdTokenSigningAlg;
}

export interface Application extends ApplicationSettings {
  /** The OpenID Connect client_id; never reused. */
  id: string;
  organisationId: string;
  secretSetAt: Date;
  createdAt: Date;
}

export type ApplicationSetting = keyof ApplicationSettings;

/** In the order a change names them, as the command lists an application. */
export const APPLICATION_SETTINGS: readonly ApplicationSetting[] = [
  'name',
  'redirectUris',
  'postLogoutRedirectUris',
  'requireTwoFactor',
  'requirePhishingResistant',
  'idTokenSigningAlg',
];

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((item, i) => item === b[i]);
}

/** The settings `after` gives differently from `before`; none when it changes nothing. */
export function changedSettings(before: ApplicationSettings, after: ApplicationSettings): ApplicationSetting[] {
  return APPLICATION_SETTINGS.filter((setting) => {
    const [was, is] = [before[setting], after[setting]];
    return typeof was === 'object' && typeof is === 'object' ? !sameList(was, is) : was !== is;
  });
}

/** RS256, what every client supports, and ES256. */
export const ID_TOKEN_SIGNING_ALGS = ['RS256', 'ES256'] as const;
export type IdTokenSigningAlg = (typeof ID_TOKEN_SIGNING_ALGS)[number];

export function isIdTokenSigningAlg(value: string): value is IdTokenSigningAlg {
  return (ID_TOKEN_SIGNING_ALGS as readonly string[]).includes(value);
}

export type IdTokenSigningAlgProblem = 'id_token_signing_alg_unknown';

export function idTokenSigningAlgProblem(value: string): IdTokenSigningAlgProblem | null {
  return isIdTokenSigningAlg(value) ? null : 'id_token_signing_alg_unknown';
}

export const APPLICATION_NAME_MAX_LENGTH = NAME_MAX_LENGTH;
export const REDIRECT_URI_MAX_LENGTH = 2000;
export const REDIRECT_URIS_MAX = 20;

export type RedirectUriProblem =
  | 'redirect_uri_unreadable'
  | 'redirect_uri_control_character'
  | 'redirect_uri_too_long'
  | 'redirect_uri_insecure'
  | 'redirect_uri_fragment'
  | 'redirect_uri_credentials';

/** Hosts an application on the person's own machine listens on (RFC 8252, section 7.3). */
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * An address Twofold may send a person back to with a code: absolute, compared exactly,
 * https (or http on the person's own machine), with no fragment and no user name or
 * password in it (OAuth 2.0 Security BCP, RFC 9700 section 4.1).
 */
export function redirectUriProblem(uri: string): RedirectUriProblem | null {
  if (uri.length > REDIRECT_URI_MAX_LENGTH) return 'redirect_uri_too_long';
  if (uri !== uri.trim() || !URL.canParse(uri)) return 'redirect_uri_unreadable';
  // The parser drops a tab or a line break inside an address; what is compared is what was typed.
  if ([...uri].some(isControlCharacter)) return 'redirect_uri_control_character';
  const url = new URL(uri);
  const secure = url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname));
  if (!secure) return 'redirect_uri_insecure';
  if (uri.includes('#')) return 'redirect_uri_fragment';
  if (url.username !== '' || url.password !== '') return 'redirect_uri_credentials';
  return null;
}

export type ApplicationNameProblem = 'application_name_missing' | 'application_name_too_long';

export function applicationNameProblem(name: string): ApplicationNameProblem | null {
  const trimmed = name.trim();
  if (trimmed.length === 0) return 'application_name_missing';
  if ([...trimmed].length > APPLICATION_NAME_MAX_LENGTH) return 'application_name_too_long';
  return null;
}

export type RedirectUrisProblem = RedirectUriProblem | 'redirect_uris_missing' | 'redirect_uris_too_many';

/** The first problem of a list of redirect addresses, with the address it is about. */
export function redirectUrisProblem(
  uris: readonly string[],
  required: boolean,
): { problem: RedirectUrisProblem; uri: string | null } | null {
  if (required && uris.length === 0) return { problem: 'redirect_uris_missing', uri: null };
  if (uris.length > REDIRECT_URIS_MAX) return { problem: 'redirect_uris_too_many', uri: null };
  for (const uri of uris) {
    const problem = redirectUriProblem(uri);
    if (problem !== null) return { problem, uri };
  }
  return null;
}

/** What is wrong with an application's settings, each under the setting it is about. */
export type ApplicationProblems = {
  name?: ApplicationNameProblem;
  redirectUris?: { problem: RedirectUrisProblem; uri: string | null };
  postLogoutRedirectUris?: { problem: RedirectUrisProblem; uri: string | null };
  idTokenSigningAlg?: IdTokenSigningAlgProblem;
};

/**
 * The problems of the settings given: a new application gives them all (its signature may
 * be left to the default), a change only those it changes; what is left out has none.
 */
export function applicationProblems(given: {
  name?: string;
  redirectUris?: readonly string[];
  postLogoutRedirectUris?: readonly string[];
  idTokenSigningAlg?: string;
}): ApplicationProblems {
  const problems: ApplicationProblems = {};
  const name = given.name === undefined ? null : applicationNameProblem(given.name);
  if (name !== null) problems.name = name;
  const redirects = given.redirectUris === undefined ? null : redirectUrisProblem(given.redirectUris, true);
  if (redirects !== null) problems.redirectUris = redirects;
  const logouts =
    given.postLogoutRedirectUris === undefined ? null : redirectUrisProblem(given.postLogoutRedirectUris, false);
  if (logouts !== null) problems.postLogoutRedirectUris = logouts;
  const alg = given.idTokenSigningAlg === undefined ? null : idTokenSigningAlgProblem(given.idTokenSigningAlg);
  if (alg !== null) problems.idTokenSigningAlg = alg;
  return problems;
}
