// What an operator relies on: the health checks a load balancer probes, the Prometheus
// metrics, request ids in the JSON log, and a shutdown that lets requests in flight finish.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test, type TestContext } from 'node:test';
import {
  Kysely,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  type DatabaseConnection,
  type Driver,
} from 'kysely';
import { ConfigError, loadConfig } from '../../src/config.js';
import { newSecretKeyText } from '../../src/domain/secret-box.js';
import { isExpiredCode, matchingTimeStep } from '../../src/domain/totp.js';
import type { Database } from '../../src/store/schema.js';
import { connectionUseOf, openDatabase } from '../../src/store/db.js';
import { databaseAnswers } from '../../src/store/health.js';
import {
  buildWorld,
  linkDevice,
  makeOrganisation,
  makeUser,
  PASSWORD,
  type TestWorld,
  testInstance,
} from '../helpers/app.js';
import { Browser } from '../helpers/browser.js';
import { reservePort } from '../helpers/ports.js';
import { nextCode } from './support.js';

interface ObservedWorld extends TestWorld {
  /** The JSON log lines the app wrote, parsed. */
  log: Record<string, unknown>[];
  logText(): string;
}

/** The test world with the choices this suite varies: metrics on or off, the log captured. */
async function buildObservedWorld(t: TestContext, options: { metrics: boolean }): Promise<ObservedWorld> {
  const lines: string[] = [];
  const world = await buildWorld(t, {
    logger: { level: 'info', stream: { write: (line) => void lines.push(line) } },
    metrics: options.metrics,
  });
  return {
    ...world,
    get log() {
      return lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    },
    logText: () => lines.join(''),
  };
}

/** The value of one sample of a Prometheus text exposition, or undefined when absent. */
function sampleOf(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const sample of samplesOf(text)) {
    if (sample.name !== name) continue;
    if (Object.entries(labels).every(([key, value]) => sample.labels[key] === value)) return sample.value;
  }
  return undefined;
}

function samplesOf(text: string): { name: string; labels: Record<string, string>; value: number }[] {
  const samples = [];
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (match === null) continue;
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1] ?? ''] = pair[2] ?? '';
    samples.push({ name: match[1] ?? '', labels, value: Number(match[3]) });
  }
  return samples;
}

/** A 6-digit code none of the device's current, previous or next steps shows. */
function wrongCodeFor(secret: Uint8Array, now: Date): string {
  for (let digit = 0; digit < 10; digit += 1) {
    const code = String(digit).repeat(6);
    if (matchingTimeStep(secret, code, now) === null && !isExpiredCode(secret, code, now)) return code;
  }
  throw new Error('every repeated-digit code matches this device');
}

test('/healthz and /readyz answer without a session, and /readyz says 503 once the database is gone', async (t) => {
  const database = await testInstance(t);
  // A connection pool of the app's own on the run's database, to close under it.
  const db = openDatabase(database.location);
  t.after(() => db.destroy());
  const { app } = await buildWorld(t, { db });

  const health = await app.inject({ url: '/healthz' });
  assert.equal(health.statusCode, 200);
  assert.deepEqual(health.json(), { status: 'ok' });
  const ready = await app.inject({ url: '/readyz' });
  assert.equal(ready.statusCode, 200);
  assert.deepEqual(ready.json(), { status: 'ready' });
  assert.equal(ready.headers['cache-control'], 'no-store');

  await db.destroy();
  for (let i = 0; i < 3; i += 1) {
    const down = await app.inject({ url: '/readyz' });
    assert.equal(down.statusCode, 503);
    assert.deepEqual(down.json(), { status: 'unavailable' }, 'no error message, no details');
  }
  assert.equal((await app.inject({ url: '/healthz' })).statusCode, 200, 'the process itself is alive');
});

test('a database that does not answer in time counts as down', async (t) => {
  const hanging: Driver = {
    init: async () => {},
    acquireConnection: () => new Promise<DatabaseConnection>(() => {}),
    beginTransaction: async () => {},
    commitTransaction: async () => {},
    rollbackTransaction: async () => {},
    releaseConnection: async () => {},
    destroy: async () => {},
  };
  const db = new Kysely<Database>({
    dialect: {
      createAdapter: () => new SqliteAdapter(),
      createDriver: () => hanging,
      createIntrospector: (k) => new SqliteIntrospector(k),
      createQueryCompiler: () => new SqliteQueryCompiler(),
    },
  });
  const problems: unknown[] = [];
  // The clock is the test's: the answer must come exactly when the timeout is over, not
  // before, and not never.
  t.mock.timers.enable({ apis: ['setTimeout'] });
  let answer: boolean | null = null;
  void databaseAnswers(db, 100, (problem) => problems.push(problem)).then((answered) => (answer = answered));
  const settle = () => new Promise<void>((resolve) => setImmediate(resolve));
  await settle();
  t.mock.timers.tick(99);
  await settle();
  assert.equal(answer, null, 'gave up before its timeout');
  t.mock.timers.tick(1);
  await settle();
  assert.equal(answer, false, 'still waiting after its timeout');
  assert.equal(problems.length, 1);
  assert.match(String(problems[0]), /no answer within 100 ms/);
});

