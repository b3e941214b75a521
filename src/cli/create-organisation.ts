// `org create` once its options are accepted: the organisation and its first super admin,
// written in one transaction after every check (and the password) passed.
import { randomUUID } from 'node:crypto';
import { findOrganisation, insertOrganisation } from '../store/organisations.js';
import { tenantFor } from '../store/tenant.js';
import type { NewAccount } from './account-options.js';
import { done, refused, type Io, type Outcome } from './command.js';
import { loginUrlOf, withInstance } from './instance.js';
import { emailInUse, newPasswordHash } from './new-account.js';

export function createOrganisation(
  io: Io,
  input: { name: string; timeZone: string; admin: NewAccount },
): Promise<Outcome> {
  const { name, timeZone, admin } = input;
  return withInstance(io, async ({ config, deps }) => {
    const existing = await findOrganisation(deps.db, name);
    if (existing !== null) return refused(`an organisation named "${existing.name}" already exists`);
    const taken = await emailInUse(deps.db, admin);
    if (taken !== null) return taken;
    const passwordHash = await newPasswordHash(io);
    if (!passwordHash.ok) return passwordHash.outcome;

    const organisationId = randomUUID();
    const now = deps.now();
    await deps.db.transaction().execute(async (trx) => {
      await insertOrganisation(trx, { id: organisationId, name, timeZone, now });
      await tenantFor(trx, organisationId).users.insert({
        id: randomUUID(),
        ...admin,
        role: 'super_admin',
        passwordHash: passwordHash.value,
        now,
      });
    });
    return done(
      `Created the organisation ${name}.`,
      `  id:           ${organisationId}`,
      `  time zone:    ${timeZone}`,
      `  super admin:  ${admin.email}`,
      `  sign in at:   ${loginUrlOf(config)}`,
    );
  });
}
