// `user create` once its options are accepted: an active account with a password.
import { randomUUID } from 'node:crypto';
import type { Role } from '../domain/users.js';
import { findOrganisation } from '../store/organisations.js';
import { tenantFor } from '../store/tenant.js';
import type { NewAccount } from './account-options.js';
import { done, refused, type Io, type Outcome } from './command.js';
import { loginUrlOf, withInstance } from './instance.js';
import { emailInUse, newPasswordHash } from './new-account.js';

/** `organisation` is its name, in any case, or its id. */
export function createUser(io: Io, input: { organisation: string; account: NewAccount; role: Role }): Promise<Outcome> {
  const { account, role } = input;
  return withInstance(io, async ({ config, deps }) => {
    const organisation = await findOrganisation(deps.db, input.organisation);
    if (organisation === null) return refused(`no organisation has the name or id "${input.organisation}"`);
    const taken = await emailInUse(deps.db, account);
    if (taken !== null) return taken;
    const passwordHash = await newPasswordHash(io);
    if (!passwordHash.ok) return passwordHash.outcome;

    const userId = randomUUID();
    await tenantFor(deps.db, organisation.id).users.insert({
      id: userId,
      ...account,
      role,
      passwordHash: passwordHash.value,
      now: deps.now(),
    });
    return done(
      `Created ${account.email} (${role}) in ${organisation.name}.`,
      `  id:          ${userId}`,
      `  sign in at:  ${loginUrlOf(config)}`,
    );
  });
}
