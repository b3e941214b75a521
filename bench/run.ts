// `npm run bench`: Twofold's performance targets, measured side by side in one run on this
// machine against a real `twofold serve` process, printed as a table and written to
// bench/results/<timestamp>.json. `npm run bench -- --profile` restarts the server for each
// phase under `--cpu-prof` and summarises where its main thread spent its time.
//
// Each ratio alternates its two sides in short rounds (A B A B ... A), so that a burst of
// other work on a shared machine weighs on both sides alike. See docs/benchmarks.md.
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openInstance } from '../src/instance.js';
import { cleanUp, cleanUpOnSignals, onCleanup, removeDirOnCleanup } from './cleanup.js';
import { measureCodeStep } from './figures/code-step.js';
import { measureLogins } from './figures/logins.js';
import { measureOidc } from './figures/oidc.js';
import { measurePasskeyLogins, measureRecoveryCodeStep } from './figures/second-factors.js';
import { measureReminderRun } from './figures/reminders.js';
import { measureStatements } from './figures/statements.js';
import { measurePostgres, measureUsersPage, seedBigOrganisation } from './figures/users-page.js';
import { describeMachine } from './machine.js';
import { REPO_ROOT } from './processes.js';
import { describeSummary, profilesIn, summariseProfile, type ProfileSummary } from './profile-summary.js';
import { judged, machineLines, markdownTable, writeResults } from './report.js';
import {
  benchPasswordHash,
  createOrganisation,
  registerBenchApplication,
  registerBenchSite,
  seedUsers,
  signedInSession,
} from './seed.js';
import { seedRecoveryCodes, seedSecurityKeys } from './phases/second-factors.js';
import { phaseServers } from './servers.js';
import {
  benchConfig,
  BENCH_SITE_HOST,
  CODE_STEP_USERS,
  LOGIN_USERS,
  OIDC_USERS,
  PASSKEY_FIGURE_USERS,
  RECOVERY_CODE_STEP,
  ROUNDS,
  SECRET_KEY,
  say,
  serverOptionsOf,
  whatIfOf,
  type Run,
} from './settings.js';
import { round, secondsSince } from './stats.js';

const RESULTS_DIR = join(REPO_ROOT, 'bench', 'results');

function commandLine(): string {
  const extra = process.argv.slice(2).join(' ');
  if (process.env.npm_lifecycle_event === 'bench') return `npm run bench${extra === '' ? '' : ` -- ${extra}`}`;
  return ['node', ...process.execArgv, ...process.argv.slice(1)].join(' ');
}

