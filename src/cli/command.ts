// What a command is, and what it can end in. main.ts turns outcomes into output and exit codes.
import type { EventEmitter } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import { helpText, parseOptions, type OptionSpecs, type OptionValues } from './args.js';

/** The outside world a command may touch, passed in from main. */
export interface Io {
  env: Record<string, string | undefined>;
  stdin: Readable & { isTTY?: boolean };
  /** For prompts and warnings; results go to stdout through the outcome. */
  stderr: Writable;
  /** Where SIGINT and SIGTERM arrive, which stop `twofold serve`: the process, or a test's emitter. */
  signals: Pick<EventEmitter, 'once' | 'off'>;
}

export type Outcome =
  | { ok: true; lines: string[] }
  /** usage: the arguments (or the password) were refused before anything was written. */
  | { ok: false; reason: 'usage' | 'cancelled'; problem: string }
  /** failed: the work ran but could not finish; `lines` report what it did. */
  | { ok: false; reason: 'failed'; problem: string; lines: string[] };

export function done(...lines: string[]): Outcome {
  return { ok: true, lines };
}

export function refused(problem: string): Outcome {
  return { ok: false, reason: 'usage', problem };
}

export function failed(problem: string, ...lines: string[]): Outcome {
  return { ok: false, reason: 'failed', problem, lines };
}

export interface Command {
  /** As typed after `twofold`, such as "user create". */
  path: string;
  summary: string;
  help: string;
  run(argv: readonly string[], io: Io): Promise<Outcome>;
}

export function defineCommand<const S extends OptionSpecs>(definition: {
  path: string;
  summary: string;
  options: S;
  notes?: readonly string[];
  run(values: OptionValues<S>, io: Io): Promise<Outcome>;
}): Command {
  const help = helpText(definition);
  return {
    path: definition.path,
    summary: definition.summary,
    help,
    run(argv, io) {
      const parsed = parseOptions(argv, definition.options);
      switch (parsed.kind) {
        case 'help':
          return Promise.resolve(done(help));
        case 'problem':
          return Promise.resolve(refused(parsed.problem));
        case 'values':
          return definition.run(parsed.values, io);
      }
    },
  };
}
