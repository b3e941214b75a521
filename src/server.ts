// Starts Twofold: configuration in, a listening server out.
import { depsFrom } from './services/deps.js';
import type { FastifyInstance } from 'fastify';
import type { Config, KeyNotice } from './config.js';
import { ensureSecretKeyMatches } from './services/secret-key.js';
import { migrateToLatest, openDatabase } from './store/db.js';
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

export async function startServer(config: Config, keyNotice: KeyNotice): Promise<RunningServer> {
  const db = openDatabase(config.database);
  try {
    await migrateToLatest(db);
    await ensureSecretKeyMatches(db, config.secretKey);
  } catch (error) {
    await db.destroy();
    throw error;
  }
  const app = await buildApp({
    deps: depsFrom(config, db),
    publicUrl: config.publicUrl,
    secureCookies: config.secureCookies,
    trustProxy: config.trustProxy,
    logger: { level: config.logLevel },
    metrics: config.metrics,
  });
  // onClose hooks run once the server has closed, after the last request in flight.
  app.addHook('onClose', async () => db.destroy());
  if (keyNotice.generatedAt !== null) {
    app.log.warn(
      `Generated a new secret key in ${keyNotice.generatedAt}. Back it up: without it the linked authenticators cannot be read.`,
    );
  }
  const url = await app.listen({ host: config.host, port: config.port });
  return { app, url, close: (graceMs = SHUTDOWN_GRACE_MS) => closeGracefully(app, graceMs) };
}
