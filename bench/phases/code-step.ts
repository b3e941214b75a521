// The code step alone: many pending logins (the state the password step leaves: a 'code'
// session, made here through the app's own sessions repository, which saves an argon2id
// verification per login), then POST /login/code for each with a fresh code, 16 at a time.
// Compared with a bare Fastify route doing one indexed SELECT and one UPDATE on the same
// database, driven the same way by the same client.
import { codeAt } from '../../src/domain/totp.js';
import type { Db } from '../../src/store/db.js';
import { atomically } from '../../src/store/tenant.js';
import { NOT_VERIFIED } from '../../src/store/sessions.js';
import { cookieNamesFor } from '../../src/web/respond.js';
import { clientFor, csrfTokenIn, type Answer } from '../http.js';
import type { ServerProcess } from '../processes.js';
import type { BenchUser } from '../seed.js';
import { inParallel, latenciesOf, round, type Latencies } from '../stats.js';

/** One stretch of load on one route. */
export interface ThroughputRound {
  requests: number;
  /** Requests answered at any time in the round, warm-up included: for CPU per request. */
  allRequests: number;
  seconds: number;
  failures: number;
  firstFailure: string | null;
  latencies: number[];
}

export interface Throughput {
  perSecond: number;
  requests: number;
  seconds: number;
  failures: number;
  firstFailure: string | null;
  latency: Latencies;
  /** Requests per second of each round, in order. */
  rounds: number[];
}

export function combineThroughputRounds(rounds: ThroughputRound[]): Throughput {
  const requests = rounds.reduce((n, r) => n + r.requests, 0);
  const seconds = rounds.reduce((n, r) => n + r.seconds, 0);
  return {
    perSecond: round(requests / seconds),
    requests,
    seconds: round(seconds),
    failures: rounds.reduce((n, r) => n + r.failures, 0),
    firstFailure: rounds.find((r) => r.firstFailure !== null)?.firstFailure ?? null,
    latency: latenciesOf(rounds.flatMap((r) => r.latencies)),
    rounds: rounds.map((r) => round(r.requests / r.seconds)),
  };
}

export interface LoadOptions {
  concurrency: number;
  warmUpMs: number;
  seconds: number;
}

/**
 * Sends `next()` requests with `concurrency` in flight, for `warmUpMs` uncounted then
 * `seconds` counted, or until `next` has no more; each answer must be a 303 to /account.
 */
async function measure(options: LoadOptions, next: () => (() => Promise<Answer>) | null): Promise<ThroughputRound> {
  const windowStart = performance.now() + options.warmUpMs;
  const windowEnd = windowStart + options.seconds * 1000;
  const latencies: number[] = [];
  let failures = 0;
  let firstFailure: string | null = null;
  let lastCounted = windowStart;
  let allRequests = 0;
  await inParallel(
    options.concurrency,
    () => performance.now() >= windowEnd,
    async () => {
      const send = next();
      if (send === null) return false;
      const started = performance.now();
      const answer = await send();
      const done = performance.now();
      allRequests += 1;
      if (answer.status !== 303 || answer.location !== '/account') {
        failures += 1;
        firstFailure ??= `${answer.status} ${answer.location ?? ''} ${answer.body.replace(/\s+/g, ' ').slice(0, 200)}`;
      } else if (started >= windowStart && done < windowEnd) {
        latencies.push(answer.ms);
        lastCounted = done;
      }
      return true;
    },
  );
  return {
    requests: latencies.length,
    allRequests,
    seconds: Math.max(0.001, (lastCounted - windowStart) / 1000),
    failures,
    firstFailure,
    latencies,
  };
}

export interface Load {
  /** One measured stretch; rounds of the code step and of the baseline alternate. */
  round(options: LoadOptions): Promise<ThroughputRound>;
  close(): void;
}

/** Pending 'code' sessions for `users`, exactly as the password step makes them; returns their tokens. */
export async function pendingLogins(db: Db, organisationId: string, users: BenchUser[]): Promise<string[]> {
  const now = new Date();
  const expiresAt = new Date(now.getTime() + 30 * 60_000);
  const client = { ip: '127.0.0.1', userAgent: 'twofold-bench' };
  return atomically(db, organisationId, async (tenant) => {
    const tokens: string[] = [];
    for (const user of users)
      tokens.push(await tenant.sessions.create(user.id, 'code', now, expiresAt, client, NOT_VERIFIED));
    return tokens;
  });
}

/** The code step on pending logins of `users`, made first; each round takes the next ones. */
export async function codeStepLoad(
  server: ServerProcess,
  db: Db,
  organisationId: string,
  users: BenchUser[],
): Promise<Load> {
  const client = clientFor(server.url);
  // One browser's CSRF cookie and token serve every post: the token is not tied to the session.
  const browser = client.browser();
  const page = await browser.get('/login');
  const csrf = csrfTokenIn(page.body);
  const csrfCookies = [...browser.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  const sessionCookie = cookieNamesFor(false).session;
  const withSecrets = users.filter((user): user is BenchUser & { secret: Uint8Array } => user.secret !== null);
  const tokens = await pendingLogins(db, organisationId, withSecrets);
  let at = 0;
  const next = () => {
    const user = withSecrets[at];
    const token = tokens[at];
    at += 1;
    if (user === undefined || token === undefined) return null;
    return () =>
      client.send(
        'POST',
        '/login/code',
        { cookie: `${csrfCookies}; ${sessionCookie}=${token}` },
        { _csrf: csrf, code: codeAt(user.secret, new Date()) },
      );
  };
  return { round: (options) => measure(options, next), close: () => client.close() };
}

/** The same load on the bare route: same headers and body shape, a device of the same table. */
export function baselineLoad(server: ServerProcess, users: BenchUser[]): Load {
  const client = clientFor(server.url);
  const devices = users.flatMap((user) => (user.deviceId === null ? [] : [user.deviceId]));
  const cookie = `twofold_csrf=${'x'.repeat(60)}; twofold_session=${'y'.repeat(43)}`;
  let at = 0;
  const next = () => {
    const device = devices[at % devices.length];
    at += 1;
    if (device === undefined) return null;
    return () => client.send('POST', '/baseline', { cookie }, { _csrf: 'z'.repeat(52), code: '123456', device });
  };
  return { round: (options) => measure(options, next), close: () => client.close() };
}
