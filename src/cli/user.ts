// `twofold user ...`: accounts with a password set from the command line, and the
// break-glass reset for someone (often the only admin) locked out of their second factor.
// The options are checked here; the work, which needs the database, is loaded only then.
import { message } from '../web/messages.js';
import { emailProblem, isRole, ROLES } from '../domain/users.js';
import { accountFrom } from './account-options.js';
import { defineCommand, refused, type Command } from './command.js';
import { PASSWORD_HELP } from './password-input.js';

const create = defineCommand({
  path: 'user create',
  summary: 'Create an active account with a password in an organisation.',
  options: {
    org: { value: 'ORG', about: "The organisation's name or id.", required: true },
    email: { value: 'EMAIL', about: 'The email address, used to sign in; unique across the instance.', required: true },
    role: { value: 'ROLE', about: `One of ${ROLES.join(', ')}.`, required: true },
    name: { value: 'NAME', about: "The person's name (default: the part of the email before @)." },
  },
  notes: [PASSWORD_HELP],
  async run(options, io) {
    const account = accountFrom({ email: options.email, name: options.name }, { email: '--email', name: '--name' });
    if (!account.ok) return account.outcome;
    const role = options.role;
    if (!isRole(role)) return refused(`--role "${role}" must be one of ${ROLES.join(', ')}`);
    const { createUser } = await import('./create-user.js');
    return createUser(io, { organisation: options.org, account: account.value, role });
  },
});

const resetTwoFactor = defineCommand({
  path: 'user reset-2fa',
  summary: "Reset someone's two-factor authentication when they are locked out.",
  options: {
    email: { value: 'EMAIL', about: 'The email address of the account.', required: true },
  },
  notes: [
    'Removes all their authenticator devices and ends their sessions. They set up a new\n' +
      'device the next time they sign in. Use it for an admin who lost their only device.',
  ],
  async run(options, io) {
    const badEmail = emailProblem(options.email);
    if (badEmail !== null) return refused(`--email "${options.email}": ${message(badEmail)}`);
    const { resetTwoFactorOf } = await import('./reset-two-factor.js');
    return resetTwoFactorOf(io, options.email);
  },
});

export const userCommands: { summary: string; commands: Command[] } = {
  summary: 'Manage user accounts.',
  commands: [create, resetTwoFactor],
};
