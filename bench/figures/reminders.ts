// 13: the reminder run of an organisation of 100,000 people without a device, in a server
// of its own, started after the other phases (it runs reminders at start, and the shared
// server must not): the run's time, the server's peak memory, the code step meanwhile.
import { join } from 'node:path';
import type { Db } from '../../src/store/db.js';
import {
  probeCodeStep,
  remindersMailed,
  remindersRecorded,
  seedProbeLogins,
  seedReminderOrganisation,
} from '../phases/reminders.js';
import { startTwofold } from '../processes.js';
import { judged } from '../report.js';
import { REMINDER_RUN, SECRET_KEY, say, serverOptionsOf, type Run } from '../settings.js';
import { latenciesOf, round, secondsSince, sleep } from '../stats.js';

export async function measureReminderRun(run: Run, db: Db, dataDir: string): Promise<void> {
  const { people } = REMINDER_RUN;
  say(`\n[13] Reminder run, ${people.toLocaleString('en')} people without a device, in a server of its own`);
  const seeding = performance.now();
  const organisation = await seedReminderOrganisation(db, run.passwordHash, people, REMINDER_RUN.daysAhead);
  const probeLogins = await seedProbeLogins(db, run.passwordHash, REMINDER_RUN.probeUsers);
  say(`    seeded in ${secondsSince(seeding)} s`);

  const spawnedAt = Date.now();
  const server = await startTwofold({
    dataDir,
    secretKeyHex: SECRET_KEY.toString('hex'),
    ...serverOptionsOf(run.whatIf),
    cpuProfileDir: run.profileRoot === null ? undefined : join(run.profileRoot, 'reminders'),
  });
  const answeredAt = Date.now();
  const giveUpAt = spawnedAt + REMINDER_RUN.timeoutSeconds * 1000;
  let recorded = { count: 0, runAt: null as Date | null };
  let doneAt: number | null = null;
  let polledAt = 0;
  let maxRssMib = 0;
  const poll = async () => {
    if (Date.now() - polledAt < REMINDER_RUN.pollEveryMs) return;
    polledAt = Date.now();
    maxRssMib = Math.max(maxRssMib, server.rssMib());
    recorded = await remindersRecorded(db, organisation.organisationId);
    if (recorded.count >= people) doneAt = polledAt;
  };
  const over = () => doneAt !== null || Date.now() > giveUpAt;
  try {
    const during = await probeCodeStep(
      server,
      probeLogins.tokens,
      probeLogins.users,
      REMINDER_RUN.probeEveryMs,
      over,
      poll,
    );
    while (!over()) {
      await poll();
      await sleep(REMINDER_RUN.pollEveryMs);
    }
    const peakRssMib = round(server.peakRssMib(), 1);
    const cpu = server.cpuMs();
    const mailedDuring = await remindersMailed(db, organisation.organisationId, new Date(spawnedAt));
    const afterStart = performance.now();
    const used = during.latencies.length + during.failures;
    const after = await probeCodeStep(
      server,
      probeLogins.tokens.slice(used),
      probeLogins.users.slice(used),
      REMINDER_RUN.probeEveryMs,
      () => performance.now() - afterStart > REMINDER_RUN.afterSeconds * 1000,
      async () => {},
    );
    const mailedAfter = await remindersMailed(db, organisation.organisationId, new Date(spawnedAt));

    const runAt = recorded.runAt?.getTime() ?? spawnedAt;
    const seconds = doneAt === null ? Number.POSITIVE_INFINITY : round((doneAt - runAt) / 1000, 1);
    const latency = latenciesOf(during.latencies);
    const control = latenciesOf(after.latencies);
    const raw = {
      people,
      recorded: recorded.count,
      spawnedAt: new Date(spawnedAt).toISOString(),
      answeredHealthzAfterMs: answeredAt - spawnedAt,
      runStartedAt: recorded.runAt?.toISOString() ?? null,
      runStartedAfterSpawnMs: runAt - spawnedAt,
      doneAt: doneAt === null ? null : new Date(doneAt).toISOString(),
      pollEveryMs: REMINDER_RUN.pollEveryMs,
      seconds,
      peakRssMib,
      maxSampledRssMib: round(maxRssMib, 1),
      serverCpuMsAtEnd: { mainThread: round(cpu.mainThread), otherThreads: round(cpu.otherThreads) },
      mailAtEnd: mailedDuring,
      mailAfterProbe: mailedAfter,
      codeStepDuring: {
        ...latency,
        failures: during.failures,
        firstFailure: during.firstFailure,
        ranOut: during.ranOut,
      },
      codeStepAfter: { ...control, failures: after.failures },
    };
    run.raw.reminderRun = raw;
    const finished =
      doneAt === null
        ? `gave up after ${REMINDER_RUN.timeoutSeconds} s with ${recorded.count} of ${people} recorded`
        : `all ${people} recorded ${seconds} s after the run took up the organisation (the sent_at it records), ${round((doneAt - spawnedAt) / 1000, 1)} s after the process was spawned`;
    const sending =
      mailedDuring.sentOfAnyKind > 0
        ? `sending overlapped: the sender (files mode) had sent ${mailedDuring.sentOfAnyKind} messages since the server started, ${mailedDuring.sent} of them of the ${mailedDuring.queued} reminders queued, when the run ended`
        : `no message had been sent when the run ended (${mailedDuring.queued} reminders queued)`;
    say(`    ${finished}; ${sending}`);
    say(
      `    peak RSS ${peakRssMib} MiB; server CPU main thread ${raw.serverCpuMsAtEnd.mainThread} ms, others ${raw.serverCpuMsAtEnd.otherThreads} ms`,
    );
    say(
      `    code step during the run: p50 ${latency.p50} ms, p99 ${latency.p99} ms (n=${latency.n}); after it: p50 ${control.p50} ms, p99 ${control.p99} ms (n=${control.n}; by then ${mailedAfter.sentOfAnyKind} messages sent, ${mailedAfter.sent} of them reminders)`,
    );
    run.rows.push(
      judged(
        'Reminder run, 100k people without a device: time',
        seconds,
        ' s',
        { below: 60 },
        `${finished} (polled every ${REMINDER_RUN.pollEveryMs} ms); ${sending}`,
      ),
      judged(
        'Reminder run: peak RSS of its server (VmHWM)',
        peakRssMib,
        ' MiB',
        { below: 200 },
        `a server of its own, from its start to the run's end; most resident seen while polling ${round(maxRssMib, 1)} MiB; server CPU main thread ${raw.serverCpuMsAtEnd.mainThread} ms, others ${raw.serverCpuMsAtEnd.otherThreads} ms`,
      ),
      judged(
        'Reminder run: code step (POST /login/code) p99 during it',
        latency.p99,
        ' ms',
        { below: 50 },
        `one at a time every ${REMINDER_RUN.probeEveryMs} ms: p50 ${latency.p50} ms, max ${latency.max} ms, n=${latency.n}${during.ranOut ? ' (ran out of pending logins)' : ''}; after the run, ${REMINDER_RUN.afterSeconds} s, sender still sending: p50 ${control.p50} ms, p99 ${control.p99} ms, n=${control.n}`,
        during.failures + after.failures,
      ),
    );
  } finally {
    await server.stop();
  }
}