async function main(): Promise<void> {
  cleanUpOnSignals();
  const startedAt = new Date();
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
  const machine = describeMachine();
  const command = commandLine();
  for (const line of machineLines(machine, command, startedAt)) say(line);
  const dir = mkdtempSync(join(tmpdir(), 'twofold-bench-'));
  removeDirOnCleanup(dir);
  const profileRoot = process.argv.includes('--profile') ? join(RESULTS_DIR, `${stamp}-profiles`) : null;
  if (profileRoot !== null) mkdirSync(profileRoot, { recursive: true });
  const whatIf = whatIfOf(process.argv.slice(2));
  if (whatIf.serverThreadpool !== null || whatIf.reniceWorkerThreads) {
    say(`What-if run, the server is not as deployed: ${JSON.stringify(whatIf)}`);
  }
  const run: Run = {
    whatIf,
    dir,
    passwordHash: await benchPasswordHash(),
    now: new Date(),
    profileRoot,
    rows: [],
    raw: {},
  };

  await measureStatements(run);

  say('\nSeeding the SQLite database');
  const dataDir = join(dir, 'data');
  const instance = await openInstance(benchConfig(dataDir));
  onCleanup('close the bench connection', instance.close);
  const { db } = instance.deps;
  const started = performance.now();
  const loginOrganisation = await createOrganisation(db, 'Bench logins', run.now);
  const withDevices = await seedUsers(
    db,
    SECRET_KEY,
    run.passwordHash,
    {
      organisationId: loginOrganisation,
      count: LOGIN_USERS + CODE_STEP_USERS + OIDC_USERS,
      prefix: 'login',
      withDevice: () => true,
    },
    run.now,
  );
  // 11 and 12: people with an app, people with only a security key, people with an app and recovery codes.
  const secondFactors = await createOrganisation(db, 'Bench second factors', run.now);
  const seed = (prefix: string, count: number, withDevice: boolean) =>
    seedUsers(
      db,
      SECRET_KEY,
      run.passwordHash,
      { organisationId: secondFactors, count, prefix, withDevice: () => withDevice },
      run.now,
    );
  const codeSignIns = await seed('code', PASSKEY_FIGURE_USERS, true);
  const keySignIns = await seed('key', PASSKEY_FIGURE_USERS, false);
  const keys = await seedSecurityKeys(db, SECRET_KEY, secondFactors, keySignIns, run.now);
  const recoveryUsers = await seed(
    'recovery',
    RECOVERY_CODE_STEP.calibration + 2 * ROUNDS * RECOVERY_CODE_STEP.perRound,
    true,
  );
  const recoveryCodes = await seedRecoveryCodes(db, secondFactors, recoveryUsers, run.now);
  const application = await registerBenchApplication(instance.deps, loginOrganisation);
  await registerBenchSite(instance.deps, loginOrganisation, BENCH_SITE_HOST);
  const big = await seedBigOrganisation(db, run);
  say(
    `    ${withDevices.length} users with a device, and ${big.users.length + 1} in another organisation, in ${secondsSince(started)} s`,
  );

  const servers = phaseServers(
    { dataDir, secretKeyHex: SECRET_KEY.toString('hex'), ...serverOptionsOf(whatIf) },
    profileRoot,
  );
  const rss: { after: string; rssMib: number }[] = [];
  const loginServer = await servers.forPhase('logins');
  rss.push({ after: 'start', rssMib: round(loginServer.rssMib(), 1) });
  const logins = await measureLogins(run, loginServer, withDevices.slice(0, LOGIN_USERS));
  rss.push({ after: 'logins', rssMib: round(loginServer.rssMib(), 1) });
  const oidcServer = await servers.forPhase('oidc');
  const oidcUsers = withDevices.slice(LOGIN_USERS + CODE_STEP_USERS);
  // The site's visitor: a person of the code step's share, whose sessions that phase does not end.
  const visitor = withDevices[LOGIN_USERS];
  if (visitor === undefined) throw new Error('no user for the forward-auth checks');
  const visit = await signedInSession(db, loginOrganisation, visitor.id);
  await measureOidc(run, oidcServer, application, oidcUsers, logins, visit);
  rss.push({ after: 'OpenID Connect sign-ins', rssMib: round(oidcServer.rssMib(), 1) });
  const codeServer = await servers.forPhase('code-step');
  const codeStepUsers = withDevices.slice(LOGIN_USERS, LOGIN_USERS + CODE_STEP_USERS);
  await measureCodeStep(run, codeServer, db, loginOrganisation, codeStepUsers);
  rss.push({ after: 'code step', rssMib: round(codeServer.rssMib(), 1) });
  const secondFactorServer = await servers.forPhase('second-factors');
  await measurePasskeyLogins(run, secondFactorServer, codeSignIns, keySignIns, keys);
  await measureRecoveryCodeStep(run, secondFactorServer, db, secondFactors, recoveryUsers, recoveryCodes);
  rss.push({ after: 'second factors', rssMib: round(secondFactorServer.rssMib(), 1) });
  say('\n[5] Users page of 100,000 users, SQLite');
  const pagesServer = await servers.forPhase('users-page');
  await measureUsersPage(run, 'SQLite', pagesServer, big);
  rss.push({ after: 'users page', rssMib: round(pagesServer.rssMib(), 1) });
  run.raw.rssTimeline = rss;

  const peaks = await servers.finish();
  run.raw.peakRss = peaks;
  run.rows.push(
    judged(
      'Peak RSS of the server (VmHWM)',
      Math.max(...peaks.map((p) => p.peakRssMib)),
      ' MiB',
      { below: 200 },
      `${peaks.map((p) => `${p.peakRssMib} MiB over ${p.phases.join(', ')}`).join('; ')}; resident after ${rss.map((r) => `${r.after} ${r.rssMib}`).join(', ')} MiB`,
    ),
  );

  // After the shared server has stopped: a server runs the reminder run when it starts.
  await measureReminderRun(run, db, dataDir);

  await measurePostgres(run);

  const profiles: ProfileSummary[] = [];
  if (profileRoot !== null) {
    say('\nCPU profiles of the server processes (main thread, self time)');
    // CPU.<date>.<time>.<pid>.<thread>.<n>.cpuprofile: thread 0 is the main thread; the others are tsx's loader.
    for (const file of profilesIn(profileRoot).filter((name) => /\.\d+\.0\.\d+\.cpuprofile$/.test(name))) {
      const summary = summariseProfile(file);
      profiles.push(summary);
      say(describeSummary(summary));
    }
  }

  say('');
  for (const line of machineLines(machine, command, startedAt)) say(line);
  say('');
  say(markdownTable(run.rows));
  const file = writeResults(RESULTS_DIR, stamp, {
    date: startedAt.toISOString(),
    command,
    whatIf,
    machine,
    rows: run.rows,
    raw: run.raw,
    profiles,
  });
  say(`\nWritten to ${file}`);
}

try {
  await main();
} catch (error) {
  process.stderr.write(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
} finally {
  await cleanUp();
}
