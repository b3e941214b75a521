// Several real `twofold serve` processes on one PostgreSQL schema behind one public
// address, as behind a load balancer (the postgres-* suites): the schema, set up as a
// server sets up its own, with the test's own connections to seed it; and a browser's way
// through the sign-in, each request sent to the instance the test chooses.
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { codeAt } from '../../src/domain/totp.js';
import { instanceOn } from '../../src/instance.js';
import type { Deps } from '../../src/services/deps.js';
import { openDatabase, type Db } from '../../src/store/db.js';
import { frozenClock, settingsOf, TEST_KEY, type TestClock } from './app.js';
import { Browser, movesOnTo, textOf, type Page } from './browser.js';
import { createPostgresSchema } from './databases.js';
import { startServer, type RunningServer } from './processes.js';

export interface SeveralInstances {
  /** The test's own connections to the schema: for the builders of app.ts and the services. */
  db: Db;
  deps: Deps;
  /** Frozen when the instances started: the builders date their rows with it, the servers keep the real time. */
  clock: TestClock;
  /** What every instance was started with (the schema, the test key): a `twofold` command on the same database needs it too. */
  env: Record<string, string>;
  /** Where each instance listens, http://127.0.0.1:PORT. */
  urls: string[];
}

/**
 * A new schema on the PostgreSQL server at `server`, migrated with the test key, and
 * `count` instances of `twofold serve` on it with `env` besides. After the test the
 * instances are stopped first, then the schema is dropped.
 */
export async function severalInstances(
  t: TestContext,
  server: string,
  options: {
    count?: number;
    env?: Record<string, string>;
    /** Writes to the schema before any instance starts, so that every one finds it at start-up. */
    beforeStart?: (seed: Pick<SeveralInstances, 'db' | 'deps' | 'clock'>) => Promise<void>;
  } = {},
): Promise<SeveralInstances> {
  const schema = await createPostgresSchema(server);
  const servers: RunningServer[] = [];
  let close = () => Promise.resolve();
  t.after(async () => {
    await Promise.all(servers.map((running) => running.stop(5_000)));
    await close();
    await schema.drop();
  });
  const clock = frozenClock(new Date());
  const instance = await instanceOn(
    openDatabase({ kind: 'postgres', url: schema.url, poolSize: 3 }),
    settingsOf(
      options.env?.TWOFOLD_PUBLIC_URL === undefined ? {} : { publicUrl: options.env.TWOFOLD_PUBLIC_URL },
      clock,
    ),
  );
  close = instance.close;
  await options.beforeStart?.({ db: instance.deps.db, deps: instance.deps, clock });
  const env = {
    DATABASE_URL: schema.url,
    TWOFOLD_SECRET_KEY: TEST_KEY.toString('hex'),
    TWOFOLD_LOG_LEVEL: 'warn',
    ...options.env,
  };
  // Settled, every one: an instance still starting when another failed would outlive the teardown.
  const started = await Promise.allSettled(Array.from({ length: options.count ?? 2 }, () => startServer(env)));
  for (const outcome of started) if (outcome.status === 'fulfilled') servers.push(outcome.value);
  const failed = started.find((outcome) => outcome.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
  return { db: instance.deps.db, deps: instance.deps, clock, env, urls: servers.map((running) => running.url) };
}

/** The address on the public one, sent to the instance at `base` instead. */
function onInstance(url: string, publicUrl: string, base: string): string {
  return `${base}${url.slice(publicUrl.length)}`;
}

function isOnPublic(url: string, publicUrl: string): boolean {
  return url === publicUrl || url.startsWith(`${publicUrl}/`);
}

/**
 * Follows redirects, and pages that move on by themselves, from `from` (a path or an
 * address on `publicUrl`) while they stay on the public address, sending each request to
 * the instance `via()` names. Stops at a page, or at an address elsewhere (the
 * application or the site the person is sent back to): that address is `url`.
 */
export async function followOn(
  browser: Browser,
  publicUrl: string,
  from: string,
  via: () => string,
): Promise<{ page: Page; url: string }> {
  let url = new URL(from, publicUrl).toString();
  for (let hops = 0; hops < 15; hops++) {
    const page = await browser.get(onInstance(url, publicUrl, via()));
    const onwards = movesOnTo(page) ?? (page.status >= 300 && page.status < 400 ? page.location : undefined);
    if (onwards === undefined) return { page, url };
    const next = new URL(onwards, url).toString();
    if (!isOnPublic(next, publicUrl)) return { page, url: next };
    url = next;
  }
  throw new Error(`more than 15 redirects from ${from}`);
}

/** Which instance each step goes to: every page and redirect (`pages()`), the password, the code. */
export interface SignInRoute {
  pages: () => string;
  password: string;
  code: string;
}

/**
 * A person's way through Twofold's sign-in, from `start` on the public address (which
 * sends them to /login) through the password and a code of their device, and on until an
 * address elsewhere: where they end, and the last answer on the way.
 */
export async function signInWithPasswordAndCode(
  browser: Browser,
  publicUrl: string,
  start: string,
  person: { email: string; password: string; secret: Uint8Array },
  route: SignInRoute,
): Promise<{ page: Page; url: string }> {
  let { page, url } = await followOn(browser, publicUrl, start, route.pages);
  assert.equal(new URL(url).pathname, '/login', textOf(page.body));
  const password = await browser.post(`${route.password}/login`, { email: person.email, password: person.password });
  assert.equal(password.status, 303, textOf(password.body));
  ({ page, url } = await followOn(browser, publicUrl, password.location ?? '/', route.pages));
  assert.equal(new URL(url).pathname, '/login/code', textOf(page.body));
  const code = await browser.post(`${route.code}/login/code`, { code: codeAt(person.secret, new Date()) });
  assert.equal(code.status, 303, textOf(code.body));
  return followOn(browser, publicUrl, code.location ?? '/', route.pages);
}
