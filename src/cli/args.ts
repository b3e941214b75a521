// Options of one command, parsed strictly (node:util parseArgs), and the help text that
// documents them; both come from the same spec so they cannot disagree.
import { parseArgs } from 'node:util';

export interface OptionSpec {
  /** The placeholder shown in help, such as EMAIL. */
  value: string;
  about: string;
  required?: boolean;
}

export type OptionSpecs = Readonly<Record<string, Readonly<OptionSpec>>>;

export type OptionValues<S extends OptionSpecs> = {
  [K in keyof S]: S[K] extends { required: true } ? string : string | undefined;
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
      return `${token} needs a value`;
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return `unexpected argument "${token}"`;
    default:
      throw error;
  }
}

export function parseOptions<S extends OptionSpecs>(argv: readonly string[], specs: S): ParsedOptions<S> {
  if (wantsHelp(argv)) return { kind: 'help' };
  const options = Object.fromEntries(Object.keys(specs).map((name) => [name, { type: 'string' as const }]));
  let parsed: Record<string, string | boolean | undefined>;
  try {
    parsed = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    return { kind: 'problem', problem: problemOf(error) };
  }
  for (const [name, spec] of Object.entries(specs)) {
    if (spec.required === true && parsed[name] === undefined) {
      return { kind: 'problem', problem: `missing --${name} ${spec.value}` };
    }
  }
  // Every option is declared as a string and the required ones were checked just above.
  return { kind: 'values', values: parsed as OptionValues<S> };
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
  const synopsis = entries.map(([name, spec]) =>
    spec.required === true ? `--${name} ${spec.value}` : `[--${name} ${spec.value}]`,
  );
  const rows: [string, string][] = entries.map(([name, spec]) => [`--${name} ${spec.value}`, spec.about]);
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
