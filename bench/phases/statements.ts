// SQL statements per complete login, per OpenID Connect sign-in and per forward-auth check,
// counted in-process: the real app (buildApp) on an instance set up as the server sets up its
// own (src/instance.ts), on a SQLite file whose Kysely logs every statement executed,
// listening on 127.0.0.1 and driven by the bench's own client one request at a time, so
// that each statement is counted under the request that ran it.
import { join } from 'node:path';
import { instanceOn } from '../../src/instance.js';
import { openDatabase } from '../../src/store/db.js';
import { buildApp } from '../../src/web/app.js';
import { cookieNamesFor } from '../../src/web/respond.js';
import { clientFor, csrfTokenIn, type Answer } from '../http.js';
import {
  BENCH_PASSWORD,
  benchPasswordHash,
  type BenchUser,
  createOrganisation,
  registerBenchApplication,
  registerBenchSite,
  seedUsers,
} from '../seed.js';
import { BENCH_SITE_HOST, benchConfig } from '../settings.js';
import { byAppCode, type SecondFactorForm } from './logins.js';
import { signInToApplication } from './oidc.js';
import { byKey, seedRecoveryCodes, seedSecurityKeys } from './second-factors.js';

export interface StatementCount {
  total: number;
  /** Per request of the journey, in order. */
  perStep: Record<string, number>;
  /** The statements, in order, without their parameters. */
  statements: { step: string; sql: string }[];
}

export interface StatementCounts {
  login: StatementCount;
  /** A sign-in after the first, which also made the signing keys. */
  oidcSignIn: StatementCount;
  /** A complete login with a security key instead of an app's code. */
  keyLogin: StatementCount;
  /** A complete login with a recovery code (its person has an app too). */
  recoveryCodeLogin: StatementCount;
  /** The first check of a signed-in person, which also reads the site. */
  forwardAuthFirst: StatementCount;
  /** FORWARD_AUTH_CHECKS checks after it, by the same person. */
  forwardAuthLater: StatementCount & { checks: number };
}

export const FORWARD_AUTH_CHECKS = 20;

function countOf(statements: { step: string; sql: string }[]): StatementCount {
  const perStep: Record<string, number> = {};
  for (const statement of statements) perStep[statement.step] = (perStep[statement.step] ?? 0) + 1;
  return { total: statements.length, perStep, statements };
}

/** Refuses an answer that is not the journey's. */
function expect(answer: Answer, status: number, location?: string): Answer {
  if (answer.status === status && (location === undefined || answer.location === location)) return answer;
  throw new Error(`statements: expected ${status} ${location ?? ''}, got ${answer.status} ${answer.location ?? ''}`);
}

