// Complete logins by concurrent virtual users, each a fresh browser: GET /login (CSRF
// cookie and token), POST /login (password), GET /login/code, POST /login/code (a fresh
// code). Every bench user logs in once, so no code is ever a replay. Meanwhile a probe
// asks GET /healthz at a steady pace, to see what the login load does to a trivial request.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { codeAt } from '../../src/domain/totp.js';
import { csrfTokenIn, type Answer, type Client } from '../http.js';
import { BENCH_PASSWORD, type BenchUser } from '../seed.js';
import { inParallel, latenciesOf, round, sleep, type Latencies } from '../stats.js';

const STEPS = ['getLogin', 'postPassword', 'getCode', 'postCode'] as const;
type Step = (typeof STEPS)[number];

/** One stretch of login load: what completed inside its window, and every latency seen. */
export interface LoginRound {
  completed: number;
  /** Logins completed at any time in the round, warm-up and drain included: for CPU per login. */
  allCompleted: number;
  seconds: number;
  failures: number;
  firstFailure: string | null;
  samples: Record<Step | 'healthz', number[]>;
  /** How late this process's own event loop ran: a bound on what the client adds to latencies. */
  clientLagP99Ms: number;
}

export interface LoginLoad {
  loginsPerSecond: number;
  completed: number;
  seconds: number;
  failures: number;
  firstFailure: string | null;
  steps: Record<Step, Latencies>;
  healthz: Latencies;
  clientLagP99Ms: number;
}

export interface LoginLoadOptions {
  concurrency: number;
  warmUpMs: number;
  seconds: number;
  probeEveryMs: number;
}

/** Refuses an answer that is not what a person signing in gets. */
function check(answer: Answer, status: number, location?: string): Answer {
  if (answer.status === status && (location === undefined || answer.location === location)) return answer;
  const expected = `${status}${location === undefined ? '' : ` to ${location}`}`;
  const got = `${answer.status}${answer.location === undefined ? '' : ` to ${answer.location}`}`;
  throw new Error(`expected ${expected}, got ${got}: ${answer.body.replace(/\s+/g, ' ').slice(0, 200)}`);
}

/**
 * `send` one at a time, every `everyMs`, from `start` until `end` (performance.now()
 * times): the latencies of the answers with status 200, and how many had another.
 */
export async function probe(
  send: () => Promise<Answer>,
  start: number,
  end: number,
  everyMs: number,
): Promise<{ latencies: number[]; failures: number }> {
  const latencies: number[] = [];
  let failures = 0;
  await sleep(Math.max(0, start - performance.now()));
  while (performance.now() < end) {
    const next = performance.now() + everyMs;
    const answer = await send();
    if (answer.status === 200) latencies.push(answer.ms);
    else failures += 1;
    await sleep(Math.max(0, next - performance.now()));
  }
  return { latencies, failures };
}

/** GET /healthz, probed. */
export function probeHealthz(client: Client, start: number, end: number, everyMs: number) {
  return probe(() => client.send('GET', '/healthz'), start, end, everyMs);
}

/**
 * The second factor's form at the code step (without the CSRF token), given the page the
 * step showed: a code from the user's app unless told otherwise.
 */
export type SecondFactorForm = (user: BenchUser, codePage: string) => Record<string, string>;

export const byAppCode: SecondFactorForm = (user) => {
  if (user.secret === null) throw new Error(`${user.email} has no app`);
  return { code: codeAt(user.secret, new Date()) };
};

/**
 * Logs in users taken from `nextUser` until the window ends; counts the logins that
 * complete inside it (after `warmUpMs`, when every virtual user is mid-login).
 */
export async function loginRound(
  client: Client,
  nextUser: () => BenchUser | undefined,
  options: LoginLoadOptions,
  secondFactor: SecondFactorForm = byAppCode,
): Promise<LoginRound> {
  const windowStart = performance.now() + options.warmUpMs;
  const windowEnd = windowStart + options.seconds * 1000;
  const samples: LoginRound['samples'] = { getLogin: [], postPassword: [], getCode: [], postCode: [], healthz: [] };
  let completed = 0;
  let allCompleted = 0;
  let failures = 0;
  let firstFailure: string | null = null;

  async function logIn(user: BenchUser): Promise<void> {
    const browser = client.browser();
    try {
      const page = check(await browser.get('/login'), 200);
      const password = check(
        await browser.post('/login', { _csrf: csrfTokenIn(page.body), email: user.email, password: BENCH_PASSWORD }),
        303,
        '/login/code',
      );
      const codePage = check(await browser.get('/login/code'), 200);
      const code = check(
        await browser.post('/login/code', { _csrf: csrfTokenIn(codePage.body), ...secondFactor(user, codePage.body) }),
        303,
        '/account',
      );
      const done = performance.now();
      allCompleted += 1;
      if (done < windowStart || done >= windowEnd) return;
      completed += 1;
      samples.getLogin.push(page.ms);
      samples.postPassword.push(password.ms);
      samples.getCode.push(codePage.ms);
      samples.postCode.push(code.ms);
    } catch (error) {
      failures += 1;
      firstFailure ??= error instanceof Error ? error.message : String(error);
    }
  }

  const lag = monitorEventLoopDelay({ resolution: 10 });
  await Promise.all([
    probeHealthz(client, windowStart, windowEnd, options.probeEveryMs).then((probed) => {
      samples.healthz.push(...probed.latencies);
      failures += probed.failures;
    }),
    sleep(options.warmUpMs).then(() => lag.enable()),
    inParallel(
      options.concurrency,
      () => performance.now() >= windowEnd,
      async () => {
        const user = nextUser();
        if (user === undefined) return false;
        await logIn(user);
        return true;
      },
    ),
  ]);
  lag.disable();
  return {
    completed,
    allCompleted,
    seconds: options.seconds,
    failures,
    firstFailure,
    samples,
    clientLagP99Ms: round(lag.percentile(99) / 1e6, 1),
  };
}

export function combineLoginRounds(rounds: LoginRound[]): LoginLoad {
  const completed = rounds.reduce((n, r) => n + r.completed, 0);
  const seconds = rounds.reduce((n, r) => n + r.seconds, 0);
  const all = (name: Step | 'healthz') => rounds.flatMap((r) => r.samples[name]);
  return {
    loginsPerSecond: round(completed / seconds),
    completed,
    seconds,
    failures: rounds.reduce((n, r) => n + r.failures, 0),
    firstFailure: rounds.find((r) => r.firstFailure !== null)?.firstFailure ?? null,
    steps: Object.fromEntries(STEPS.map((step) => [step, latenciesOf(all(step))])) as Record<Step, Latencies>,
    healthz: latenciesOf(all('healthz')),
    clientLagP99Ms: Math.max(...rounds.map((r) => r.clientLagP99Ms)),
  };
}