test('TWOFOLD_METRICS is off by default, and true or false', () => {
  const env = { TWOFOLD_SECRET_KEY: newSecretKeyText(), TWOFOLD_DATA_DIR: join(tmpdir(), 'twofold-unused') };
  assert.equal(loadConfig(env).metrics, false);
  assert.equal(loadConfig({ ...env, TWOFOLD_METRICS: 'true' }).metrics, true);
  assert.equal(loadConfig({ ...env, TWOFOLD_METRICS: 'false' }).metrics, false);
  assert.throws(() => loadConfig({ ...env, TWOFOLD_METRICS: 'yes' }), ConfigError);
});

test('/metrics is not served unless enabled', async (t) => {
  const world = await buildWorld(t);
  const answer = await world.app.inject({ url: '/metrics' });
  assert.equal(answer.statusCode, 404);
  assert.doesNotMatch(answer.body, /twofold_|process_cpu/);
});

test('/metrics counts sign-ins, wrong codes and requests by route pattern', async (t) => {
  const world = await buildObservedWorld(t, { metrics: true });
  const org = await makeOrganisation(world);
  const user = await makeUser(world, org);
  const secret = await linkDevice(world, org, user.id);
  const client = new Browser(world.app);

  const refused = await client.signIn(user.email, 'not the password');
  assert.equal(refused.status, 401);
  const afterPassword = await client.signIn(user.email, PASSWORD);
  assert.equal(afterPassword.location, '/login/code');
  await client.get('/login/code');
  const wrong = await client.post('/login/code', { code: wrongCodeFor(secret, world.clock.now()) });
  assert.notEqual(wrong.location, '/account');
  const done = await client.post('/login/code', { code: nextCode(world, secret) });
  assert.equal(done.location, '/account');
  // Addresses that carry ids: neither may become a label.
  const someId = randomUUID();
  await world.app.inject({ url: `/admin/users/${user.id}` });
  await world.app.inject({ url: `/no/such/page/${someId}` });

  const answer = await world.app.inject({ url: '/metrics' });
  assert.equal(answer.statusCode, 200);
  assert.match(String(answer.headers['content-type']), /^text\/plain; version=0\.0\.4/);
  const text = answer.body;
  const logins = (outcome: string) => sampleOf(text, 'twofold_logins_total', { outcome });
  assert.deepEqual(
    {
      refused_password: logins('refused_password'),
      code_needed: logins('code_needed'),
      completed_with_code: logins('completed_with_code'),
      signed_in: logins('signed_in'),
      throttled: logins('throttled'),
      setup_needed: logins('setup_needed'),
      completed_with_new_device: logins('completed_with_new_device'),
      refused_inactive: logins('refused_inactive'),
      refused_blocked: logins('refused_blocked'),
    },
    {
      refused_password: 1,
      code_needed: 1,
      completed_with_code: 1,
      signed_in: 0,
      throttled: 0,
      setup_needed: 0,
      completed_with_new_device: 0,
      refused_inactive: 0,
      refused_blocked: 0,
    },
  );
  assert.equal(sampleOf(text, 'twofold_code_failures_total', { path: 'login' }), 1);
  assert.equal(sampleOf(text, 'twofold_code_failures_total', { path: 'step_up' }), 0);
  assert.equal(sampleOf(text, 'twofold_second_factor_locks_total'), 0);
  if (connectionUseOf(world.db).kind === 'postgres') {
    assert.ok((sampleOf(text, 'twofold_db_pool_connections') ?? 0) >= 1);
    assert.ok((sampleOf(text, 'twofold_db_pool_idle_connections') ?? -1) >= 0);
    assert.equal(sampleOf(text, 'twofold_db_pool_waiting_clients'), 0);
  } else {
    assert.equal(sampleOf(text, 'twofold_db_pool_connections'), 1);
  }
  assert.ok((sampleOf(text, 'process_cpu_user_seconds_total') ?? -1) >= 0, 'default process metrics');

  const requests = (method: string, route: string, status_code: string) =>
    sampleOf(text, 'twofold_http_request_duration_seconds_count', { method, route, status_code });
  assert.equal(requests('POST', '/login', '401'), 1);
  assert.equal(requests('POST', '/login', '303'), 1);
  assert.equal(requests('POST', '/login/code', '303'), 1);
  assert.equal(requests('GET', '/admin/users/:id', '303'), 1);
  assert.equal(requests('GET', 'unmatched', '404'), 1);
  assert.equal(
    sampleOf(text, 'twofold_http_request_duration_seconds_bucket', {
      method: 'POST',
      route: '/login',
      status_code: '303',
      le: '+Inf',
    }),
    1,
  );
  const routes = new Set(world.app.twofold.routes.map((r) => r.url));
  const labelled = new Set(
    samplesOf(text)
      .filter((s) => s.name.startsWith('twofold_http_request_duration_seconds'))
      .map((s) => s.labels.route ?? ''),
  );
  for (const route of labelled) assert.ok(route === 'unmatched' || routes.has(route), `route label ${route}`);
  assert.ok(!text.includes(user.id) && !text.includes(someId), 'an id in the metrics');
});

