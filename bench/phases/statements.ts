// SQL statements per complete login, counted in-process: the real app (buildApp) on an
// instance set up as the server sets up its own (src/instance.ts), on a SQLite file whose
// Kysely logs every statement executed. One login, step by step, through app.inject.
import { join } from 'node:path';
import { codeAt } from '../../src/domain/totp.js';
import { instanceOn } from '../../src/instance.js';
import { openDatabase } from '../../src/store/db.js';
import { buildApp } from '../../src/web/app.js';
import { csrfTokenIn } from '../http.js';
import { BENCH_PASSWORD, benchPasswordHash, createOrganisation, seedUsers } from '../seed.js';
import { benchConfig } from '../settings.js';

export type LoginStep = 'GET /login' | 'POST /login' | 'GET /login/code' | 'POST /login/code';

export interface StatementCount {
  total: number;
  perStep: Record<LoginStep, number>;
  /** The statements of the login, in order, without their parameters. */
  statements: { step: LoginStep; sql: string }[];
}

export async function statementsPerLogin(dir: string): Promise<StatementCount> {
  const config = benchConfig(join(dir, 'statements'), join(dir, 'statements.sqlite'));
  let step: LoginStep | null = null;
  const statements: { step: LoginStep; sql: string }[] = [];
  const log = (event: { query: { sql: string } }) => {
    if (step !== null) statements.push({ step, sql: event.query.sql });
  };
  const instance = await instanceOn(openDatabase(config.database, { log }), config);
  const { deps } = instance;
  const { db } = deps;
  try {
    const now = new Date();
    const organisationId = await createOrganisation(db, 'Statements', now);
    const [user] = await seedUsers(
      db,
      config.secretKey.current,
      await benchPasswordHash(),
      { organisationId, count: 1, prefix: 'counted', withDevice: () => true },
      now,
    );
    if (user === undefined || user.secret === null) throw new Error('no user was seeded');
    const app = await buildApp({
      deps,
      publicUrl: config.publicUrl,
      secureCookies: config.secureCookies,
      trustProxy: config.trustProxy,
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
    await instance.close();
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