export async function countStatements(dir: string): Promise<StatementCounts> {
  const config = benchConfig(join(dir, 'statements'), join(dir, 'statements.sqlite'));
  let step: string | null = null;
  const statements: { step: string; sql: string }[] = [];
  const log = (event: { query: { sql: string } }) => {
    if (step !== null) statements.push({ step, sql: event.query.sql });
  };
  /** The statements `journey` runs, each under the step named last before it. */
  const counted = async (journey: (name: (step: string) => void) => Promise<void>): Promise<StatementCount> => {
    const from = statements.length;
    try {
      await journey((name) => (step = name));
    } finally {
      step = null;
    }
    return countOf(statements.slice(from));
  };

  const instance = await instanceOn(openDatabase(config.database, { log }), config);
  const { deps } = instance;
  try {
    const now = new Date();
    const organisationId = await createOrganisation(deps.db, 'Statements', now);
    const [person, applicationUser, firstApplicationUser] = await seedUsers(
      deps.db,
      config.secretKey.current,
      await benchPasswordHash(),
      { organisationId, count: 3, prefix: 'counted', withDevice: () => true },
      now,
    );
    const secret = person?.secret;
    const applicationSecret = applicationUser?.secret;
    const firstSecret = firstApplicationUser?.secret;
    if (
      person === undefined ||
      applicationUser === undefined ||
      firstApplicationUser === undefined ||
      secret == null ||
      applicationSecret == null ||
      firstSecret == null
    ) {
      throw new Error('no user was seeded');
    }
    // One with a security key only, one with an app and recovery codes.
    const [keyPerson, recoveryPerson] = await seedUsers(
      deps.db,
      config.secretKey.current,
      await benchPasswordHash(),
      { organisationId, count: 2, prefix: 'counted-other', withDevice: (i) => i === 1 },
      now,
    );
    if (keyPerson === undefined || recoveryPerson === undefined) throw new Error('no user was seeded');
    const keys = await seedSecurityKeys(deps.db, config.secretKey.current, organisationId, [keyPerson], now);
    const codes = await seedRecoveryCodes(deps.db, organisationId, [recoveryPerson], now);
    const application = await registerBenchApplication(deps, organisationId);
    await registerBenchSite(deps, organisationId, BENCH_SITE_HOST);
    const app = await buildApp({
      deps,
      publicUrl: config.publicUrl,
      secureCookies: config.secureCookies,
      trustProxy: config.trustProxy,
      logger: false,
    });
    const client = clientFor(await app.listen({ host: '127.0.0.1', port: 0 }));
    try {
      /** A complete login of `who` in `browser`, the code step answered with `second`. */
      const loginWith = (who: BenchUser, second: SecondFactorForm, browser = client.browser()) =>
        counted(async (name) => {
          name('GET /login');
          const page = expect(await browser.get('/login'), 200);
          name('POST /login');
          const form = { _csrf: csrfTokenIn(page.body), email: who.email, password: BENCH_PASSWORD };
          expect(await browser.post('/login', form), 303, '/login/code');
          name('GET /login/code');
          const codePage = expect(await browser.get('/login/code'), 200);
          name('POST /login/code');
          const answer = { _csrf: csrfTokenIn(codePage.body), ...second(who, codePage.body) };
          expect(await browser.post('/login/code', answer), 303, '/account');
        });
      const browser = client.browser();
      const login = await loginWith(person, byAppCode, browser);
      const keyLogin = await loginWith(keyPerson, byKey(keys, new URL(config.publicUrl).origin));
      const recoveryCodeLogin = await loginWith(recoveryPerson, (who) => ({
        with: 'recovery',
        code: codes.get(who.id)?.[0] ?? '',
      }));

      const session = browser.cookies.get(cookieNamesFor(config.secureCookies).session) ?? '';
      const check = (path: string) =>
        client.send('GET', '/auth/nginx', {
          cookie: `${cookieNamesFor(config.secureCookies).session}=${session}`,
          'x-forwarded-proto': 'http',
          'x-forwarded-host': BENCH_SITE_HOST,
          'x-forwarded-uri': path,
        });
      const forwardAuthFirst = await counted(async (name) => {
        name('GET /auth/nginx');
        expect(await check('/'), 200);
      });
      const forwardAuthLater = await counted(async (name) => {
        name('GET /auth/nginx');
        for (let i = 0; i < FORWARD_AUTH_CHECKS; i += 1) expect(await check(`/page/${i}`), 200);
      });

      // The first sign-in also makes the provider's signing keys, once in an instance's life: not counted.
      await signInToApplication(client, application, firstApplicationUser, firstSecret);
      const oidcSignIn = await counted(async (name) => {
        await signInToApplication(client, application, applicationUser, applicationSecret, name);
      });
      return {
        login,
        oidcSignIn,
        keyLogin,
        recoveryCodeLogin,
        forwardAuthFirst,
        forwardAuthLater: { ...forwardAuthLater, checks: FORWARD_AUTH_CHECKS },
      };
    } finally {
      client.close();
      await app.close();
    }
  } finally {
    await instance.close();
  }
}
