// SQL statements per complete login, counted in-process: the real app (buildApp) on a
// SQLite file opened like src/store/db.ts openDatabase, but with Kysely's `log` hook
// counting every statement executed. One login, step by step, through app.inject.
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { keyringOf } from '../../src/domain/secret-box.js';
import { codeAt } from '../../src/domain/totp.js';
import { migrateToLatest } from '../../src/store/db.js';
import type { Database } from '../../src/store/schema.js';
import { buildApp } from '../../src/web/app.js';
import { csrfTokenIn } from '../http.js';
import { BENCH_PASSWORD, benchPasswordHash, createOrganisation, seedUsers } from '../seed.js';

export type LoginStep = 'GET /login' | 'POST /login' | 'GET /login/code' | 'POST /login/code';

export interface StatementCount {
  total: number;
  perStep: Record<LoginStep, number>;
  /** The statements of the login, in order, without their parameters. */
  statements: { step: LoginStep; sql: string }[];
}

export async function statementsPerLogin(dir: string, key: Buffer): Promise<StatementCount> {
  const sqlite = new SQLite(join(dir, 'statements.sqlite'));
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  let step: LoginStep | null = null;
  const statements: { step: LoginStep; sql: string }[] = [];
  const db = new Kysely<Database>({
    dialect: new SqliteDialect({ database: sqlite }),
    log(event) {
      if (step !== null) statements.push({ step, sql: event.query.sql });
    },
  });
  try {
    await migrateToLatest(db);
    const now = new Date();
    const organisationId = await createOrganisation(db, 'Statements', now);
    const [user] = await seedUsers(
      db,
      key,
      await benchPasswordHash(),
      { organisationId, count: 1, prefix: 'counted', withDevice: () => true },
      now,
    );
    if (user === undefined || user.secret === null) throw new Error('no user was seeded');
    const app = await buildApp({
      deps: {
        db,
        now: () => new Date(),
        secretKey: keyringOf(key),
        sessionLimits: { idleMinutes: 30, absoluteHours: 12, pendingMinutes: 10 },
      },
      publicUrl: 'http://127.0.0.1:3000',
      secureCookies: false,
      trustProxy: false,
      logger: false,
    });
    try {
      const jar = new Map<string, string>();
      const send = async (method: 'GET' | 'POST', url: string, form?: Record<string, string>) => {
        step = `${method} ${url}` as LoginStep;
        const response = await app.inject({
          method,
          url,
          cookies: Object.fromEntries(jar),
          ...(form === undefined ? {} : { payload: form }),
        });
        step = null;
        for (const cookie of response.cookies) {
          if (cookie.value === '' || (cookie.expires !== undefined && cookie.expires.getTime() < Date.now())) {
            jar.delete(cookie.name);
          } else jar.set(cookie.name, cookie.value);
        }
        return response;
      };
      const page = await send('GET', '/login');
      const password = await send('POST', '/login', {
        _csrf: csrfTokenIn(page.body),
        email: user.email,
        password: BENCH_PASSWORD,
      });
      if (password.headers.location !== '/login/code')
        throw new Error(`the password step answered ${password.statusCode}`);
      const codePage = await send('GET', '/login/code');
      const done = await send('POST', '/login/code', {
        _csrf: csrfTokenIn(codePage.body),
        code: codeAt(user.secret, new Date()),
      });
      if (done.headers.location !== '/account') throw new Error(`the code step answered ${done.statusCode}`);
    } finally {
      await app.close();
    }
  } finally {
    await db.destroy();
  }
  const perStep: Record<LoginStep, number> = {
    'GET /login': 0,
    'POST /login': 0,
    'GET /login/code': 0,
    'POST /login/code': 0,
  };
  for (const statement of statements) perStep[statement.step] += 1;
  return { total: statements.length, perStep, statements };
}
