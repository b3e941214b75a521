// The configured instance a command works on: configuration from the command's
// environment, then the instance every part of Twofold sets up (see src/instance.ts).
// Opened only after the arguments were accepted, and closed when the command's work ends.
import { loadConfig, type Config, type KeyNotice } from '../config.js';
import { openInstance } from '../instance.js';
import type { Deps } from '../services/deps.js';
import { findOrganisation } from '../store/organisations.js';
import { tenantFor, type Tenant } from '../store/tenant.js';
import { refused, type Io, type Outcome } from './command.js';

export interface CommandInstance {
  config: Config;
  deps: Deps;
  /** The migrations that ran as the database was opened, usually none. */
  migrated: string[];
}

function warnIfKeyGenerated(notice: KeyNotice, io: Io): void {
  if (notice.generatedAt === null) return;
  io.stderr.write(
    `twofold: warning: generated a new secret key in ${notice.generatedAt}. Back it up with the database: ` +
      'without it the authenticator secrets stored in the database cannot be read.\n',
  );
}

export function loginUrlOf(config: Config): string {
  return `${config.publicUrl}/login`;
}

/**
 * Throws ConfigError or WrongSecretKeyError, which main reports. As the server does, a key
 * other than the one the secrets were sealed with is refused, and on a fresh database
 * this key becomes the one.
 */
export async function withInstance<T>(io: Io, work: (instance: CommandInstance) => Promise<T>): Promise<T> {
  const notice: KeyNotice = { generatedAt: null };
  const config = loadConfig(io.env, notice);
  warnIfKeyGenerated(notice, io);
  const { deps, migrated, close } = await openInstance(config);
  try {
    return await work({ config, deps, migrated });
  } finally {
    await close();
  }
}

/** The audit log shows no actor and "the twofold command" as the client. */
export const COMMAND = { actor: null, client: { ip: 'local', userAgent: 'twofold command' } };

/** The work of a command on one organisation, found by its name or id in the configured instance. */
export function inOrganisation(
  io: Io,
  organisation: string,
  work: (deps: Deps, tenant: Tenant, name: string) => Promise<Outcome>,
): Promise<Outcome> {
  return withInstance(io, async ({ deps }) => {
    const found = await findOrganisation(deps.db, organisation);
    if (found === null) return refused(`no organisation has the name or id "${organisation}"`);
    return work(deps, tenantFor(deps.db, found.id), found.name);
  });
}
