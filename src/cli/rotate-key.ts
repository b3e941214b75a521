// `key rotate` once its environment is accepted: the re-encryption, and what the operator
// should do next.
import { reencryptSecretsUnderCurrentKey } from '../services/key-rotation.js';
import { done, failed, type Io, type Outcome } from './command.js';
import { withInstance } from './instance.js';

function secrets(count: number): string {
  return count === 1 ? '1 authenticator secret' : `${count} authenticator secrets`;
}

export function rotateSecretKey(io: Io): Promise<Outcome> {
  // withInstance refuses a ring that does not open the stored check value.
  return withInstance(io, async ({ deps }) => {
    const report = await reencryptSecretsUnderCurrentKey(deps.db, deps.secretKey);
    const summary = [
      `Re-encrypted ${secrets(report.reencrypted)} under the current key; ${report.alreadyCurrent} already used it.`,
    ];
    if (report.unreadable > 0) {
      return failed(
        `${secrets(report.unreadable)} opened with none of the configured keys and ${report.unreadable === 1 ? 'was' : 'were'} left as ${report.unreadable === 1 ? 'it was' : 'they were'}. ` +
          'Keep the old key; add the key they were sealed with to TWOFOLD_PREVIOUS_SECRET_KEYS and run "twofold key rotate" again.',
        ...summary,
      );
    }
    return done(
      ...summary,
      'Every secret now uses the current key: you can remove the old key from TWOFOLD_PREVIOUS_SECRET_KEYS',
      '(on every instance). Keep it with any backup of the database taken before now.',
    );
  });
}
