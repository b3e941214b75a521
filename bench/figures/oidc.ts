// 7, 8 and 10: complete OpenID Connect sign-ins against raw argon2id verifications,
// alternating, set beside the plain logins' ratio of the same run; and the latencies of the
// token endpoint and of a signed-in person's forward-auth check while those sign-ins
// saturate the CPU.
import { withCpu, sumCpu, type CpuSpent } from '../cpu.js';
import { clientFor, type Client } from '../http.js';
import { cookieNamesFor } from '../../src/web/respond.js';
import { rawVerificationsPerSecond, type Argon2Rate } from '../phases/argon2.js';
import { combineOidcRounds, oidcRound, type BenchApplication, type OidcRound } from '../phases/oidc.js';
import type { ServerProcess } from '../processes.js';
import { judged, type Row } from '../report.js';
import type { BenchUser } from '../seed.js';
import {
  ARGON2,
  BENCH_SITE_HOST,
  CONCURRENCY,
  OIDC,
  OIDC_SHARE_OF_LOGINS,
  ROUNDS,
  say,
  type Run,
} from '../settings.js';
import { round } from '../stats.js';

/** The figures of the plain logins the new ones are set beside, in the table. */
const LOGINS_FIGURE = 'Complete logins/s ÷ raw argon2id verifications/s';
const CODE_STEP_FIGURE = 'Code step (POST /login/code) p99, under the login load';

/** Puts `row` just after the row of `figure`, or last when there is none. */
function insertAfter(rows: Row[], figure: string, row: Row): void {
  const at = rows.findIndex((r) => r.figure === figure);
  rows.splice(at < 0 ? rows.length : at + 1, 0, row);
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
 * 7, 8 and 10: OpenID Connect sign-ins against raw argon2id, A B A B ... A; `loginsRatio` is the
 * plain logins' ratio measured earlier in the run (figure 1), of which this one is to reach
 * OIDC_SHARE_OF_LOGINS.
 */
export async function measureOidc(
  run: Run,
  server: ServerProcess,
  application: BenchApplication,
  users: BenchUser[],
  loginsRatio: number,
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
  const load = combineOidcRounds(signIns);
  const verified = argon2.reduce((n, r) => n + r.verified, 0);
  const ceiling = round(verified / argon2.reduce((n, r) => n + r.seconds, 0));
  const ratio = round(load.signInsPerSecond / ceiling);
  const spent = sumCpu(cpu);
  const all = signIns.reduce((n, r) => n + r.allCompleted, 0);
  const cpuPerSignIn = {
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
      'Complete OpenID Connect sign-ins/s ÷ raw argon2id verifications/s',
      ratio,
      '',
      { atLeast: target },
      `${round(ratio / loginsRatio)} of the plain logins' ${loginsRatio}. ${load.signInsPerSecond} sign-ins/s (${load.completed} in ${load.seconds} s; 9 requests each, token exchange included) ÷ ${ceiling} verifications/s (${verified} in ${argon2.length} × ${ARGON2.seconds} s), ${CONCURRENCY} concurrent each; per round ${perRound.join(', ')}. ${cpuNote}`,
      load.failures,
    ),
    target: `>= ${target} (${OIDC_SHARE_OF_LOGINS} × logins' ${loginsRatio})`,
  });
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