test('ten wrong codes in a row count ten failures and one lock', async (t) => {
  const world = await buildObservedWorld(t, { metrics: true });
  const org = await makeOrganisation(world);
  const user = await makeUser(world, org);
  const secret = await linkDevice(world, org, user.id);
  // A pending login takes five wrong codes before it must start over: two logins.
  for (let login = 0; login < 2; login += 1) {
    const client = new Browser(world.app);
    assert.equal((await client.signIn(user.email, PASSWORD)).location, '/login/code');
    await client.get('/login/code');
    for (let i = 0; i < 5; i += 1) {
      world.clock.advanceMinutes(1.1); // past the growing delay, at most a minute
      await client.post('/login/code', { code: wrongCodeFor(secret, world.clock.now()) });
    }
  }
  const text = (await world.app.inject({ url: '/metrics' })).body;
  assert.equal(sampleOf(text, 'twofold_code_failures_total', { path: 'login' }), 10);
  assert.equal(sampleOf(text, 'twofold_second_factor_locks_total'), 1);
  assert.equal(sampleOf(text, 'twofold_logins_total', { outcome: 'code_needed' }), 2);
});

test('the request id comes from a safe x-request-id, is returned, and marks the log lines; no secret is logged', async (t) => {
  const world = await buildObservedWorld(t, { metrics: false });
  const org = await makeOrganisation(world);
  const user = await makeUser(world, org);
  const secret = await linkDevice(world, org, user.id);

  const given = await world.app.inject({ url: '/login', headers: { 'x-request-id': 'lb-7f3a.42' } });
  assert.equal(given.headers['x-request-id'], 'lb-7f3a.42');
  const ofThat = world.log.filter((line) => line.reqId === 'lb-7f3a.42');
  assert.ok(ofThat.length >= 2, 'its incoming and completed lines');
  assert.ok(ofThat.some((line) => line.msg === 'request completed'));

  for (const unsafe of ['a b', 'x'.repeat(200), '<script>', '']) {
    const answer = await world.app.inject({ url: '/healthz', headers: { 'x-request-id': unsafe } });
    const id = String(answer.headers['x-request-id']);
    assert.match(id, /^[0-9a-f-]{36}$/, `a new id instead of ${JSON.stringify(unsafe)}`);
  }
  const generated = await world.app.inject({ url: '/account' });
  assert.match(String(generated.headers['x-request-id']), /^[0-9a-f-]{36}$/, 'also on a redirect');

  // A whole sign-in and a set-password link: none of their secrets reaches the log.
  const client = new Browser(world.app);
  await client.signIn(user.email, PASSWORD);
  await client.get('/login/code');
  const code = nextCode(world, secret);
  assert.equal((await client.post('/login/code', { code })).location, '/account');
  await world.app.inject({ url: '/set-password/a-secret-link-token' });
  const log = world.logText();
  assert.ok(log.includes('/set-password/[redacted]'));
  for (const secretText of [PASSWORD, code, 'a-secret-link-token', client.cookie('twofold_session') ?? 'none']) {
    assert.ok(!log.includes(secretText), `the log holds ${secretText}`);
  }
});

const BIN = fileURLToPath(new URL('../../bin/twofold.js', import.meta.url));

