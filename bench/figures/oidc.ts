// 7, 8 and 10: complete OpenID Connect sign-ins against raw argon2id verifications,
// alternating, set beside the plain logins' ratio of the same run; their floor, the CPU that
// oidc-provider alone spends on a sign-in's protocol requests, in a process of its own; and
// the latencies of the token endpoint and of a signed-in person's forward-auth check while
// those sign-ins saturate the CPU.
import { join } from 'node:path';
import { withCpu, sumCpu, type CpuSpent } from '../cpu.js';
import { clientFor, type Client } from '../http.js';
import { cookieNamesFor } from '../../src/web/respond.js';
import { rawVerificationsPerSecond, type Argon2Rate } from '../phases/argon2.js';
import { combineOidcRounds, oidcRound, type BenchApplication, type OidcRound } from '../phases/oidc.js';
import { floorRound, type FloorRound } from '../phases/oidc-floor.js';
import { startOidcFloor, type ServerProcess } from '../processes.js';
import { informative, judged, type Row } from '../report.js';
import type { BenchUser } from '../seed.js';
import {
  ARGON2,
  BENCH_SITE_HOST,
  CONCURRENCY,
  OIDC,
  OIDC_FLOOR_APPLICATION,
  OIDC_FLOOR_ROUNDS,
  OIDC_SHARE_OF_LOGINS,
  ROUNDS,
  say,
  type Run,
} from '../settings.js';
import { round } from '../stats.js';
import type { CpuPerOperation, LoginsFigure } from './logins.js';

/** The figures of the plain logins the new ones are set beside, in the table. */
const LOGINS_FIGURE = 'Complete logins/s ÷ raw argon2id verifications/s';
const CODE_STEP_FIGURE = 'Code step (POST /login/code) p99, under the login load';
const OIDC_FIGURE = 'Complete OpenID Connect sign-ins/s ÷ raw argon2id verifications/s';

/** Puts `row` just after the row of `figure`, or last when there is none. */
function insertAfter(rows: Row[], figure: string, row: Row): void {
  const at = rows.findIndex((r) => r.figure === figure);
  rows.splice(at < 0 ? rows.length : at + 1, 0, row);
}

/** All the CPU an operation costs: the server's main thread, its other threads, the bench client. */
function allCpuMs(cpu: CpuPerOperation): number {
  return round(cpu.serverMainThreadMs + cpu.serverOtherThreadsMs + cpu.clientMs, 1);
}

/** The proxy's question for the bench site, as nginx asks it, with a signed-in person's session. */
function forwardAuthCheckOf(client: Client, sessionToken: string) {
  const headers = {
    cookie: `${cookieNamesFor(false).session}=${sessionToken}`,
    'x-forwarded-proto': 'http',
    'x-forwarded-host': BENCH_SITE_HOST,
  };
  let n = 0;
  return () => client.send('GET', '/auth/nginx', { ...headers, 'x-forwarded-uri': `/page/${(n += 1)}` });
}

/**
 * The floor of a sign-in: bench/oidc-floor-server.ts started for it, OIDC_FLOOR_ROUNDS rounds
 * of the sign-ins' warm-up and window, stopped; the CPU per sign-in counts every sign-in
 * completed, warm-up included, as the sign-ins' own does.
 */
async function measureFloor(run: Run) {
  say(`    the floor: oidc-provider alone, ${CONCURRENCY} virtual users, in a process of its own`);
  const server = await startOidcFloor(
    OIDC_FLOOR_APPLICATION,
    run.profileRoot === null ? undefined : join(run.profileRoot, 'oidc-floor'),
  );
  const client = clientFor(server.url);
  const rounds: { signedIn: FloorRound; spent: CpuSpent }[] = [];
  try {
    const discovery = await client.send('GET', '/.well-known/openid-configuration');
    if (discovery.status !== 200) throw new Error(`the floor's discovery answered ${discovery.status}`);
    for (let i = 0; i < OIDC_FLOOR_ROUNDS; i += 1) {
      const [signedIn, spent] = await withCpu(server, () =>
        floorRound(client, OIDC_FLOOR_APPLICATION, { concurrency: CONCURRENCY, ...OIDC }),
      );
      rounds.push({ signedIn, spent });
      say(`    floor round ${i + 1}: ${round(signedIn.completed / signedIn.seconds)} sign-ins/s`);
    }
  } finally {
    client.close();
    await server.stop();
  }
  const totalMs = (spent: CpuSpent) => spent.serverMainMs + spent.serverOtherMs + spent.clientMs;
  const spent = sumCpu(rounds.map((r) => r.spent));
  const all = rounds.reduce((n, r) => n + r.signedIn.allCompleted, 0);
  const completed = rounds.reduce((n, r) => n + r.signedIn.completed, 0);
  const seconds = rounds.reduce((n, r) => n + r.signedIn.seconds, 0);
  return {
    signInsPerSecond: round(completed / seconds),
    completed,
    seconds,
    rounds: rounds.map(({ signedIn, spent }) => ({
      completed: signedIn.completed,
      allCompleted: signedIn.allCompleted,
      seconds: signedIn.seconds,
      cpuMsPerSignIn: round(totalMs(spent) / signedIn.allCompleted, 1),
    })),
    failures: rounds.reduce((n, r) => n + r.signedIn.failures, 0),
    firstFailure: rounds.find((r) => r.signedIn.firstFailure !== null)?.signedIn.firstFailure ?? null,
    cpuPerSignIn: {
      serverMainThreadMs: round(spent.serverMainMs / all, 1),
      serverOtherThreadsMs: round(spent.serverOtherMs / all, 1),
      clientMs: round(spent.clientMs / all, 1),
      totalMs: round(totalMs(spent) / all, 1),
    },
  };
}

