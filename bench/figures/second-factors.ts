// 11 and 12: the other second factors. Complete sign-ins with a security key or passkey
// beside complete sign-ins with an app code, alternating; and what the recovery-code step
// costs in password-hash (argon2id) verifications, right and wrong codes, read as the
// server's CPU per attempt over the CPU of one raw verification measured in the same run,
// with the password step measured the same way as a calibration (it does exactly one).
import type { Db } from '../../src/store/db.js';
import type { SoftAuthenticator } from '../../test/helpers/soft-authenticator.js';
import { sumCpu, withCpu, type CpuSpent } from '../cpu.js';
import { clientFor, csrfTokenIn } from '../http.js';
import { rawVerificationsPerSecond, type Argon2Rate } from '../phases/argon2.js';
import { combineLoginRounds, loginRound, type LoginRound } from '../phases/logins.js';
import { byKey, recoveryCodeRound, type RecoveryCodeRound } from '../phases/second-factors.js';
import type { ServerProcess } from '../processes.js';
import { judged } from '../report.js';
import { BENCH_PASSWORD, type BenchUser } from '../seed.js';
import { CONCURRENCY, PASSKEY_LOGINS, RECOVERY_CODE_STEP, ROUNDS, say, type Run } from '../settings.js';
import { inParallel, round } from '../stats.js';

const serverMs = (spent: CpuSpent) => spent.serverMainMs + spent.serverOtherMs;

/** 11: passkey sign-ins/s ÷ app-code sign-ins/s, A B A B ... on the same server. */
export async function measurePasskeyLogins(
  run: Run,
  server: ServerProcess,
  codeUsers: BenchUser[],
  keyUsers: BenchUser[],
  keys: Map<string, SoftAuthenticator>,
): Promise<void> {
  say(`\n[11] Complete sign-ins with a security key vs with an app code, ${CONCURRENCY} virtual users, alternating`);
  const client = clientFor(server.url);
  const next = (users: BenchUser[]) => {
    let at = 0;
    return () => users[at++];
  };
  const [nextCodeUser, nextKeyUser] = [next(codeUsers), next(keyUsers)];
  const answerWithKey = byKey(keys, new URL(server.url).origin);
  const options = { concurrency: CONCURRENCY, ...PASSKEY_LOGINS };
  const code: LoginRound[] = [];
  const key: LoginRound[] = [];
  const codeCpu: CpuSpent[] = [];
  const keyCpu: CpuSpent[] = [];
  try {
    for (let i = 0; i < ROUNDS; i += 1) {
      const [c, cc] = await withCpu(server, () => loginRound(client, nextCodeUser, options));
      const [k, kc] = await withCpu(server, () => loginRound(client, nextKeyUser, options, answerWithKey));
      code.push(c);
      codeCpu.push(cc);
      key.push(k);
      keyCpu.push(kc);
      say(
        `    round ${i + 1}: with an app code ${round(c.completed / c.seconds)}/s, with a key ${round(k.completed / k.seconds)}/s`,
      );
    }
  } finally {
    client.close();
  }
  const [byCode, withKey] = [combineLoginRounds(code), combineLoginRounds(key)];
  const perLogin = (spent: CpuSpent[], rounds: LoginRound[]) =>
    round(serverMs(sumCpu(spent)) / rounds.reduce((n, r) => n + r.allCompleted, 0), 1);
  const cpu = { codeMs: perLogin(codeCpu, code), keyMs: perLogin(keyCpu, key) };
  run.raw.passkeyLogins = { byCode, withKey, serverCpuPerSignIn: cpu };
  const firstFailure = withKey.firstFailure ?? byCode.firstFailure;
  if (firstFailure !== null) say(`    first failure: ${firstFailure}`);
  const perRound = code.map((c, i) => round((key[i]?.completed ?? 0) / (c.completed || 1)));
  const detail =
    `${withKey.loginsPerSecond}/s with a key (${withKey.completed} in ${withKey.seconds} s; its step p50 ${withKey.steps.postCode.p50} ms, p99 ${withKey.steps.postCode.p99} ms) ÷ ` +
    `${byCode.loginsPerSecond}/s with a code (${byCode.completed} in ${byCode.seconds} s; p50 ${byCode.steps.postCode.p50} ms, p99 ${byCode.steps.postCode.p99} ms); ` +
    `per round ${perRound.join(', ')}; server CPU per sign-in: key ${cpu.keyMs} ms, code ${cpu.codeMs} ms (a CPU ratio of ${round(cpu.codeMs / cpu.keyMs)})`;
  say(`    ${detail}`);
  run.rows.push(
    judged(
      'Sign-ins with a security key/s ÷ sign-ins with an app code/s',
      round(withKey.loginsPerSecond / byCode.loginsPerSecond),
      '',
      { atLeast: 0.9 },
      detail,
      withKey.failures + byCode.failures,
    ),
  );
}

