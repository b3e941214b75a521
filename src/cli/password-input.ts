// A new password, never from an argument (it would stay in the shell history and show in
// `ps`): the first line of piped standard input, or typed twice at a terminal without echo.
import { createInterface } from 'node:readline';
import { Writable, type Readable } from 'node:stream';
import { PASSWORD_MIN_LENGTH, passwordProblem } from '../domain/passwords.js';
import { message } from '../web/messages.js';
import type { Io } from './command.js';

export type PasswordInput =
  | { ok: true; password: string }
  | { ok: false; reason: 'invalid'; problem: string }
  | { ok: false; reason: 'cancelled' };

export const PASSWORD_HELP =
  'The password is read from the first line of standard input when it is piped, or asked\n' +
  `for twice at a terminal. It must have at least ${PASSWORD_MIN_LENGTH} characters.`;

function firstLineOf(input: Readable): Promise<string> {
  return new Promise((resolve) => {
    const lines = createInterface({ input, crlfDelay: Infinity });
    let first = '';
    lines.once('line', (line) => {
      first = line;
      lines.close();
    });
    lines.once('close', () => {
      // A writer that keeps the pipe open after the line would otherwise keep us running.
      input.destroy();
      resolve(first);
    });
  });
}

/** null when the person gives up (Ctrl+C or end of input). */
async function promptTwice(input: Readable, output: Writable): Promise<[string, string] | null> {
  // readline echoes what is typed to its output, so the output goes quiet while typing.
  let muted = false;
  const echo = new Writable({
    write(chunk: Buffer | string, encoding, next) {
      if (!muted) output.write(chunk, encoding);
      next();
    },
  });
  const terminal = createInterface({ input, output: echo, terminal: true });
  terminal.on('SIGINT', () => terminal.close());
  const ask = (prompt: string) =>
    new Promise<string | null>((resolve) => {
      const gaveUp = () => {
        output.write('\n');
        resolve(null);
      };
      terminal.once('close', gaveUp);
      muted = false;
      terminal.question(prompt, (answer) => {
        terminal.off('close', gaveUp);
        output.write('\n');
        resolve(answer);
      });
      muted = true;
    });
  try {
    const password = await ask('Password: ');
    if (password === null) return null;
    const repeated = await ask('Repeat password: ');
    return repeated === null ? null : [password, repeated];
  } finally {
    muted = false;
    terminal.close();
  }
}

export async function readNewPassword(io: Io): Promise<PasswordInput> {
  let password: string;
  let confirmation: string;
  if (io.stdin.isTTY === true) {
    const typed = await promptTwice(io.stdin, io.stderr);
    if (typed === null) return { ok: false, reason: 'cancelled' };
    [password, confirmation] = typed;
  } else {
    password = confirmation = await firstLineOf(io.stdin);
  }
  const problem = passwordProblem(password, confirmation);
  if (problem !== null) return { ok: false, reason: 'invalid', problem: message(problem) };
  return { ok: true, password };
}
