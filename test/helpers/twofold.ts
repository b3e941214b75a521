// The `twofold` command run in this process, as bin/twofold.js runs it: main with the
// test's own arguments, environment and standard streams. Only what the test sets is in
// the environment, never the developer's own TWOFOLD_* or DATABASE_URL.
import { EventEmitter } from 'node:events';
import { PassThrough, Writable } from 'node:stream';
import { main } from '../../src/cli/main.js';

export interface CommandRun {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CommandInput {
  env: Record<string, string>;
  /** Piped standard input, ended after this text unless `keepStdinOpen`. */
  stdin?: string;
  /** The writer keeps the pipe open after its text, as a program feeding it may. */
  keepStdinOpen?: boolean;
  /**
   * Standard input is a terminal instead, where a person types each answer (with its own
   * Enter, "\r", or Ctrl+C, "\u0003") once the command has asked its next question.
   */
  typed?: readonly string[];
  /** Where `twofold serve` listens for SIGINT and SIGTERM: a test emits them here. */
  signals?: EventEmitter;
}

/** A stream that keeps what is written to it, and tells `onWrite` the text so far. */
function collector(onWrite: (text: string) => void = () => {}): { stream: Writable; text(): string } {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      text += chunk.toString();
      onWrite(text);
      done();
    },
  });
  return { stream, text: () => text };
}

/** The questions asked so far at the terminal: "Password: ", "Repeat password: ". */
const questionsIn = (text: string) => text.match(/password: /gi)?.length ?? 0;

export async function twofold(args: readonly string[], input: CommandInput): Promise<CommandRun> {
  const stdin = Object.assign(new PassThrough(), { isTTY: input.typed === undefined ? undefined : true });
  const typed = input.typed ?? [];
  let answered = 0;
  const stdout = collector();
  const stderr = collector((text) => {
    // Typed after the question, as a person reads it first.
    while (answered < typed.length && answered < questionsIn(text)) {
      const answer = typed[answered++] ?? '';
      setImmediate(() => stdin.destroyed || stdin.write(answer));
    }
  });
  if (input.typed === undefined) {
    if (input.keepStdinOpen === true) stdin.write(input.stdin ?? '');
    else stdin.end(input.stdin ?? '');
  }
  try {
    const code = await main(args, {
      env: { ...input.env },
      stdin,
      stdout: stdout.stream,
      stderr: stderr.stream,
      signals: input.signals ?? new EventEmitter(),
    });
    return { code, stdout: stdout.text(), stderr: stderr.text() };
  } finally {
    stdin.destroy();
  }
}
