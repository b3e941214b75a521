// `twofold migrate`: brings the database's tables up to this version, and nothing else.
// Instances migrate at start too; this is for running it once, before they start.
import { defineCommand, done, type Command } from './command.js';

export const migrate: Command = defineCommand({
  path: 'migrate',
  summary: 'Bring the database up to this version, then exit.',
  options: {},
  notes: [
    'Every instance and command migrates when it starts, taking turns on PostgreSQL, so this\n' +
      'is optional. Running it once before starting the new version of several instances\n' +
      'keeps the work out of their start-up and shows a failed migration before any of\n' +
      'them stops. Running it again changes nothing.',
  ],
  async run(_options, io) {
    const { withInstance } = await import('./instance.js');
    return withInstance(io, ({ migrated }) =>
      Promise.resolve(
        migrated.length === 0
          ? done('The database is up to date: no migration to run.')
          : done(`Ran ${migrated.length} migration(s): ${migrated.join(', ')}.`),
      ),
    );
  },
});
