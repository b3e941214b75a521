// Re-encrypting every authenticator secret under the current key while Twofold keeps
// serving: a batch of rows read at a time, each row written by its own conditional UPDATE,
// so a login never waits behind a long transaction and a concurrent change is never lost.
import { isSealedWith, openSecret, sealSecret, type SecretKeyring } from '../domain/secret-box.js';
import type { Db } from '../store/db.js';
import { findSealedSecret, listSealedSecretsAfter, replaceSealedSecretIfUnchanged } from '../store/sealed-secrets.js';
import { resealMailBodies } from './mail.js';
import { resealSigningKeys } from './oidc-keys.js';
import { sealKeyCheckWithCurrentKey } from './secret-key.js';

export interface RotationReport {
  /** Sealed by another key (or in the format without a key id) and re-sealed by this run. */
  reencrypted: number;
  alreadyCurrent: number;
  /** Opened by no key of the ring, or not a sealed secret at all; left as they were. */
  unreadable: number;
}

export interface RotationOptions {
  batchSize?: number;
  /** Called after each batch with the counts so far, to report progress. */
  afterBatch?: (soFar: RotationReport) => Promise<void> | void;
}

const DEFAULT_BATCH_SIZE = 100;
/** A row whose secret changes under us again and again is left to the next run. */
const ATTEMPTS_PER_ROW = 3;

type RowOutcome = 'reencrypted' | 'already_current' | 'unreadable' | 'removed';

async function reencryptOne(db: Db, keys: SecretKeyring, deviceId: string, sealed: string): Promise<RowOutcome> {
  let stored: string | null = sealed;
  for (let attempt = 0; attempt < ATTEMPTS_PER_ROW && stored !== null; attempt++) {
    let secret: Uint8Array;
    try {
      secret = openSecret(keys, stored, deviceId);
    } catch {
      // openSecret is pure: whatever it throws is about this value (wrong key, bad format).
      return 'unreadable';
    }
    if (isSealedWith(keys.current, stored)) return 'already_current';
    const resealed = sealSecret(keys.current, secret, deviceId);
    if (await replaceSealedSecretIfUnchanged(db, deviceId, stored, resealed)) return 'reencrypted';
    // Changed or removed since it was read: look again at what is there now.
    stored = await findSealedSecret(db, deviceId);
  }
  if (stored === null) return 'removed';
  throw new Error(`the secret of device ${deviceId} changed ${ATTEMPTS_PER_ROW} times while it was re-encrypted`);
}

/**
 * Re-seals every device's secret with the ring's current key; the secrets themselves do not
 * change. Running it again re-encrypts nothing more. Only when every secret opened is the
 * key check re-sealed too, so that the previous keys may then be removed.
 */
export async function reencryptSecretsUnderCurrentKey(
  db: Db,
  keys: SecretKeyring,
  options: RotationOptions = {},
): Promise<RotationReport> {
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  const report: RotationReport = { reencrypted: 0, alreadyCurrent: 0, unreadable: 0 };
  let after: string | null = null;
  for (;;) {
    const batch = await listSealedSecretsAfter(db, after, batchSize);
    for (const { deviceId, sealedSecret } of batch) {
      const outcome = await reencryptOne(db, keys, deviceId, sealedSecret);
      switch (outcome) {
        case 'reencrypted':
          report.reencrypted++;
          break;
        case 'already_current':
          report.alreadyCurrent++;
          break;
        case 'unreadable':
          report.unreadable++;
          break;
        case 'removed':
          break;
      }
    }
    const last = batch.at(-1);
    if (last === undefined) break;
    after = last.deviceId;
    await options.afterBatch?.({ ...report });
    if (batch.length < batchSize) break;
  }
  // The OpenID Connect signing keys are sealed the same way: a handful of rows.
  const signing = await resealSigningKeys(db, keys);
  report.reencrypted += signing.resealed;
  report.unreadable += signing.unreadable;
  // So are the parts of email not sent yet (a sent message keeps none).
  const mail = await resealMailBodies(db, keys);
  report.reencrypted += mail.resealed;
  report.unreadable += mail.unreadable;
  if (report.unreadable === 0) await sealKeyCheckWithCurrentKey(db, keys);
  return report;
}
