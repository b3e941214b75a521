// The `twofold` command: finds the command named by the arguments, runs it, and turns its
// outcome into output and an exit code (0 done, 1 failed, 2 refused arguments, 130
// cancelled). bin/twofold.js calls main with the process's own streams and environment;
// the tests call it with theirs.
import type { Writable } from 'node:stream';
import { appCommands } from './app.js';
import { oidcCommands } from './oidc.js';
import { listing } from './args.js';
import type { Command, Io, Outcome } from './command.js';
import { keyCommands } from './key.js';
import { migrate } from './migrate.js';
import { orgCommands } from './org.js';
import { serve } from './serve.js';
import { siteCommands } from './site.js';
import { userCommands } from './user.js';

const GROUPS: Readonly<Record<string, { summary: string; commands: Command[] }>> = {
  org: orgCommands,
  user: userCommands,
  key: keyCommands,
  app: appCommands,
  oidc: oidcCommands,
  site: siteCommands,
};

const ENVIRONMENT: [string, string][] = [
  ['TWOFOLD_DATA_DIR', 'Where the SQLite database and the generated key live (default: ./data).'],
  ['DATABASE_URL', 'A postgres:// URL, or a SQLite file (default: DATA_DIR/twofold.sqlite).'],
  ['TWOFOLD_SECRET_KEY', 'Encrypts authenticator secrets: 32 bytes as hex or base64. Required'],
  ['', 'with PostgreSQL; otherwise generated in DATA_DIR/secret.key on first use.'],
  ['TWOFOLD_PREVIOUS_SECRET_KEYS', 'Old keys, comma-separated, still read during a key rotation.'],
  ['TWOFOLD_PUBLIC_URL', 'Where people reach Twofold (default: http://HOST:PORT).'],
  ['HOST, PORT', 'Where the server listens (default: 127.0.0.1 and 3000).'],
  ['TWOFOLD_TRUST_PROXY', 'true behind a reverse proxy that sets X-Forwarded-For.'],
  ['TWOFOLD_SESSION_IDLE_MINUTES', 'Sign out after this long without activity (default: 30).'],
  ['TWOFOLD_SESSION_ABSOLUTE_HOURS', 'Sign out after this long in any case (default: 12).'],
  ['TWOFOLD_LOG_LEVEL', 'The server log level (default: info).'],
  ['TWOFOLD_METRICS', 'true to serve Prometheus metrics at /metrics; keep it private.'],
];

const HELP = [
  'Usage: twofold <command> [options]',
  '',
  'Self-hosted password sign-in with a second factor.',
  '',
  ...listing('Commands:', [
    [serve.path, serve.summary],
    [migrate.path, migrate.summary],
    ...Object.values(GROUPS).flatMap((group) => group.commands.map((c): [string, string] => [c.path, c.summary])),
  ]),
  '',
  'Run "twofold <command> --help" for its options.',
  '',
  ...listing('Environment:', ENVIRONMENT),
].join('\n');

function groupHelp(name: string, group: { summary: string; commands: Command[] }): string {
  return [
    `Usage: twofold ${name} <command> [options]`,
    '',
    group.summary,
    '',
    ...listing(
      'Commands:',
      group.commands.map((c): [string, string] => [c.path.slice(name.length + 1), c.summary]),
    ),
    '',
    `Run "twofold ${name} <command> --help" for its options.`,
  ].join('\n');
}

const isHelp = (word: string | undefined) => word === '--help' || word === '-h' || word === 'help';

/** The command to run, or help text, or a refusal; `helpPath` is what the refusal points to. */
function route(
  argv: readonly string[],
): { command: Command; rest: string[] } | { help: string } | { problem: string; helpPath: string } {
  const [first, second, ...rest] = argv;
  if (first === undefined) return { problem: 'missing command', helpPath: '' };
  if (isHelp(first)) return { help: HELP };
  for (const command of [serve, migrate]) {
    if (first === command.path) return { command, rest: argv.slice(1) };
  }
  const group = GROUPS[first];
  if (group === undefined) return { problem: `unknown command "${first}"`, helpPath: '' };
  if (isHelp(second)) return { help: groupHelp(first, group) };
  if (second === undefined) return { problem: `missing ${first} command`, helpPath: first };
  const command = group.commands.find((c) => c.path === `${first} ${second}`);
  if (command === undefined) return { problem: `unknown command "${first} ${second}"`, helpPath: first };
  return { command, rest };
}

function sentence(text: string): string {
  return /[.!?]$/.test(text) ? text : `${text}.`;
}

/** What main touches: a command's Io, and where results go. */
export interface MainIo extends Io {
  stdout: Writable;
}

export async function main(argv: readonly string[], io: MainIo): Promise<number> {
  const routed = route(argv);
  if ('help' in routed) {
    io.stdout.write(`${routed.help}\n`);
    return 0;
  }
  if ('problem' in routed) {
    io.stderr.write(
      `twofold: ${sentence(routed.problem)} See "twofold ${routed.helpPath ? `${routed.helpPath} ` : ''}--help".\n`,
    );
    return 2;
  }
  let outcome: Outcome;
  try {
    outcome = await routed.command.run(routed.rest, io);
  } catch (error) {
    // A ConfigError, or the database failing: one line for the operator, no stack.
    io.stderr.write(`twofold: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
  if (outcome.ok) {
    if (outcome.lines.length > 0) io.stdout.write(`${outcome.lines.join('\n')}\n`);
    return 0;
  }
  switch (outcome.reason) {
    case 'usage':
      io.stderr.write(`twofold: ${sentence(outcome.problem)} See "twofold ${routed.command.path} --help".\n`);
      return 2;
    case 'cancelled':
      io.stderr.write(`twofold: ${outcome.problem}\n`);
      return 130;
    case 'failed':
      if (outcome.lines.length > 0) io.stdout.write(`${outcome.lines.join('\n')}\n`);
      io.stderr.write(`twofold: ${outcome.problem}\n`);
      return 1;
  }
}