/** The password step (GET /login, POST /login) for each of `users`: one argon2id verification each, the calibration. */
async function passwordSteps(server: ServerProcess, users: BenchUser[]): Promise<RecoveryCodeRound> {
  const client = clientFor(server.url);
  let at = 0;
  let failures = 0;
  let firstFailure: string | null = null;
  try {
    await inParallel(
      CONCURRENCY,
      () => at >= users.length,
      async () => {
        const user = users[at++];
        if (user === undefined) return false;
        const browser = client.browser();
        const page = await browser.get('/login');
        const answer = await browser.post('/login', {
          _csrf: csrfTokenIn(page.body),
          email: user.email,
          password: BENCH_PASSWORD,
        });
        if (answer.status !== 303 || answer.location !== '/login/code') {
          failures += 1;
          firstFailure ??= `${answer.status} ${answer.location ?? ''}`;
        }
        return true;
      },
    );
  } finally {
    client.close();
  }
  return { requests: users.length, failures, firstFailure };
}

/** 12: argon2id verifications' worth of server CPU per recovery-code attempt, right and wrong. */
export async function measureRecoveryCodeStep(
  run: Run,
  server: ServerProcess,
  db: Db,
  organisationId: string,
  users: BenchUser[],
  codes: Map<string, string[]>,
): Promise<void> {
  const { perRound, calibration } = RECOVERY_CODE_STEP;
  say(
    `\n[12] Recovery-code step: server CPU per attempt ÷ CPU of one raw argon2id verification, ${ROUNDS} rounds of ${perRound} right and ${perRound} wrong, ${CONCURRENCY} at a time`,
  );
  const take = (() => {
    let at = 0;
    return (n: number) => {
      const taken = users.slice(at, at + n);
      at += n;
      if (taken.length < n) throw new Error('not enough users seeded for the recovery-code step');
      return taken;
    };
  })();
  const argon2: Argon2Rate[] = [];
  const verify = () => rawVerificationsPerSecond(run.passwordHash, CONCURRENCY, 2, 300);
  const sides = { right: [] as CpuSpent[], wrong: [] as CpuSpent[], password: [] as CpuSpent[] };
  const answered: RecoveryCodeRound[] = [];
  argon2.push(await verify());
  const [calibrated, calibrationCpu] = await withCpu(server, () => passwordSteps(server, take(calibration)));
  sides.password.push(calibrationCpu);
  answered.push(calibrated);
  for (let i = 0; i < ROUNDS; i += 1) {
    for (const right of [true, false]) {
      const [r, spent] = await withCpu(server, () =>
        recoveryCodeRound(server, db, organisationId, take(perRound), codes, right, CONCURRENCY),
      );
      answered.push(r);
      (right ? sides.right : sides.wrong).push(spent);
    }
  }
  argon2.push(await verify());
  const oneVerificationMs = round(argon2.reduce((n, r) => n + r.cpuMsPerVerification, 0) / argon2.length, 2);
  const perAttempt = (spent: CpuSpent[], n: number) => round(serverMs(sumCpu(spent)) / n, 2);
  const ms = {
    right: perAttempt(sides.right, ROUNDS * perRound),
    wrong: perAttempt(sides.wrong, ROUNDS * perRound),
    password: perAttempt(sides.password, calibration),
  };
  const inVerifications = (value: number) => round(value / oneVerificationMs, 3);
  const worth = {
    right: inVerifications(ms.right),
    wrong: inVerifications(ms.wrong),
    password: inVerifications(ms.password),
  };
  const failures = answered.reduce((n, r) => n + r.failures, 0);
  const firstFailure = answered.find((r) => r.firstFailure !== null)?.firstFailure ?? null;
  if (firstFailure !== null) say(`    first failure: ${firstFailure}`);
  run.raw.recoveryCodeStep = { serverCpuMsPerAttempt: ms, argon2, oneVerificationMs, inVerifications: worth };
  const calibrationNote = `one raw argon2id verification ${oneVerificationMs} ms CPU (before and after); the password step, which does exactly one, measured the same way: ${ms.password} ms = ${worth.password} (n=${calibration})`;
  say(`    server CPU per attempt: right code ${ms.right} ms, wrong code ${ms.wrong} ms; ${calibrationNote}`);
  for (const right of [true, false]) {
    const side = right ? 'right' : 'wrong';
    run.rows.push(
      judged(
        `argon2id verifications per recovery-code attempt, ${side} code (server CPU ÷ one verification's)`,
        worth[side],
        '',
        { atMost: 1 },
        `${ms[side]} ms server CPU per attempt (n=${ROUNDS * perRound}, ${right ? 'each signed in' : 'each refused, 400'}) ÷ ${calibrationNote}`,
        failures,
      ),
    );
  }
}
