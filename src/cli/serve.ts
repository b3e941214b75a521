// `twofold serve`: the web server, until SIGINT or SIGTERM; then it shuts down gracefully
// (see RunningServer.close). A second signal during the shutdown ends the process at once.
import { setFlagsFromString } from 'node:v8';
import type { KeyNotice } from '../config.js';
import { defineCommand, done, type Command, type Io } from './command.js';

function untilStopped(signals: Io['signals']): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      signals.off('SIGINT', stop);
      signals.off('SIGTERM', stop);
      resolve(signal);
    };
    signals.once('SIGINT', stop);
    signals.once('SIGTERM', stop);
  });
}

/**
 * How much V8 lets its old generation grow past what the last full collection kept before it
 * collects again. Left to itself it allows up to four times as much when a storm of sign-ins
 * allocates fast, and a server peaked near 290 MiB resident while it kept about 35 MiB. At
 * 25 % it peaked about 80 MiB lower in the same run, at the same CPU on the main thread
 * (docs/benchmarks.md, "Stop 21"). Set before the server allocates anything.
 */
const HEAP_GROWING_PERCENT = 25;

export const serve: Command = defineCommand({
  path: 'serve',
  summary: 'Start the web server.',
  options: {},
  notes: ['It is configured by the environment variables listed in "twofold --help".'],
  async run(_options, io) {
    setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
    // Loaded here, so that help does not load the database drivers nor the other commands
    // Fastify. The server reports a generated key itself.
    const { loadConfig } = await import('../config.js');
    const notice: KeyNotice = { generatedAt: null };
    const config = loadConfig(io.env, notice);
    const { startServer } = await import('../server.js');
    const server = await startServer(config, notice);
    const signal = await untilStopped(io.signals);
    server.app.log.info({ signal }, 'shutting down: finishing the requests in flight');
    await server.close();
    server.app.log.info('stopped');
    return done();
  },
});
