// Registering the sites a reverse proxy protects with Twofold (forward auth): a host name
// and whether a second factor is required. A host is registered once in the instance.
import { randomUUID } from 'node:crypto';
import { siteHostOf, type Site, type SiteHostProblem } from '../domain/sites.js';
import { atomically, type Tenant } from '../store/tenant.js';
import { audit, type AuditContext } from './audit.js';
import type { Deps } from './deps.js';
import { forgetSite } from './site-directory.js';

export interface SiteInput {
  host: string;
  requireTwoFactor: boolean;
}

export type AddSiteProblem = SiteHostProblem | 'site_host_taken';

export type AddSite = { ok: true; site: Site } | { ok: false; problem: AddSiteProblem };

export async function addSite(deps: Deps, tenant: Tenant, context: AuditContext, input: SiteInput): Promise<AddSite> {
  const checked = siteHostOf(input.host);
  if (!checked.ok) return checked;
  const { host } = checked;
  const now = deps.now();
  const id = randomUUID();
  return atomically(deps.db, tenant.organisationId, async (trx): Promise<AddSite> => {
    // Taken by this organisation or another: which one is not said.
    if (!(await trx.sites.insert({ id, host, requireTwoFactor: input.requireTwoFactor, now }))) {
      return { ok: false, problem: 'site_host_taken' };
    }
    await audit(trx, now, context, 'site_added', null, { host, require_2fa: input.requireTwoFactor });
    const site = await trx.sites.find(id);
    if (site === null) throw new Error('the site just added was not found');
    return { ok: true, site };
  });
}

/** The site by its id, or by its host as typed (the command's way). */
export type WhichSite = { id: string } | { host: string };

/** Removes the site and returns it; null if the organisation has no such site. */
export async function deleteSite(
  deps: Deps,
  tenant: Tenant,
  context: AuditContext,
  which: WhichSite,
): Promise<Site | null> {
  const now = deps.now();
  const deleted = await atomically(deps.db, tenant.organisationId, async (trx) => {
    let site: Site | null;
    if ('id' in which) site = await trx.sites.find(which.id);
    else {
      const checked = siteHostOf(which.host);
      site = checked.ok ? await trx.sites.findByHost(checked.host) : null;
    }
    if (site === null || !(await trx.sites.remove(site.id))) return null;
    await audit(trx, now, context, 'site_deleted', null, { host: site.host });
    return site;
  });
  if (deleted !== null) forgetSite(deps.db, deleted.host);
  return deleted;
}
