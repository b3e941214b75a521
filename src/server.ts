// Starts Twofold: configuration in, a listening server out.
import { readdirSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { setPriority } from 'node:os';
import type { FastifyInstance } from 'fastify';
import type { Config, KeyNotice } from './config.js';
import { openInstance } from './instance.js';
import type { Deps } from './services/deps.js';
import { keepHouse } from './services/housekeeping.js';
import { sendDueReminders } from './services/reminders.js';
import { describeMailTransport } from './services/mail-transport.js';
import { buildApp } from './web/app.js';

/** How long the requests in flight at shutdown may take to finish before their connections are cut. */
export const SHUTDOWN_GRACE_MS = 10_000;

export interface RunningServer {
  app: FastifyInstance;
  url: string;
  /**
   * Stops accepting connections (a request arriving on an open one gets a 503), lets the
   * requests in flight finish, for at most `graceMs`, then closes the database.
   */
  close(graceMs?: number): Promise<void>;
}

async function closeGracefully(app: FastifyInstance, graceMs: number): Promise<void> {
  const cutOff = setTimeout(() => {
    app.log.warn(`requests still in flight after ${graceMs} ms: closing their connections`);
    app.server.closeAllConnections();
  }, graceMs);
  try {
    await app.close();
  } finally {
    clearTimeout(cutOff);
  }
}

/** The nice value of every thread but the event loop's: 10 is "yield to the others". */
const WORKER_THREAD_NICENESS = 10;

/**
 * On Linux, lets the event loop run before the thread pool's password hashes whenever
 * both want a core. Hashes saturate the cores during a burst of sign-ins; at equal
 * priority, every request the event loop could answer in a millisecond would wait its
 * turn behind them. A lower priority costs the hashes nothing when the event loop is
 * idle. Elsewhere, and where /proc cannot be read, threads keep their priority.
 */
async function yieldWorkerThreadsToTheEventLoop(): Promise<void> {
  if (process.platform !== 'linux') return;
  // libuv starts its whole thread pool on the first task sent to it.
  await stat(process.cwd());
  let threads: string[];
  try {
    threads = readdirSync('/proc/self/task');
  } catch {
    return;
  }
  for (const thread of threads.map(Number)) {
    if (thread === process.pid) continue;
    try {
      setPriority(thread, WORKER_THREAD_NICENESS);
    } catch {
      // The thread has ended meanwhile.
    }
  }
}

/** How often each instance deletes the rows nothing reads any more and old email (see keepHouse). */
const HOUSEKEEPING_INTERVAL_MS = 60 * 60_000;

function keepHouseLogged(app: FastifyInstance, deps: Deps): void {
  keepHouse(deps).then(
    (deleted) =>
      app.log.debug(
        { deleted },
        'deleted ended sessions, forgotten throttle rows, expired application sign-in state and email sent or failed long ago',
      ),
    (error: unknown) => app.log.warn({ err: error }, 'housekeeping failed; it runs again within the hour'),
  );
}

/** How often each instance sends the reminders that have come due (see sendDueReminders). */
const REMINDERS_INTERVAL_MS = 10 * 60_000;

/**
 * Runs the reminder run now and every REMINDERS_INTERVAL_MS, one run at a time; `stop`
 * waits for a run under way, so that the database is not closed under it.
 */
function remindEveryFewMinutes(app: FastifyInstance, deps: Deps): { stop(): Promise<void> } {
  let running: Promise<void> | null = null;
  const run = () => {
    running ??= sendDueReminders(deps)
      .then(
        (done) => app.log.debug(done, 'reminder run'),
        (error: unknown) => app.log.warn({ err: error }, 'the reminder run failed; it runs again within 10 minutes'),
      )
      .finally(() => {
        running = null;
      });
  };
  run();
  const timer = setInterval(run, REMINDERS_INTERVAL_MS).unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}

export async function startServer(config: Config, keyNotice: KeyNotice): Promise<RunningServer> {
  const instance = await openInstance(config);
  const { deps } = instance;
  let app: FastifyInstance;
  try {
    // Once the instance is set up, so that a refused start (the wrong key) changes nothing.
    await yieldWorkerThreadsToTheEventLoop();
    app = await buildApp({
      deps,
      publicUrl: config.publicUrl,
      secureCookies: config.secureCookies,
      cookieDomain: config.cookieDomain,
      trustProxy: config.trustProxy,
      logger: { level: config.logLevel },
      metrics: config.metrics,
    });
  } catch (error) {
    await instance.close();
    throw error;
  }
  keepHouseLogged(app, deps);
  const housekeeping = setInterval(() => keepHouseLogged(app, deps), HOUSEKEEPING_INTERVAL_MS).unref();
  const reminders = remindEveryFewMinutes(app, deps);
  // onClose hooks run once the server has closed, after the last request in flight.
  app.addHook('onClose', async () => {
    clearInterval(housekeeping);
    await reminders.stop();
    await instance.close();
  });
  app.log.info(describeMailTransport(config.mail.transport));
  instance.mail?.start(app.log);
  if (keyNotice.generatedAt !== null) {
    app.log.warn(
      `Generated a new secret key in ${keyNotice.generatedAt}. Back it up: without it the linked authenticators cannot be read.`,
    );
  }
  let url: string;
  try {
    url = await app.listen({ host: config.host, port: config.port });
  } catch (error) {
    await app.close();
    throw error;
  }
  return { app, url, close: (graceMs = SHUTDOWN_GRACE_MS) => closeGracefully(app, graceMs) };
}
