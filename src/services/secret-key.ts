// Detects at start-up that the configured key is not the one the stored secrets were
// sealed with, instead of failing later at someone's login.
import { openSecret, sealSecret } from '../domain/secret-box.js';
import type { Db } from '../store/db.js';
import { readMeta, writeMeta } from '../store/meta.js';

const CHECK_KEY = 'secret_key_check';
const CHECK_TEXT = 'twofold secret key check';

/** Throws WrongSecretKeyError when the key does not open the stored check value. */
export async function ensureSecretKeyMatches(db: Db, key: Buffer): Promise<void> {
  const sealed = await readMeta(db, CHECK_KEY);
  if (sealed === null) {
    await writeMeta(db, CHECK_KEY, sealSecret(key, new TextEncoder().encode(CHECK_TEXT), CHECK_KEY));
    return;
  }
  openSecret(key, sealed, CHECK_KEY);
}
