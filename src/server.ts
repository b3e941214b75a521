// Starts Twofold: configuration in, a listening server out.
import type { FastifyInstance } from 'fastify';
import type { Config, KeyNotice } from './config.js';
import { ensureSecretKeyMatches } from './services/secret-key.js';
import { migrateToLatest, openDatabase } from './store/db.js';
import { buildApp } from './web/app.js';

export interface RunningServer {
  app: FastifyInstance;
  url: string;
  close(): Promise<void>;
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
    deps: {
      db,
      now: () => new Date(),
      secretKey: config.secretKey,
      sessionLimits: {
        idleMinutes: config.sessionIdleMinutes,
        absoluteHours: config.sessionAbsoluteHours,
        pendingMinutes: config.pendingLoginMinutes,
      },
    },
    publicUrl: config.publicUrl,
    secureCookies: config.secureCookies,
    trustProxy: config.trustProxy,
    logger: {
      level: config.logLevel,
      // Set-password tokens travel in the path: keep them out of the log.
      serializers: {
        req: (req: { method: string; url: string }) => ({
          method: req.method,
          url: req.url.replace(/\/set-password\/[^/?]+/, '/set-password/[redacted]'),
        }),
      },
    },
  });
  app.addHook('onClose', async () => db.destroy());
  if (keyNotice.generatedAt !== null) {
    app.log.warn(
      `Generated a new secret key in ${keyNotice.generatedAt}. Back it up: without it the linked authenticators cannot be read.`,
    );
  }
  const url = await app.listen({ host: config.host, port: config.port });
  return { app, url, close: () => app.close() };
}
