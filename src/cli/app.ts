// `twofold app ...`: the applications that sign people in through Twofold with OpenID
// Connect. The options are checked here; the work, which needs the database, is loaded only then.
import { newApplicationOptions, settingFlags, settingOptions, settingsFrom } from './application-options.js';
import { defineCommand, refused, type Command } from './command.js';

const org = { value: 'ORG', about: "The organisation's name or id.", required: true } as const;
const clientId = { value: 'ID', about: 'The client_id of the application.', required: true } as const;

const create = defineCommand({
  path: 'app create',
  summary: 'Register an application; prints its client_id and client_secret.',
  options: { org, ...newApplicationOptions },
  notes: [
    'The client secret is shown only now; Twofold keeps only its hash. Store it in the\n' +
      'application\'s configuration, or make a new one with "twofold app rotate-secret".',
  ],
  async run(options, io) {
    const checked = settingsFrom(options);
    if (!checked.ok) return checked.outcome;
    const { createApplicationFor } = await import('./applications.js');
    // What the service requires of a new application, the options require too.
    return createApplicationFor(io, options.org, {
      ...checked.value,
      name: options.name,
      redirectUris: options['redirect-uri'],
    });
  },
});

const update = defineCommand({
  path: 'app update',
  summary: "Change an application's name, addresses, requirements or ID token signature.",
  options: { org, 'client-id': clientId, ...settingOptions },
  notes: [
    'What is not given stays as it is; the addresses given replace all it had of their kind,\n' +
      'and --no-require-2fa or --no-require-phishing-resistant turns that requirement off. The\n' +
      'client_id and the secret never change. Give --post-logout-redirect-uri "" to remove\n' +
      'every address after signing out.',
  ],
  async run(options, io) {
    const checked = settingsFrom(options);
    if (!checked.ok) return checked.outcome;
    if (Object.values(checked.value).every((setting) => setting === undefined))
      return refused(`nothing to change: give ${settingFlags()}`);
    const { updateApplicationOf } = await import('./applications.js');
    return updateApplicationOf(io, options.org, options['client-id'], checked.value);
  },
});

const list = defineCommand({
  path: 'app list',
  summary: "List an organisation's applications.",
  options: { org },
  async run(options, io) {
    const { listApplicationsOf } = await import('./applications.js');
    return listApplicationsOf(io, options.org);
  },
});

const rotateSecret = defineCommand({
  path: 'app rotate-secret',
  summary: "Replace an application's client secret; the old one stops working at once.",
  options: { org, 'client-id': clientId },
  async run(options, io) {
    const { rotateSecretOf } = await import('./applications.js');
    return rotateSecretOf(io, options.org, options['client-id']);
  },
});

const remove = defineCommand({
  path: 'app delete',
  summary: 'Delete an application: nobody signs in to it through Twofold any more.',
  options: { org, 'client-id': clientId },
  async run(options, io) {
    const { deleteApplicationOf } = await import('./applications.js');
    return deleteApplicationOf(io, options.org, options['client-id']);
  },
});

export const appCommands: { summary: string; commands: Command[] } = {
  summary: 'Manage the applications that sign people in through Twofold (OpenID Connect).',
  commands: [create, update, list, rotateSecret, remove],
};
