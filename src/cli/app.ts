// `twofold app ...`: the applications that sign people in through Twofold with OpenID
// Connect. The options are checked here; the work, which needs the database, is loaded only then.
import {
  applicationNameProblem,
  ID_TOKEN_SIGNING_ALGS,
  isIdTokenSigningAlg,
  redirectUrisProblem,
} from '../domain/applications.js';
import { message } from '../web/messages.js';
import { defineCommand, refused, type Command } from './command.js';

const org = { value: 'ORG', about: "The organisation's name or id.", required: true } as const;
const clientId = { value: 'ID', about: 'The client_id of the application.', required: true } as const;

const create = defineCommand({
  path: 'app create',
  summary: 'Register an application; prints its client_id and client_secret.',
  options: {
    org,
    name: { value: 'NAME', about: 'The name people know the application by.', required: true },
    'redirect-uri': {
      value: 'URI',
      about: 'An exact address the application receives sign-ins at; give it once per address.',
      required: true,
      kind: 'list',
    },
    'post-logout-redirect-uri': {
      value: 'URI',
      about: 'An exact address the application may send people to after signing out.',
      kind: 'list',
    },
    'require-2fa': { value: '', about: 'Everyone signing in to it gives a second factor.', kind: 'flag' },
    'id-token-signing-alg': { value: 'ALG', about: 'How its ID tokens are signed: RS256 (the default) or ES256.' },
  },
  notes: [
    'The client secret is shown only now; Twofold keeps only its hash. Store it in the\n' +
      'application\'s configuration, or make a new one with "twofold app rotate-secret".',
  ],
  async run(options, io) {
    const badName = applicationNameProblem(options.name);
    if (badName !== null) return refused(`--name: ${message(badName)}`);
    for (const [flag, uris, required] of [
      ['--redirect-uri', options['redirect-uri'], true],
      ['--post-logout-redirect-uri', options['post-logout-redirect-uri'], false],
    ] as const) {
      const bad = redirectUrisProblem(uris, required);
      if (bad !== null) return refused(`${flag}${bad.uri === null ? '' : ` "${bad.uri}"`}: ${message(bad.problem)}`);
    }
    const alg = options['id-token-signing-alg'] ?? 'RS256';
    if (!isIdTokenSigningAlg(alg))
      return refused(`--id-token-signing-alg: choose ${ID_TOKEN_SIGNING_ALGS.join(' or ')}`);
    const { createApplicationFor } = await import('./applications.js');
    return createApplicationFor(io, options.org, {
      name: options.name,
      redirectUris: options['redirect-uri'],
      postLogoutRedirectUris: options['post-logout-redirect-uri'],
      requireTwoFactor: options['require-2fa'],
      idTokenSigningAlg: alg,
    });
  },
});

const update = defineCommand({
  path: 'app update',
  summary: "Change an application's name, addresses, 2FA requirement or ID token signature.",
  options: {
    org,
    'client-id': clientId,
    name: { value: 'NAME', about: 'The name people know the application by.' },
    'redirect-uri': {
      value: 'URI',
      about: 'An exact address it receives sign-ins at; the ones given replace all it had.',
      kind: 'list',
    },
    'post-logout-redirect-uri': {
      value: 'URI',
      about: 'An address it may send people to after signing out; the ones given replace all it had.',
      kind: 'list',
    },
    'require-2fa': { value: '', about: 'Everyone signing in to it gives a second factor, or not.', kind: 'switch' },
    'id-token-signing-alg': { value: 'ALG', about: 'How its ID tokens are signed: RS256 or ES256.' },
  },
  notes: [
    'What is not given stays as it is; the client_id and the secret never change. Give\n' +
      '--post-logout-redirect-uri "" to remove every address after signing out.',
  ],
  async run(options, io) {
    const name = options.name;
    if (name !== undefined) {
      const badName = applicationNameProblem(name);
      if (badName !== null) return refused(`--name: ${message(badName)}`);
    }
    const redirectUris = options['redirect-uri'].length > 0 ? options['redirect-uri'] : undefined;
    const logouts = options['post-logout-redirect-uri'];
    const postLogoutRedirectUris = logouts.length > 0 ? logouts.filter((uri) => uri !== '') : undefined;
    for (const [flag, uris, required] of [
      ['--redirect-uri', redirectUris, true],
      ['--post-logout-redirect-uri', postLogoutRedirectUris, false],
    ] as const) {
      const bad = uris === undefined ? null : redirectUrisProblem(uris, required);
      if (bad !== null) return refused(`${flag}${bad.uri === null ? '' : ` "${bad.uri}"`}: ${message(bad.problem)}`);
    }
    const alg = options['id-token-signing-alg'];
    if (alg !== undefined && !isIdTokenSigningAlg(alg))
      return refused(`--id-token-signing-alg: choose ${ID_TOKEN_SIGNING_ALGS.join(' or ')}`);
    const requireTwoFactor = options['require-2fa'];
    if (
      name === undefined &&
      redirectUris === undefined &&
      postLogoutRedirectUris === undefined &&
      requireTwoFactor === undefined &&
      alg === undefined
    ) {
      return refused(
        'nothing to change: give --name, --redirect-uri, --post-logout-redirect-uri, --require-2fa, --no-require-2fa or --id-token-signing-alg',
      );
    }
    const { updateApplicationOf } = await import('./applications.js');
    return updateApplicationOf(io, options.org, options['client-id'], {
      name,
      redirectUris,
      postLogoutRedirectUris,
      requireTwoFactor,
      idTokenSigningAlg: alg,
    });
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
