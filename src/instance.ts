// One way to set Twofold up, for the server, the `twofold` command, the tests and the bench:
// the database opened and migrated, the key checked against the stored secrets, and the
// services' dependencies built. Whatever is set up here is closed by the instance's close().
import { relyingPartyOf } from './domain/devices.js';
import type { Config } from './config.js';
import type { Clock, Deps } from './services/deps.js';
import { mailSenderOf, type MailSender } from './services/mail-sender.js';
import type { MailSettings } from './services/mail-transport.js';
import { ensureSecretKeyMatches } from './services/secret-key.js';
import { migrateToLatest, openDatabase, type Db } from './store/db.js';

/** What an instance is made of: a Config has all of it; a test or the bench may give only this. */
export type InstanceSettings = Pick<
  Config,
  'database' | 'secretKey' | 'sessionIdleMinutes' | 'sessionAbsoluteHours' | 'pendingLoginMinutes' | 'publicUrl'
> & {
  /** The services' clock: the real one unless a test freezes it. */
  now?: Clock;
  /** Where email goes; without it, email is queued and never sent (the command's one-off runs). */
  mail?: MailSettings;
};

export interface Instance {
  deps: Deps;
  /** The migrations that ran as the database was opened, usually none. */
  migrated: string[];
  /** The instance's email sender, not started (the server starts it); null without mail settings. */
  mail: MailSender | null;
  /** Stops the sender and closes the database's connections; closing again does nothing. */
  close(): Promise<void>;
}

/** Opens the configured database and sets the instance up on it (see instanceOn). */
export function openInstance(settings: InstanceSettings): Promise<Instance> {
  return instanceOn(openDatabase(settings.database), settings);
}

/**
 * Sets an instance up on a database just opened, which it then owns: runs the pending
 * migrations and refuses a key ring that does not open the stored key check (on a new
 * database, the current key becomes the one). On failure it closes the database and
 * throws: WrongSecretKeyError, or the database's own error. openInstance is the usual way
 * in; a test or the bench opens the database itself to prepare it first (make its
 * PostgreSQL schema) or to watch its statements.
 */
export async function instanceOn(db: Db, settings: Omit<InstanceSettings, 'database'>): Promise<Instance> {
  let migrated: string[];
  try {
    migrated = await migrateToLatest(db);
    await ensureSecretKeyMatches(db, settings.secretKey);
  } catch (error) {
    await db.destroy();
    throw error;
  }
  const deps = depsOn(db, settings);
  const mail = settings.mail === undefined ? null : mailSenderOf(deps, settings.mail);
  if (mail !== null) deps.mailQueued = mail.wake;
  let closed: Promise<void> | null = null;
  const close = async () => {
    try {
      await mail?.stop();
    } finally {
      await db.destroy();
    }
  };
  return { deps, migrated, mail, close: () => (closed ??= close()) };
}

/** The services' dependencies on a database that is set up. */
export function depsOn(db: Db, settings: Omit<InstanceSettings, 'database'>): Deps {
  return {
    db,
    now: settings.now ?? (() => new Date()),
    secretKey: settings.secretKey,
    sessionLimits: {
      idleMinutes: settings.sessionIdleMinutes,
      absoluteHours: settings.sessionAbsoluteHours,
      pendingMinutes: settings.pendingLoginMinutes,
    },
    relyingParty: relyingPartyOf(settings.publicUrl),
    publicUrl: settings.publicUrl,
  };
}
