// Whether a person may reach a protected site: asked by the proxy for every request (forward
// auth), and by Twofold's own pages when the person comes to sign in for the site.
import type { ClientInfo } from '../domain/audit.js';
import { applicationAccessOf } from '../domain/sign-in-for-applications.js';
import { remoteIdentityOf, type RemoteIdentity, type Site } from '../domain/sites.js';
import { tenantFor } from '../store/tenant.js';
import type { SignedInPerson } from './application-sign-in.js';
import { audit } from './audit.js';
import type { Deps } from './deps.js';
import { siteOfHost } from './site-directory.js';

/** A signed-in person as the access guard found them, with whether they have a device to give a code from. */
export interface SitePerson extends SignedInPerson {
  confirmedDevices: number;
}

export type SiteAccess =
  | { kind: 'unknown_site' }
  | { kind: 'sign_in_first'; site: Site }
  | { kind: 'no_access'; site: Site }
  | { kind: 'link_device'; site: Site }
  | { kind: 'give_code'; site: Site }
  | { kind: 'allowed'; site: Site; identity: RemoteIdentity };

/** What stands between a person and the site of `host`; at most one read, of the site (see site-directory.ts). */
export async function decideSiteAccess(deps: Deps, person: SitePerson | null, host: string): Promise<SiteAccess> {
  const site = await siteOfHost(deps.db, host);
  if (site === null) return { kind: 'unknown_site' };
  if (person === null) return { kind: 'sign_in_first', site };
  // A proxy asks for no `acr`: keys and passkeys count here as any device.
  const held = { devices: person.confirmedDevices, keys: 0, hardwareKeys: 0 };
  const access = applicationAccessOf(site, person.user, person.session, held, undefined);
  switch (access.kind) {
    case 'no_access':
      return { kind: 'no_access', site };
    case 'needs_second_factor':
    case 'needs_key':
      return person.confirmedDevices > 0 ? { kind: 'give_code', site } : { kind: 'link_device', site };
    case 'allowed':
      return { kind: 'allowed', site, identity: remoteIdentityOf(person.user, person.organisation) };
  }
}

/**
 * The decision for a person who came to sign in for the site, with a refusal recorded in
 * the site's organisation without naming the person, who may belong to another one. (The
 * proxy's own checks are not recorded: it asks for every request, images included.)
 */
export async function siteSignIn(
  deps: Deps,
  person: SitePerson | null,
  host: string,
  client: ClientInfo,
): Promise<SiteAccess> {
  const decision = await decideSiteAccess(deps, person, host);
  if (decision.kind === 'no_access') {
    await audit(
      tenantFor(deps.db, decision.site.organisationId),
      deps.now(),
      { actor: null, client },
      'site_access_refused',
      null,
      { host: decision.site.host, reason: 'not_a_member' },
    );
  }
  return decision;
}
