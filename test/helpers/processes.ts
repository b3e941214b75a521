// Real `twofold` processes: `twofold serve` on ports reserved for it (visited with
// helpers/browser.ts over HTTP), and a command run to its end.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { reservePort } from './ports.js';

const BIN = fileURLToPath(new URL('../../bin/twofold.js', import.meta.url));

/** The environment of a child: only what the test sets, never the developer's own TWOFOLD_* or DATABASE_URL. */
export function childEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const base = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith('TWOFOLD_') && name !== 'DATABASE_URL'),
  );
  return { ...base, TWOFOLD_DATA_DIR: '/nonexistent/twofold-must-not-use-this', ...env };
}

export interface CommandRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `twofold ARGS` to its end, with only `env` of the developer's TWOFOLD_* settings
 * (see childEnv) and `stdin` as its standard input. Killed after 60 s, it ends with code null.
 */
export function runTwofold(args: string[], env: Record<string, string>, stdin = ''): Promise<CommandRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: childEnv(env), timeout: 60_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

export interface RunningServer {
  /** http://127.0.0.1:PORT */
  url: string;
  child: ChildProcess;
  /** What the process wrote so far, for failure messages. */
  output(): string;
  /** SIGTERM, then SIGKILL when it has not exited after `graceMs`. Resolves once it has exited. */
  stop(graceMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `twofold serve` on a port of 127.0.0.1 reserved for it (see ports.ts); resolves once /readyz answers 200. */
export function startServer(env: Record<string, string>, readyWithinMs = 60_000): Promise<RunningServer> {
  return startServerUnder([], env, readyWithinMs);
}

/**
 * Like startServer, with `twofold serve` run by a command that then executes it in its
 * place (`nsenter -t PID -m --`, into another process's mount namespace): the child is
 * then the server itself, and signals reach it.
 */
export async function startServerUnder(
  prefix: string[],
  env: Record<string, string>,
  readyWithinMs = 60_000,
): Promise<RunningServer> {
  const port = await reservePort();
  const url = `http://127.0.0.1:${port}`;
  const [command, ...args] = [...prefix, process.execPath, BIN, 'serve'];
  const child = spawn(command ?? process.execPath, args, {
    env: childEnv({ HOST: '127.0.0.1', PORT: String(port), ...env }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output = (output + chunk.toString('utf8')).slice(-20_000)));
  child.stderr.on('data', (chunk: Buffer) => (output = (output + chunk.toString('utf8')).slice(-20_000)));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const server: RunningServer = {
    url,
    child,
    output: () => output,
    stop: async (graceMs = 5_000) => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        try {
          return await exited;
        } finally {
          clearTimeout(timer);
        }
      }
      return exited;
    },
  };
  const deadline = Date.now() + readyWithinMs;
  while (true) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`twofold serve on port ${port} exited before it was ready: ${output}`);
    }
    try {
      if ((await fetch(`${url}/readyz`)).status === 200) return server;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      await server.stop(1_000);
      throw new Error(`twofold serve on port ${port} was not ready within ${readyWithinMs} ms: ${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
