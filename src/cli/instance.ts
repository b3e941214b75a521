// The configured instance a command works on: configuration, a migrated database and the
// services' dependencies. Opened only after the arguments were accepted.
import { loadConfig, type Config, type KeyNotice } from '../config.js';
import { depsFrom, type Deps } from '../services/deps.js';
import { ensureSecretKeyMatches } from '../services/secret-key.js';
import { migrateToLatest, openDatabase } from '../store/db.js';
import type { Io } from './command.js';

export interface Instance {
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

/** Throws ConfigError or WrongSecretKeyError, which main reports. */
export async function withInstance<T>(io: Io, work: (instance: Instance) => Promise<T>): Promise<T> {
  const notice: KeyNotice = { generatedAt: null };
  const config = loadConfig(io.env, notice);
  warnIfKeyGenerated(notice, io);
  const db = openDatabase(config.database);
  try {
    const migrated = await migrateToLatest(db);
    // As the server does: a key other than the one the secrets were sealed with is refused
    // here too, and on a fresh database this key becomes the one.
    await ensureSecretKeyMatches(db, config.secretKey);
    return await work({ config, deps: depsFrom(config, db), migrated });
  } finally {
    await db.destroy();
  }
}