test('on SIGTERM the server finishes the requests in flight, turns away new ones and exits 0', async (t) => {
  const parent = mkdtempSync(join(tmpdir(), 'twofold-ops-'));
  t.after(() => rmSync(parent, { recursive: true, force: true }));
  const port = await reservePort();
  const base = `http://127.0.0.1:${port}`;
  // Only what the test sets: a developer's own TWOFOLD_* or DATABASE_URL must not leak in.
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith('TWOFOLD_') && name !== 'DATABASE_URL'),
  );
  Object.assign(env, {
    TWOFOLD_DATA_DIR: join(parent, 'data'),
    HOST: '127.0.0.1',
    PORT: String(port),
    TWOFOLD_METRICS: 'true',
  });
  const child = spawn(process.execPath, [BIN, 'serve'], { env, stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
  t.after(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  const lines: Record<string, unknown>[] = [];
  let stderr = '';
  let pending = '';
  child.stdout.on('data', (chunk: Buffer) => {
    pending += chunk.toString('utf8');
    const complete = pending.split('\n');
    pending = complete.pop() ?? '';
    for (const line of complete) if (line.trim() !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const until = async (what: string, check: () => boolean | Promise<boolean>) => {
    const deadline = Date.now() + 60_000;
    while (!(await check())) {
      if (Date.now() > deadline || child.exitCode !== null) assert.fail(`${what}; stderr: ${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };

  await until('the server never got ready', async () => {
    try {
      return (await fetch(`${base}/readyz`)).status === 200;
    } catch {
      return false;
    }
  });
  const form = await fetch(`${base}/login`);
  const cookie = form.headers
    .getSetCookie()
    .map((line) => line.split(';')[0])
    .join('; ');
  const token = /name="_csrf" value="([^"]+)"/.exec(await form.text())?.[1] ?? '';

  const formOf = (i: number) =>
    new URLSearchParams({ _csrf: token, email: `nobody${i}@example.com`, password: 'wrong' }).toString();
  const headers = { cookie, 'content-type': 'application/x-www-form-urlencoded' };
  // One request surely in flight: its body is only half sent until the server is closing.
  const slowBody = formOf(0);
  let finishSlowBody = () => {};
  const slow = new Promise<number | string>((resolve) => {
    const request = httpRequest(
      `${base}/login`,
      { method: 'POST', headers: { ...headers, 'content-length': String(Buffer.byteLength(slowBody)) } },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
      },
    );
    request.on('error', (error) => resolve(`failed: ${error.message}`));
    request.write(slowBody.slice(0, 10));
    finishSlowBody = () => request.end(slowBody.slice(10));
  });
  // And wrong passwords for unknown emails, each checked against the decoy argon2 hash a
  // few at a time on libuv's threads: some are still running when the signal comes. As many
  // as the address's free allowance leaves room for beside the slow one, so that none waits
  // for the others' outcome (which on a loaded machine outlasted the 10-second grace).
  const IN_FLIGHT = 19;
  const inFlight = Array.from({ length: IN_FLIGHT }, (_, i) =>
    fetch(`${base}/login`, { method: 'POST', headers, body: formOf(i + 1) }).then(
      (response) => response.status,
      (error: unknown) => `failed: ${String(error)}`,
    ),
  );
  const arrived = () =>
    lines.filter((line) => line.msg === 'incoming request' && (line.req as { method?: string }).method === 'POST');
  await until('the requests never reached the server', () => arrived().length === IN_FLIGHT + 1);
  child.kill('SIGTERM');
  const signalledAt = Date.now();
  await until('the server never began to shut down', () =>
    lines.some((line) => String(line.msg).startsWith('shutting down')),
  );
  const after = await fetch(`${base}/readyz`).then(
    (response) => response.status,
    () => 'refused',
  );
  finishSlowBody();

  const statuses = await Promise.all([slow, ...inFlight]);
  const { code, signal } = await exited;
  const shutdownMs = Date.now() - signalledAt;
  assert.ok(after === 503 || after === 'refused', `/readyz during the shutdown: ${after}`);
  for (const status of statuses) assert.ok(status === 401 || status === 429, `an in-flight request got ${status}`);
  assert.deepEqual({ code, signal }, { code: 0, signal: null }, stderr);
  // Some of them were still running when the signal came: the test saw a shutdown wait.
  const shutdownAt = lines.findIndex((line) => String(line.msg).startsWith('shutting down'));
  const completedAfter = lines
    .slice(shutdownAt)
    .filter((line) => line.msg === 'request completed' && (line.res as { statusCode?: number }).statusCode !== 503);
  assert.ok(completedAfter.length >= 1, 'no request was in flight at the signal');
  const slowStatus = await slow;
  assert.ok(slowStatus === 401 || slowStatus === 429, `the request whose body came during the shutdown: ${slowStatus}`);
  assert.ok(lines.some((line) => line.msg === 'stopped'));
  t.diagnostic(
    `${completedAfter.length} of ${IN_FLIGHT + 1} requests finished after the signal, /readyz then: ${after}; exited ${shutdownMs} ms after it`,
  );
  // Done when the last request is, not at the end of the grace period: had the grace
  // period run out, the server would have said it closed their connections. (Read from the
  // log, not the clock: a loaded machine may take seconds to finish the requests.)
  assert.ok(!lines.some((line) => String(line.msg).includes('closing their connections')));
});
