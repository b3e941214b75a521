// The options that describe an application, shared by `app create` and `app update`, and
// what they stand for: checked before anything is opened, by the rules the service applies.
import { applicationProblems, type ApplicationProblems } from '../domain/applications.js';
import type { ApplicationChange } from '../services/applications.js';
import { message } from '../web/messages.js';
import type { Checked } from './account-options.js';
import type { OptionSpecs, OptionValues } from './args.js';
import { refused } from './command.js';

/**
 * As `app update` takes them: each may be left out, and the setting then stays as it is; a
 * requirement is turned on with --NAME and off with --no-NAME.
 */
export const settingOptions = {
  name: { value: 'NAME', about: 'The name people know the application by.' },
  'redirect-uri': {
    value: 'URI',
    about: 'An exact address it receives sign-ins at; give it once per address.',
    kind: 'list',
  },
  'post-logout-redirect-uri': {
    value: 'URI',
    about: 'An exact address it may send people to after signing out.',
    kind: 'list',
  },
  'require-2fa': { value: '', about: 'Everyone signing in to it gives a second factor.', kind: 'switch' },
  'require-phishing-resistant': {
    value: '',
    about: 'Everyone signing in to it uses a security key or passkey, whatever it asks for.',
    kind: 'switch',
  },
  'id-token-signing-alg': { value: 'ALG', about: 'How its ID tokens are signed: RS256 or ES256.' },
} as const;

/** As `app create` takes them: a name and a redirect address are required, a requirement is off unless given. */
export const newApplicationOptions = {
  ...settingOptions,
  name: { ...settingOptions.name, required: true },
  'redirect-uri': { ...settingOptions['redirect-uri'], required: true },
  'require-2fa': { ...settingOptions['require-2fa'], kind: 'flag' },
  'require-phishing-resistant': { ...settingOptions['require-phishing-resistant'], kind: 'flag' },
  'id-token-signing-alg': {
    ...settingOptions['id-token-signing-alg'],
    about: 'How its ID tokens are signed: RS256 (the default) or ES256.',
  },
} as const;

/** The options `app update` takes a setting from, as its refusal to change nothing names them. */
export function settingFlags(): string {
  const specs: OptionSpecs = settingOptions;
  const flags = Object.entries(specs).flatMap(([name, spec]) =>
    spec.kind === 'switch' ? [`--${name}`, `--no-${name}`] : [`--${name}`],
  );
  return `${flags.slice(0, -1).join(', ')} or ${flags.at(-1)}`;
}

/** The first of the problems, named by the option it is about; null when there are none. */
export function firstProblem(problems: ApplicationProblems): string | null {
  if (problems.name !== undefined) return `--name: ${message(problems.name)}`;
  for (const [flag, problem] of [
    ['--redirect-uri', problems.redirectUris],
    ['--post-logout-redirect-uri', problems.postLogoutRedirectUris],
  ] as const) {
    if (problem !== undefined)
      return `${flag}${problem.uri === null ? '' : ` "${problem.uri}"`}: ${message(problem.problem)}`;
  }
  if (problems.idTokenSigningAlg !== undefined) return `--id-token-signing-alg: ${message(problems.idTokenSigningAlg)}`;
  return null;
}

/**
 * The settings the options give, for the service: one not given is undefined (so is a list
 * given no address), and --post-logout-redirect-uri "" gives none. `app create`'s values
 * fit too: they always give the name, a redirect address and both requirements.
 */
export function settingsFrom(values: OptionValues<typeof settingOptions>): Checked<ApplicationChange> {
  const given = (list: string[]) => (list.length > 0 ? list : undefined);
  const change: ApplicationChange = {
    name: values.name,
    redirectUris: given(values['redirect-uri']),
    postLogoutRedirectUris: given(values['post-logout-redirect-uri'])?.filter((uri) => uri !== ''),
    requireTwoFactor: values['require-2fa'],
    requirePhishingResistant: values['require-phishing-resistant'],
    idTokenSigningAlg: values['id-token-signing-alg'],
  };
  const problem = firstProblem(applicationProblems(change));
  return problem === null ? { ok: true, value: change } : { ok: false, outcome: refused(problem) };
}
