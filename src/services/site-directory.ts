// The protected sites by host, as the proxy's checks read them. The proxy asks at every
// request to a site, images and scripts included; a site read from the database is kept
// here for SITE_FRESH_MS, so that a signed-in person's check costs one statement (their
// session, which must be read every time) instead of two. Only registered sites are kept,
// so the directory holds at most as many entries as there are sites, whatever hosts a
// proxy asks about; a host not found is read again at every check, so a site added by any
// instance or by the twofold command is protected at once. A deleted site is forgotten at
// once by the instance that deleted it, and by the others within SITE_FRESH_MS.
import type { Site } from '../domain/sites.js';
import type { Db } from '../store/db.js';
import { findSiteByHost } from '../store/sites.js';

export const SITE_FRESH_MS = 5_000;

interface Known {
  site: Site;
  readAt: number;
}

/** One directory per database handle: each app built on its own database has its own. */
const directories = new WeakMap<Db, Map<string, Known>>();

function directoryOf(db: Db): Map<string, Known> {
  let directory = directories.get(db);
  if (directory === undefined) {
    directory = new Map();
    directories.set(db, directory);
  }
  return directory;
}

/** The site of `host` in any organisation, at most SITE_FRESH_MS old; null when none is registered. */
export async function siteOfHost(db: Db, host: string): Promise<Site | null> {
  const directory = directoryOf(db);
  const known = directory.get(host);
  // Monotonic time, not the service clock: this is how old a copy is, not a rule of the domain.
  const now = performance.now();
  if (known !== undefined && now - known.readAt < SITE_FRESH_MS) return known.site;
  const site = await findSiteByHost(db, host);
  if (site === null) directory.delete(host);
  else directory.set(host, { site, readAt: now });
  return site;
}

/** After a site is deleted here: its next check reads the database. */
export function forgetSite(db: Db, host: string): void {
  directories.get(db)?.delete(host);
}
