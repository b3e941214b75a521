// `user reset-2fa` once its options are accepted: the break-glass reset, through the same
// service the admin pages use.
import { emailKey } from '../domain/users.js';
import { resetTwoFactor } from '../services/administration.js';
import { findAccountByEmail } from '../store/logins.js';
import { tenantFor } from '../store/tenant.js';
import { done, refused, type Io, type Outcome } from './command.js';
import { withInstance } from './instance.js';

export function resetTwoFactorOf(io: Io, email: string): Promise<Outcome> {
  return withInstance(io, async ({ deps }) => {
    const found = await findAccountByEmail(deps.db, emailKey(email));
    if (found === null) return refused(`no account has the email address ${email.trim()}`);
    const { user, organisation } = found;
    const tenant = tenantFor(deps.db, user.organisationId);
    // The audit log shows no actor and "the twofold command" as the client.
    const removed = await resetTwoFactor(
      deps,
      tenant,
      { actor: null, client: { ip: 'local', userAgent: 'twofold command' } },
      user,
    );
    return done(
      `Reset two-factor authentication for ${user.email} in ${organisation.name}:`,
      `  removed ${removed === 1 ? '1 authenticator device' : `${removed} authenticator devices`} and ended all their sessions.`,
      '  They will set up a new device the next time they sign in.',
    );
  });
}
