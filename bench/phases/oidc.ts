// Complete OpenID Connect sign-ins by concurrent virtual users, each a fresh browser and the
// application's back end in one: the authorization request (PKCE S256, state, nonce), to
// Twofold's sign-in page, the password, the code (which sends the person straight back),
// the provider's redirect to the application with a code, and the application's token
// request (client_secret_basic). Every request a real sign-in makes, with the bench's own HTTP
// client (as for the plain logins), so that the two ratios to argon2id compare.
import { createHash, randomBytes } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { ACR_TWO_FACTOR } from '../../src/domain/sign-in-for-applications.js';
import { codeAt } from '../../src/domain/totp.js';
import { csrfTokenIn, type Answer, type Client } from '../http.js';
import { BENCH_PASSWORD, type BenchUser } from '../seed.js';
import { probe } from './logins.js';
import { inParallel, latenciesOf, round, sleep, type Latencies } from '../stats.js';

export const OIDC_STEPS = ['authorize', 'getLogin', 'postPassword', 'getCode', 'postCode', 'resume', 'token'] as const;
export type OidcStep = (typeof OIDC_STEPS)[number];

export interface BenchApplication {
  clientId: string;
  clientSecret: string;
  redirectUri: string;
}

export interface OidcRound {
  completed: number;
  /** Sign-ins completed at any time in the round, warm-up and drain included: for CPU per sign-in. */
  allCompleted: number;
  seconds: number;
  failures: number;
  firstFailure: string | null;
  samples: Record<OidcStep, number[]>;
  /** The forward-auth checks' latencies, probed meanwhile. */
  forwardAuth: number[];
  clientLagP99Ms: number;
}

export interface OidcLoad {
  signInsPerSecond: number;
  completed: number;
  seconds: number;
  failures: number;
  firstFailure: string | null;
  steps: Record<OidcStep, Latencies>;
  forwardAuth: Latencies;
  clientLagP99Ms: number;
}

export interface OidcLoadOptions {
  concurrency: number;
  warmUpMs: number;
  seconds: number;
  /** A signed-in person's forward-auth check, sent one at a time every `probeEveryMs` in the window. */
  forwardAuthCheck: () => Promise<Answer>;
  probeEveryMs: number;
}

/** Refuses an answer that is not what a person signing in to an application gets. */
export function check(step: string, answer: Answer, status: number, location?: RegExp): Answer {
  if (answer.status === status && (location === undefined || location.test(answer.location ?? ''))) return answer;
  const got = `${answer.status}${answer.location === undefined ? '' : ` to ${answer.location}`}`;
  throw new Error(`${step}: expected ${status}, got ${got}: ${answer.body.replace(/\s+/g, ' ').slice(0, 200)}`);
}

/** The path and query of an address the server gave, which may be absolute (its public URL). */
export function pathOf(location: string | undefined): string {
  const url = new URL(location ?? '', 'http://server.invalid');
  return `${url.pathname}${url.search}`;
}

const random = () => randomBytes(32).toString('base64url');

/** The application's side of an authorization request: its query (PKCE S256, state, nonce) and what it keeps. */
export function authorizationRequestOf(application: BenchApplication) {
  const verifier = random();
  const state = random();
  const nonce = random();
  const query = new URLSearchParams({
    client_id: application.clientId,
    response_type: 'code',
    scope: 'openid email',
    redirect_uri: application.redirectUri,
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    state,
    nonce,
  });
  return { query: query.toString(), verifier, state, nonce };
}

/** The code in the provider's redirect, refused unless it is back at the application with its state. */
export function codeOf(redirected: Answer, application: BenchApplication, state: string): string {
  const callback = new URL(redirected.location ?? '', application.redirectUri);
  if (!redirected.location?.startsWith(application.redirectUri) || callback.searchParams.get('state') !== state) {
    throw new Error(`resume: not back at the application with its state: ${redirected.location ?? ''}`);
  }
  return callback.searchParams.get('code') ?? '';
}

/** The application's token request for `code` (client_secret_basic): its headers and form. */
export function tokenRequestOf(application: BenchApplication, code: string, verifier: string) {
  const basic = `Basic ${Buffer.from(
    `${encodeURIComponent(application.clientId)}:${encodeURIComponent(application.clientSecret)}`,
  ).toString('base64')}`;
  return {
    headers: { authorization: basic },
    form: { grant_type: 'authorization_code', code, redirect_uri: application.redirectUri, code_verifier: verifier },
  };
}

/** The claims of the ID token in a token answer, unverified: the bench checks what the application is told, not the signature. */
export function idTokenClaimsOf(tokens: Answer): Record<string, unknown> {
  const jwt = String((JSON.parse(tokens.body) as { id_token?: unknown }).id_token ?? '');
  return JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
}

/**
 * One person's whole sign-in to the application, as a fresh browser, every answer checked;
 * `onStep` is told each step's name just before its request is sent.
 */
