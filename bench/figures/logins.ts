// 1 and 2: complete logins against raw argon2id verifications, alternating; the latency of
// the code step and of a trivial GET while the logins run, with the idle server as control.
import { withCpu, sumCpu, type CpuSpent } from '../cpu.js';
import { clientFor } from '../http.js';
import { rawVerificationsPerSecond, type Argon2Rate } from '../phases/argon2.js';
import { combineLoginRounds, loginRound, probeHealthz, type LoginRound } from '../phases/logins.js';
import type { ServerProcess } from '../processes.js';
import { judged } from '../report.js';
import type { BenchUser } from '../seed.js';
import { ARGON2, CONCURRENCY, IDLE_PROBE_SECONDS, LOGINS, ROUNDS, say, type Run } from '../settings.js';
import { latenciesOf, round, type Latencies } from '../stats.js';

/** The control for latencies under load: the same probe on the idle server. */
async function idleHealthz(server: ServerProcess): Promise<Latencies> {
  const client = clientFor(server.url);
  try {
    const start = performance.now();
    const probed = await probeHealthz(client, start, start + IDLE_PROBE_SECONDS * 1000, LOGINS.probeEveryMs);
    return latenciesOf(probed.latencies);
  } finally {
    client.close();
  }
}

/** CPU time per operation, in ms rounded to 0.1: the server's main thread, its other threads, the bench client; and one raw argon2id verification. */
export interface CpuPerOperation {
  serverMainThreadMs: number;
  serverOtherThreadsMs: number;
  clientMs: number;
  rawArgon2Ms: number;
}

/** Figure 1, which the OpenID Connect sign-ins are set beside: the ratio, and what one login costs. */
export interface LoginsFigure {
  ratio: number;
  cpuPerLogin: CpuPerOperation;
}

/**
 * 1 and 2: logins against raw argon2id, A B A B ... A; latencies while the logins run.
 * Returns figure 1, which the OpenID Connect sign-ins are set beside.
 */
export async function measureLogins(run: Run, server: ServerProcess, users: BenchUser[]): Promise<LoginsFigure> {
  say(`\n[1, 2] Complete logins, ${CONCURRENCY} virtual users, alternating with raw argon2id verifications`);
  const client = clientFor(server.url);
  let next = 0;
  const nextUser = () => users[next++];
  const argon2: Argon2Rate[] = [];
  const logins: LoginRound[] = [];
  const cpu: CpuSpent[] = [];
  const verify = () => rawVerificationsPerSecond(run.passwordHash, CONCURRENCY, ARGON2.seconds, ARGON2.warmUpMs);
  const idle = await idleHealthz(server);
  say(`    GET /healthz on the idle server: p50 ${idle.p50} ms, p99 ${idle.p99} ms (n=${idle.n})`);
  try {
    argon2.push(await verify());
    for (let i = 0; i < ROUNDS; i += 1) {
      const [login, spent] = await withCpu(server, () =>
        loginRound(client, nextUser, { concurrency: CONCURRENCY, ...LOGINS }),
      );
      logins.push(login);
      cpu.push(spent);
      argon2.push(await verify());
      say(
        `    round ${i + 1}: ${round(login.completed / login.seconds)} logins/s, argon2id ${argon2.at(-2)?.perSecond}/s before and ${argon2.at(-1)?.perSecond}/s after`,
      );
    }
  } finally {
    client.close();
  }
  const load = combineLoginRounds(logins);
  const verified = argon2.reduce((n, r) => n + r.verified, 0);
  const ceiling = round(verified / argon2.reduce((n, r) => n + r.seconds, 0));
  const perLogin = sumCpu(cpu);
  const allLogins = logins.reduce((n, r) => n + r.allCompleted, 0);
  const cpuPerLogin: CpuPerOperation = {
    serverMainThreadMs: round(perLogin.serverMainMs / allLogins, 1),
    serverOtherThreadsMs: round(perLogin.serverOtherMs / allLogins, 1),
    clientMs: round(perLogin.clientMs / allLogins, 1),
    rawArgon2Ms: round(argon2.reduce((n, r) => n + r.cpuMsPerVerification, 0) / argon2.length, 1),
  };
  // How much of the server's own CPU per login is the hash: the ratio a machine of its own would approach.
  const serverShare = round(
    cpuPerLogin.rawArgon2Ms / (cpuPerLogin.serverMainThreadMs + cpuPerLogin.serverOtherThreadsMs),
  );
  run.raw.logins = {
    load,
    rounds: logins.map((r) => ({ completed: r.completed, allCompleted: r.allCompleted, seconds: r.seconds })),
    argon2,
    cpuPerLogin,
    serverShare,
    idleHealthz: idle,
  };
  if (load.firstFailure !== null) say(`    first failure: ${load.firstFailure}`);
  const perRound = logins.map((r, i) => {
    const around = ((argon2[i]?.perSecond ?? 0) + (argon2[i + 1]?.perSecond ?? 0)) / 2;
    return round(r.completed / r.seconds / around);
  });
  const cpuNote = `CPU per login: server main thread ${cpuPerLogin.serverMainThreadMs} ms, server other threads ${cpuPerLogin.serverOtherThreadsMs} ms, bench client ${cpuPerLogin.clientMs} ms; raw argon2id ${cpuPerLogin.rawArgon2Ms} ms per verification, so ${serverShare} of the server's CPU per login is the hash`;
  say(`    ${cpuNote}`);
  const lag = `bench client's own event-loop lag p99 ${load.clientLagP99Ms} ms`;
  const ratio = round(load.loginsPerSecond / ceiling);
  run.rows.push(
    judged(
      'Complete logins/s ÷ raw argon2id verifications/s',
      ratio,
      '',
      { atLeast: 0.9 },
      `${load.loginsPerSecond} logins/s (${load.completed} in ${load.seconds} s) ÷ ${ceiling} verifications/s (${verified} in ${argon2.length} × ${ARGON2.seconds} s), ${CONCURRENCY} concurrent each; per round ${perRound.join(', ')}. ${cpuNote}`,
      load.failures,
    ),
    judged(
      'Code step (POST /login/code) p99, under the login load',
      load.steps.postCode.p99,
      ' ms',
      { below: 50 },
      `p50 ${load.steps.postCode.p50} ms, max ${load.steps.postCode.max} ms, n=${load.steps.postCode.n}; ${lag}`,
      load.failures,
    ),
    judged(
      'Trivial GET (GET /healthz) p99, under the login load',
      load.healthz.p99,
      ' ms',
      { below: 20 },
      `p50 ${load.healthz.p50} ms, max ${load.healthz.max} ms, n=${load.healthz.n}, one at a time every ${LOGINS.probeEveryMs} ms; on the idle server just before: p50 ${idle.p50} ms, p99 ${idle.p99} ms; ${lag}`,
    ),
  );
  return { ratio, cpuPerLogin };
}
