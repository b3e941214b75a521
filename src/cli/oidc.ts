// `twofold oidc ...`: the OpenID Connect provider's signing keys.
import { defineCommand, type Command } from './command.js';

const rotateKeys = defineCommand({
  path: 'oidc rotate-keys',
  summary: 'Add new ID-token signing keys; the old ones stay published for a day.',
  options: {},
  notes: [
    'New ID tokens are signed with the new keys once each running instance has seen them\n' +
      '(within 30 seconds). The old keys stay in the published key set for 24 hours, longer\n' +
      'than any token they signed lives, and are deleted by the next rotation after that.',
  ],
  async run(_options, io) {
    const { rotateKeys: rotate } = await import('./oidc-keys.js');
    return rotate(io);
  },
});

export const oidcCommands: { summary: string; commands: Command[] } = {
  summary: 'Manage the OpenID Connect provider.',
  commands: [rotateKeys],
};