export async function signInToApplication(
  client: Client,
  application: BenchApplication,
  user: BenchUser,
  secret: Uint8Array,
  onStep: (name: OidcStep) => void = () => {},
): Promise<Record<OidcStep, Answer>> {
  const browser = client.browser();
  const request = authorizationRequestOf(application);
  const answers: Partial<Record<OidcStep, Answer>> = {};
  const step = async (name: OidcStep, send: () => Promise<Answer>, status: number, location?: RegExp) => {
    onStep(name);
    return (answers[name] = check(name, await send(), status, location));
  };
  await step('authorize', () => browser.get(`/oidc/auth?${request.query}`), 303, /^\/login$/);
  const page = await step('getLogin', () => browser.get('/login'), 200);
  const form = { _csrf: csrfTokenIn(page.body), email: user.email, password: BENCH_PASSWORD };
  await step('postPassword', () => browser.post('/login', form), 303, /^\/login\/code$/);
  const codePage = await step('getCode', () => browser.get('/login/code'), 200);
  const code = { _csrf: csrfTokenIn(codePage.body), code: codeAt(secret, new Date()) };
  const back = await step('postCode', () => browser.post('/login/code', code), 303, /^\/oidc\/auth\//);
  const redirected = await step('resume', () => browser.get(pathOf(back.location)), 303);
  const token = tokenRequestOf(application, codeOf(redirected, application, request.state), request.verifier);
  const tokens = await step('token', () => client.send('POST', '/oidc/token', token.headers, token.form), 200);
  const claims = idTokenClaimsOf(tokens);
  if (claims.sub !== user.id || claims.nonce !== request.nonce || claims.acr !== ACR_TWO_FACTOR) {
    throw new Error(`token: an ID token for the wrong sign-in: ${JSON.stringify(claims)}`);
  }
  return answers as Record<OidcStep, Answer>;
}

/**
 * Signs in users taken from `nextUser` until the window ends; counts the sign-ins that
 * complete inside it (after `warmUpMs`, when every virtual user is mid-sign-in).
 */
export async function oidcRound(
  client: Client,
  application: BenchApplication,
  nextUser: () => BenchUser | undefined,
  options: OidcLoadOptions,
): Promise<OidcRound> {
  const windowStart = performance.now() + options.warmUpMs;
  const windowEnd = windowStart + options.seconds * 1000;
  const samples = Object.fromEntries(OIDC_STEPS.map((step) => [step, [] as number[]])) as Record<OidcStep, number[]>;
  let completed = 0;
  let allCompleted = 0;
  let failures = 0;
  let firstFailure: string | null = null;

  async function signIn(user: BenchUser, secret: Uint8Array): Promise<void> {
    try {
      const answers = await signInToApplication(client, application, user, secret);
      const done = performance.now();
      allCompleted += 1;
      if (done < windowStart || done >= windowEnd) return;
      completed += 1;
      for (const name of OIDC_STEPS) samples[name].push(answers[name].ms);
    } catch (error) {
      failures += 1;
      firstFailure ??= error instanceof Error ? error.message : String(error);
    }
  }

  const forwardAuth: number[] = [];
  const lag = monitorEventLoopDelay({ resolution: 10 });
  await Promise.all([
    probe(options.forwardAuthCheck, windowStart, windowEnd, options.probeEveryMs).then((probed) => {
      forwardAuth.push(...probed.latencies);
      failures += probed.failures;
      if (probed.failures > 0) firstFailure ??= `forward auth: ${probed.failures} checks not answered 200`;
    }),
    sleep(options.warmUpMs).then(() => lag.enable()),
    inParallel(
      options.concurrency,
      () => performance.now() >= windowEnd,
      async () => {
        const user = nextUser();
        if (user === undefined || user.secret === null) return false;
        await signIn(user, user.secret);
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
    forwardAuth,
    clientLagP99Ms: round(lag.percentile(99) / 1e6, 1),
  };
}

export function combineOidcRounds(rounds: OidcRound[]): OidcLoad {
  const completed = rounds.reduce((n, r) => n + r.completed, 0);
  const seconds = rounds.reduce((n, r) => n + r.seconds, 0);
  return {
    signInsPerSecond: round(completed / seconds),
    completed,
    seconds,
    failures: rounds.reduce((n, r) => n + r.failures, 0),
    firstFailure: rounds.find((r) => r.firstFailure !== null)?.firstFailure ?? null,
    steps: Object.fromEntries(
      OIDC_STEPS.map((step) => [step, latenciesOf(rounds.flatMap((r) => r.samples[step]))]),
    ) as Record<OidcStep, Latencies>,
    forwardAuth: latenciesOf(rounds.flatMap((r) => r.forwardAuth)),
    clientLagP99Ms: Math.max(...rounds.map((r) => r.clientLagP99Ms)),
  };
}
