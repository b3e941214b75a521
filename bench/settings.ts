// What every figure shares: the sizes and durations of the run, the fixed key, and the
// run's context (its temporary directory, the rows of the table, the raw numbers).
import { loadConfig, type Config } from '../src/config.js';
import type { Row } from './report.js';

export const CONCURRENCY = 16;
/** Each ratio alternates its two sides this many times (A B A B ... A). */
export const ROUNDS = 3;
/** Per round: argon2id alone, then logins (after a warm-up that fills every virtual user's pipeline). */
export const ARGON2 = { warmUpMs: 500, seconds: 3 };
export const LOGINS = { warmUpMs: 1500, seconds: 4, probeEveryMs: 25 };
/**
 * Per round: argon2id alone, then OpenID Connect sign-ins (after the same warm-up as the
 * logins), with a signed-in person's forward-auth check probed meanwhile.
 */
export const OIDC = { warmUpMs: 1500, seconds: 4, probeEveryMs: 25 };
/** The protected site the forward-auth checks ask about: on the host of the server's own address, as a cookie must reach it. */
export const BENCH_SITE_HOST = '127.0.0.1:8081';
/** The OpenID Connect sign-ins' ratio to argon2id is to reach this share of the plain logins' ratio. */
export const OIDC_SHARE_OF_LOGINS = 0.85;
/** Their floor, oidc-provider alone (bench/oidc-floor-server.ts): this many rounds of OIDC's warm-up and window. */
export const OIDC_FLOOR_ROUNDS = 2;
/** The floor server's one client. Fixed; it exists only in that process. */
export const OIDC_FLOOR_APPLICATION = {
  clientId: 'bench-floor',
  clientSecret: 'bench-floor-secret-not-a-real-one',
  redirectUri: 'http://localhost/bench/callback',
};
/** GET /healthz on the idle server first: what the machine alone does to latency. */
export const IDLE_PROBE_SECONDS = 3;
/** Per round: the code step, then the bare route. */
export const CODE_STEP = { warmUpMs: 500, seconds: 2 };
/** Per round: sign-ins with an app code, then with a security key (after the same warm-up as the logins). */
export const PASSKEY_LOGINS = { warmUpMs: 1500, seconds: 3, probeEveryMs: 25 };
/**
 * Per round: this many recovery-code steps with a right code, then as many with a wrong one;
 * before the rounds, this many password steps to calibrate against.
 */
export const RECOVERY_CODE_STEP = { perRound: 150, calibration: 100 };
/** Each side of the passkey figure: more than its rounds can use up. */
export const PASSKEY_FIGURE_USERS = 2000;
export const LOGIN_USERS = 4000;
export const CODE_STEP_USERS = 8000;
export const OIDC_USERS = 4000;
export const BIG_ORGANISATION = 100_000;
/**
 * The reminder run: this many people without a device, their organisation's start this
 * many days ahead (announced now, so each is due one reminder); the code step probed every
 * probeEveryMs on pending logins of probeUsers others; the bench's count of recorded
 * reminders read every pollEveryMs; given up after timeoutSeconds; then the same probe for
 * afterSeconds once the run is over.
 */
export const REMINDER_RUN = {
  people: 100_000,
  daysAhead: 3,
  probeEveryMs: 25,
  probeUsers: 8000,
  pollEveryMs: 250,
  timeoutSeconds: 300,
  afterSeconds: 3,
};
export const PAGE_BOUNDS = { requests: 200, seconds: 8 };
/** Fixed, so that the bench's sealed secrets open in the server. Never a real key. */
export const SECRET_KEY = Buffer.alloc(32, 0x5a);

/**
 * The configuration the server under test reads from its environment (see startTwofold),
 * for the bench's own instance on the same database: the one that seeds it.
 */
export function benchConfig(dataDir: string, databaseUrl?: string): Config {
  return loadConfig({
    TWOFOLD_DATA_DIR: dataDir,
    TWOFOLD_SECRET_KEY: SECRET_KEY.toString('hex'),
    ...(databaseUrl === undefined ? {} : { DATABASE_URL: databaseUrl }),
  });
}

/**
 * What-if switches, to measure a proposed fix before it is made: the server's libuv pool
 * size (`--server-threadpool=2`), and its worker threads at a lower priority than the
 * event loop (`--renice-worker-threads`, Linux).
 */
export interface WhatIf {
  serverThreadpool: number | null;
  reniceWorkerThreads: boolean;
}

export function whatIfOf(argv: readonly string[]): WhatIf {
  const pool = argv.find((arg) => arg.startsWith('--server-threadpool='))?.split('=')[1];
  const size = pool === undefined ? null : Number(pool);
  if (size !== null && (!Number.isInteger(size) || size < 1 || size > 1024)) {
    throw new Error('--server-threadpool must be a whole number from 1 to 1024');
  }
  return { serverThreadpool: size, reniceWorkerThreads: argv.includes('--renice-worker-threads') };
}

/** The server options a what-if asks for. */
export function serverOptionsOf(whatIf: WhatIf): { env: Record<string, string>; reniceWorkerThreads: boolean } {
  return {
    env: whatIf.serverThreadpool === null ? {} : { UV_THREADPOOL_SIZE: String(whatIf.serverThreadpool) },
    reniceWorkerThreads: whatIf.reniceWorkerThreads,
  };
}

export interface Run {
  whatIf: WhatIf;
  dir: string;
  passwordHash: string;
  now: Date;
  /** Where the servers write their CPU profiles, with --profile. */
  profileRoot: string | null;
  rows: Row[];
  raw: Record<string, unknown>;
}

export function say(line: string): void {
  process.stdout.write(`${line}\n`);
}
