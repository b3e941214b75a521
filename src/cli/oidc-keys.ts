// `oidc rotate-keys` once its options are accepted.
import { RETIRED_KEY_PUBLISHED_HOURS, rotateSigningKeys, signingKeys } from '../services/oidc-keys.js';
import { done, type Io, type Outcome } from './command.js';
import { withInstance } from './instance.js';

export function rotateKeys(io: Io): Promise<Outcome> {
  return withInstance(io, async ({ deps }) => {
    // The first keys, if Twofold never signed anything yet, so that there is something to retire.
    await signingKeys(deps);
    const rotation = await rotateSigningKeys(deps);
    return done(
      ...rotation.added.map((kid) => `new key: ${kid}`),
      `retired: ${rotation.retired} (published until ${new Date(deps.now().getTime() + RETIRED_KEY_PUBLISHED_HOURS * 3_600_000).toISOString()})`,
      `deleted: ${rotation.deleted} retired more than a day ago`,
    );
  });
}
