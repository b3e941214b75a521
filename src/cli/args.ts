// Options of one command, parsed strictly (node:util parseArgs), and the help text that
// documents them; both come from the same spec so they cannot disagree.
import { parseArgs } from 'node:util';

export interface OptionSpec {
  /** The placeholder shown in help, such as EMAIL; a flag has none. */
  value: string;
  about: string;
  required?: boolean;
  /**
   * A list may be given several times; a flag takes no value and is on when given; a switch
   * is on with --NAME, off with --no-NAME, and left as it is when neither is given.
   */
  kind?: 'list' | 'flag' | 'switch';
}

export type OptionSpecs = Readonly<Record<string, Readonly<OptionSpec>>>;

export type OptionValues<S extends OptionSpecs> = {
  [K in keyof S]: S[K] extends { kind: 'list' }
    ? string[]
    : S[K] extends { kind: 'flag' }
      ? boolean
      : S[K] extends { kind: 'switch' }
        ? boolean | undefined
        : S[K] extends { required: true }
          ? string
          : string | undefined;
};

export type ParsedOptions<S extends OptionSpecs> =
  { kind: 'help' } | { kind: 'values'; values: OptionValues<S> } | { kind: 'problem'; problem: string };

function wantsHelp(argv: readonly string[]): boolean {
  const beforeSeparator = argv.includes('--') ? argv.slice(0, argv.indexOf('--')) : argv;
  return beforeSeparator.includes('--help') || beforeSeparator.includes('-h');
}

/** parseArgs explains its refusals at length; the first quoted token is what went wrong. */
function problemOf(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  const token = /'([^']+)'/.exec(message)?.[1]?.replace(/ <value>$/, '') ?? '';
  switch (code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown option ${token}`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      if (message.includes('does not take an argument')) return `${token} takes no value`;
      // A value that starts with "-" (a client_id may) reads as an option after a space.
      if (message.includes('is ambiguous'))
        return `${token} needs a value; write one that starts with "-" as ${token}=VALUE`;
      return `${token} needs a value`;
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return `unexpected argument "${token}"`;
    default:
      throw error;
  }
}

export function parseOptions<S extends OptionSpecs>(argv: readonly string[], specs: S): ParsedOptions<S> {
  if (wantsHelp(argv)) return { kind: 'help' };
  const options = Object.fromEntries(
    Object.entries(specs).flatMap(([name, spec]) => {
      if (spec.kind === 'switch') {
        const flag = { type: 'boolean' as const, multiple: false };
        return [
          [name, flag],
          [`no-${name}`, flag],
        ];
      }
      return [
        [
          name,
          { type: spec.kind === 'flag' ? ('boolean' as const) : ('string' as const), multiple: spec.kind === 'list' },
        ],
      ];
    }),
  );
  let parsed: Record<string, string | boolean | (string | boolean)[] | undefined>;
  try {
    parsed = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    return { kind: 'problem', problem: problemOf(error) };
  }
  const values: Record<string, string | boolean | string[] | undefined> = {};
  for (const [name, spec] of Object.entries(specs)) {
    const given = parsed[name];
    if (spec.required === true && given === undefined) {
      return { kind: 'problem', problem: `missing --${name} ${spec.value}` };
    }
    if (spec.kind === 'switch') {
      const off = parsed[`no-${name}`] === true;
      if (given === true && off) return { kind: 'problem', problem: `give --${name} or --no-${name}, not both` };
      values[name] = given === true ? true : off ? false : undefined;
    } else if (spec.kind === 'list') values[name] = Array.isArray(given) ? given.map(String) : [];
    else if (spec.kind === 'flag') values[name] = given === true;
    else values[name] = typeof given === 'string' ? given : undefined;
  }
  // Each value was read by its spec's kind just above, and the required ones checked.
  return { kind: 'values', values: values as OptionValues<S> };
}

function table(rows: readonly [string, string][]): string[] {
  const width = Math.max(0, ...rows.map(([left]) => left.length));
  return rows.map(([left, right]) => `  ${left.padEnd(width)}  ${right}`);
}

export function helpText(definition: {
  path: string;
  summary: string;
  options: OptionSpecs;
  notes?: readonly string[];
}): string {
  const entries = Object.entries(definition.options);
  const usage = (name: string, spec: OptionSpec) =>
    spec.kind === 'switch'
      ? `--${name} | --no-${name}`
      : spec.kind === 'flag'
        ? `--${name}`
        : `--${name} ${spec.value}`;
  const synopsis = entries.map(([name, spec]) => {
    const one = usage(name, spec);
    const repeated = spec.kind === 'list' ? `${one} [${one} ...]` : one;
    return spec.required === true ? repeated : `[${repeated}]`;
  });
  const rows: [string, string][] = entries.map(([name, spec]) => [
    spec.kind === 'switch' ? `--${name}, --no-${name}` : usage(name, spec),
    spec.about,
  ]);
  rows.push(['-h, --help', 'Show this help.']);
  return [
    `Usage: twofold ${[definition.path, ...synopsis].join(' ')}`,
    '',
    definition.summary,
    '',
    'Options:',
    ...table(rows),
    ...(definition.notes ?? []).flatMap((note) => ['', note]),
  ].join('\n');
}

export function listing(title: string, rows: readonly [string, string][]): string[] {
  return [title, ...table(rows)];
}
