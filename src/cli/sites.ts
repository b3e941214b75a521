// `site ...` once its options are accepted: through the same service the Applications page uses.
import type { Site } from '../domain/sites.js';
import { addSite, deleteSite, type SiteInput } from '../services/sites.js';
import { message } from '../web/messages.js';
import { done, refused, type Io, type Outcome } from './command.js';
import { COMMAND, inOrganisation } from './instance.js';

function described(site: Site): string[] {
  return [`host: ${site.host}`, `require_2fa: ${site.requireTwoFactor ? 'yes' : 'no'}`];
}

export function addSiteFor(io: Io, organisation: string, input: SiteInput): Promise<Outcome> {
  return inOrganisation(io, organisation, async (deps, tenant) => {
    const added = await addSite(deps, tenant, COMMAND, input);
    // The host's form was checked before the instance was opened: what is left is a host already taken.
    return added.ok ? done(...described(added.site)) : refused(`--host: ${message(added.problem)}`);
  });
}

export function listSitesOf(io: Io, organisation: string): Promise<Outcome> {
  return inOrganisation(io, organisation, async (_deps, tenant, name) => {
    const sites = await tenant.sites.list();
    if (sites.length === 0) return done(`${name} has no protected sites.`);
    return done(...sites.flatMap((site, i) => [...(i > 0 ? [''] : []), ...described(site)]));
  });
}

export function deleteSiteOf(io: Io, organisation: string, host: string): Promise<Outcome> {
  return inOrganisation(io, organisation, async (deps, tenant, name) => {
    const deleted = await deleteSite(deps, tenant, COMMAND, { host });
    if (deleted === null) return refused(`${name} has no protected site with the host name "${host}"`);
    return done(`Deleted ${deleted.host} from ${name}: the proxy in front of it now lets nobody in.`);
  });
}
