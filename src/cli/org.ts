// `twofold org ...`: organisations, each created together with its first super admin.
// The options are checked here; the work, which needs the database, is loaded only then.
import { canonicalTimeZone } from '../domain/time-zones.js';
import { nameProblem } from '../domain/users.js';
import { message } from '../web/messages.js';
import { accountFrom } from './account-options.js';
import { defineCommand, refused, type Command } from './command.js';
import { PASSWORD_HELP } from './password-input.js';

const create = defineCommand({
  path: 'org create',
  summary: 'Create an organisation and its first super admin.',
  options: {
    name: { value: 'NAME', about: "The organisation's name; no two may share one, whatever its case.", required: true },
    'admin-email': { value: 'EMAIL', about: "The first super admin's email address, used to sign in.", required: true },
    'admin-name': { value: 'NAME', about: "The super admin's name (default: the part of the email before @)." },
    'time-zone': { value: 'ZONE', about: 'IANA time zone for deadlines, such as Europe/Amsterdam (default: UTC).' },
  },
  notes: [PASSWORD_HELP],
  async run(options, io) {
    const name = options.name.trim();
    const badName = nameProblem(name);
    if (badName !== null) return refused(`--name: ${message(badName)}`);
    const admin = accountFrom(
      { email: options['admin-email'], name: options['admin-name'] },
      { email: '--admin-email', name: '--admin-name' },
    );
    if (!admin.ok) return admin.outcome;
    const timeZone = canonicalTimeZone(options['time-zone'] ?? 'UTC');
    if (timeZone === null)
      return refused(`--time-zone "${options['time-zone']}" is not an IANA time zone such as Europe/Amsterdam`);
    const { createOrganisation } = await import('./create-organisation.js');
    return createOrganisation(io, { name, timeZone, admin: admin.value });
  },
});

export const orgCommands: { summary: string; commands: Command[] } = {
  summary: 'Manage organisations.',
  commands: [create],
};