/**
 * 7, 8 and 10: OpenID Connect sign-ins against raw argon2id, A B A B ... A, then their floor;
 * `logins` is figure 1, measured earlier in the run: its ratio, of which this one is to reach
 * OIDC_SHARE_OF_LOGINS, and its CPU per login, which the floor is set beside.
 */
export async function measureOidc(
  run: Run,
  server: ServerProcess,
  application: BenchApplication,
  users: BenchUser[],
  logins: LoginsFigure,
  /** A signed-in session of a member of the bench site's organisation. */
  forwardAuthSession: string,
): Promise<void> {
  say(`\n[7, 8] Complete OpenID Connect sign-ins, ${CONCURRENCY} virtual users, alternating with raw argon2id`);
  const client = clientFor(server.url);
  const forwardAuthCheck = forwardAuthCheckOf(client, forwardAuthSession);
  let next = 0;
  const nextUser = () => users[next++];
  const argon2: Argon2Rate[] = [];
  const signIns: OidcRound[] = [];
  const cpu: CpuSpent[] = [];
  const verify = () => rawVerificationsPerSecond(run.passwordHash, CONCURRENCY, ARGON2.seconds, ARGON2.warmUpMs);
  try {
    const first = await forwardAuthCheck();
    if (first.status !== 200) throw new Error(`the forward-auth check answered ${first.status}`);
    // As an application does when it starts; it also has the server build its provider (and
    // make its signing keys, on a new database) before anything is timed.
    const discovery = await client.send('GET', '/.well-known/openid-configuration');
    if (discovery.status !== 200) throw new Error(`discovery answered ${discovery.status}`);
    argon2.push(await verify());
    for (let i = 0; i < ROUNDS; i += 1) {
      const [signedIn, spent] = await withCpu(server, () =>
        oidcRound(client, application, nextUser, { concurrency: CONCURRENCY, ...OIDC, forwardAuthCheck }),
      );
      signIns.push(signedIn);
      cpu.push(spent);
      argon2.push(await verify());
      say(
        `    round ${i + 1}: ${round(signedIn.completed / signedIn.seconds)} sign-ins/s, argon2id ${argon2.at(-2)?.perSecond}/s before and ${argon2.at(-1)?.perSecond}/s after`,
      );
    }
  } finally {
    client.close();
  }
  const floor = await measureFloor(run);
  const loginsRatio = logins.ratio;
  const load = combineOidcRounds(signIns);
  const verified = argon2.reduce((n, r) => n + r.verified, 0);
  const ceiling = round(verified / argon2.reduce((n, r) => n + r.seconds, 0));
  const ratio = round(load.signInsPerSecond / ceiling);
  const spent = sumCpu(cpu);
  const all = signIns.reduce((n, r) => n + r.allCompleted, 0);
  const cpuPerSignIn: CpuPerOperation = {
    serverMainThreadMs: round(spent.serverMainMs / all, 1),
    serverOtherThreadsMs: round(spent.serverOtherMs / all, 1),
    clientMs: round(spent.clientMs / all, 1),
    rawArgon2Ms: round(argon2.reduce((n, r) => n + r.cpuMsPerVerification, 0) / argon2.length, 1),
  };
  const perRound = signIns.map((r, i) => {
    const around = ((argon2[i]?.perSecond ?? 0) + (argon2[i + 1]?.perSecond ?? 0)) / 2;
    return round(r.completed / r.seconds / around);
  });
  const target = round(OIDC_SHARE_OF_LOGINS * loginsRatio);
  run.raw.oidc = {
    load,
    rounds: signIns.map((r) => ({ completed: r.completed, allCompleted: r.allCompleted, seconds: r.seconds })),
    argon2,
    cpuPerSignIn,
    ratio,
    loginsRatio,
    shareOfLogins: round(ratio / loginsRatio),
  };
  if (load.firstFailure !== null) say(`    first failure: ${load.firstFailure}`);
  const cpuNote = `CPU per sign-in: server main thread ${cpuPerSignIn.serverMainThreadMs} ms, server other threads ${cpuPerSignIn.serverOtherThreadsMs} ms, bench client ${cpuPerSignIn.clientMs} ms; raw argon2id ${cpuPerSignIn.rawArgon2Ms} ms per verification`;
  say(`    ${cpuNote}`);
  say(`    ratio ${ratio} beside the plain logins' ${loginsRatio}: ${round(ratio / loginsRatio)} of it`);
  const token = load.steps.token;
  insertAfter(run.rows, LOGINS_FIGURE, {
    ...judged(
      OIDC_FIGURE,
      ratio,
      '',
      { atLeast: target },
      `${round(ratio / loginsRatio)} of the plain logins' ${loginsRatio}. ${load.signInsPerSecond} sign-ins/s (${load.completed} in ${load.seconds} s; 7 requests each, token exchange included) ÷ ${ceiling} verifications/s (${verified} in ${argon2.length} × ${ARGON2.seconds} s), ${CONCURRENCY} concurrent each; per round ${perRound.join(', ')}. ${cpuNote}`,
      load.failures,
    ),
    target: `>= ${target} (${OIDC_SHARE_OF_LOGINS} × logins' ${loginsRatio})`,
  });
  // What the target leaves a sign-in beyond a login, and the best share reachable when a
  // sign-in costs a login plus the floor: the hash's share of all CPU, per login and per sign-in.
  const loginMs = allCpuMs(logins.cpuPerLogin);
  const signInMs = allCpuMs(cpuPerSignIn);
  const floorMs = floor.cpuPerSignIn.totalMs;
  const reachable = round(loginMs / (loginMs + floorMs));
  const budgetMs = round(loginMs / OIDC_SHARE_OF_LOGINS - loginMs, 1);
  run.raw.oidcFloor = { ...floor, loginMs, reachableShareOfLogins: reachable, budgetMs };
  if (floor.firstFailure !== null) say(`    floor's first failure: ${floor.firstFailure}`);
  const floorCpu = floor.cpuPerSignIn;
  const floorNote = `CPU per sign-in of oidc-provider alone: server main thread ${floorCpu.serverMainThreadMs} ms, server other threads ${floorCpu.serverOtherThreadsMs} ms, bench client ${floorCpu.clientMs} ms`;
  say(`    ${floorNote}; best share of the logins' ratio reachable ${reachable}`);
  insertAfter(
    run.rows,
    OIDC_FIGURE,
    informative(
      "OpenID Connect sign-in's floor: oidc-provider alone (authorize, interaction, resume, token)",
      floorMs,
      ' ms',
      `${floorNote}; per round ${floor.rounds.map((r) => r.cpuMsPerSignIn).join(', ')} ms; ${floor.signInsPerSecond} sign-ins/s (${floor.completed} in ${floor.seconds} s; 4 requests each), ${CONCURRENCY} concurrent, in a process of its own. Best share of the logins' ratio reachable with oidc-provider = L / (L + F) = ${loginMs} / (${loginMs} + ${floorMs}) = ${reachable}, L being a login's CPU (figure 1: server main + other threads + client) and F this floor. The target's budget for a sign-in beyond a login: L / ${OIDC_SHARE_OF_LOGINS} − L = ${round(1 / OIDC_SHARE_OF_LOGINS - 1, 3)} × L = ${budgetMs} ms; Twofold's sign-in here ${signInMs} ms, ${round(signInMs - loginMs, 1)} ms beyond a login`,
      floor.failures,
    ),
  );
  const forwardAuth = load.forwardAuth;
  insertAfter(
    run.rows,
    CODE_STEP_FIGURE,
    judged(
      'Token endpoint (POST /oidc/token) p99, under the sign-in load',
      token.p99,
      ' ms',
      { below: 50 },
      `p50 ${token.p50} ms, max ${token.max} ms, n=${token.n}; the code step under the same load p99 ${load.steps.postCode.p99} ms; bench client's own event-loop lag p99 ${load.clientLagP99Ms} ms`,
      load.failures,
    ),
  );
  insertAfter(
    run.rows,
    'Token endpoint (POST /oidc/token) p99, under the sign-in load',
    judged(
      'Forward-auth check (GET /auth/nginx) p99, under the sign-in load',
      forwardAuth.p99,
      ' ms',
      { below: 20 },
      `a signed-in person's check of a site requiring 2FA, one at a time every ${OIDC.probeEveryMs} ms; p50 ${forwardAuth.p50} ms, max ${forwardAuth.max} ms, n=${forwardAuth.n}`,
      load.failures,
    ),
  );
}
