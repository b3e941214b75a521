// Detects at start-up that no configured key is the one the stored secrets were sealed
// with, instead of failing later at someone's login.
import { isSealedWith, openSecret, sealSecret, type SecretKeyring } from '../domain/secret-box.js';
import type { Db } from '../store/db.js';
import { readMeta, writeMeta } from '../store/meta.js';

const CHECK_KEY = 'secret_key_check';
const CHECK_TEXT = 'twofold secret key check';

function sealedCheck(key: Buffer): string {
  return sealSecret(key, new TextEncoder().encode(CHECK_TEXT), CHECK_KEY);
}

/**
 * Throws WrongSecretKeyError when no key of the ring opens the stored check value. A check
 * sealed by a previous key stays so until `twofold key rotate` has re-encrypted every
 * secret: then removing the old key too early is refused here, not at people's logins.
 */
export async function ensureSecretKeyMatches(db: Db, keys: SecretKeyring): Promise<void> {
  const sealed = await readMeta(db, CHECK_KEY);
  if (sealed === null) {
    await writeMeta(db, CHECK_KEY, sealedCheck(keys.current));
    return;
  }
  openSecret(keys, sealed, CHECK_KEY);
}

/**
 * Once every secret opens with the current key: re-seals the check value with it, so that
 * the current key alone passes the start-up check. Returns whether it had to.
 */
export async function sealKeyCheckWithCurrentKey(db: Db, keys: SecretKeyring): Promise<boolean> {
  const sealed = await readMeta(db, CHECK_KEY);
  if (sealed !== null) {
    openSecret(keys, sealed, CHECK_KEY);
    if (isSealedWith(keys.current, sealed)) return false;
  }
  await writeMeta(db, CHECK_KEY, sealedCheck(keys.current));
  return true;
}
