// `user reset-2fa` once its options are accepted: the break-glass reset, through the same
// service the admin pages use.
import { emailKey } from '../domain/users.js';
import { resetTwoFactor } from '../services/administration.js';
import { tenantFor } from '../store/tenant.js';
import { findLoginByEmail } from '../store/users.js';
import { done, refused, type Io, type Outcome } from './command.js';
import { withInstance } from './instance.js';

export function resetTwoFactorOf(io: Io, email: string): Promise<Outcome> {
  return withInstance(io, async ({ deps }) => {
    const found = await findLoginByEmail(deps.db, emailKey(email));
    if (found === null) return refused(`no account has the email address ${email.trim()}`);
    const { user } = found;
    const tenant = tenantFor(deps.db, user.organisationId);
    const organisation = await tenant.organisation.get();
    // Counted for the report only; the reset itself removes whatever is there.
    const devices = await tenant.devices.listForUser(user.id);
    await resetTwoFactor(deps, tenant, user);
    return done(
      `Reset two-factor authentication for ${user.email} in ${organisation.name}:`,
      `  removed ${devices.length === 1 ? '1 authenticator device' : `${devices.length} authenticator devices`} and ended all their sessions.`,
      '  They will set up a new device the next time they sign in.',
    );
  });
}
