// 4: the code step against a bare SELECT + UPDATE route, alternating.
import { join } from 'node:path';
import type { Db } from '../../src/store/db.js';
import { withCpu, sumCpu, type CpuSpent } from '../cpu.js';
import { baselineLoad, codeStepLoad, combineThroughputRounds, type ThroughputRound } from '../phases/code-step.js';
import { startBaseline, type ServerProcess } from '../processes.js';
import { judged } from '../report.js';
import type { BenchUser } from '../seed.js';
import { CODE_STEP, CONCURRENCY, ROUNDS, say, type Run } from '../settings.js';
import { round } from '../stats.js';

export async function measureCodeStep(
  run: Run,
  server: ServerProcess,
  db: Db,
  organisationId: string,
  users: BenchUser[],
): Promise<void> {
  say(`\n[4] Code step vs a bare SELECT + UPDATE route, ${CONCURRENCY} concurrent, alternating`);
  const baselineServer = await startBaseline(
    join(run.dir, 'data', 'twofold.sqlite'),
    run.profileRoot === null ? undefined : join(run.profileRoot, 'baseline'),
  );
  const codeStep = await codeStepLoad(server, db, organisationId, users);
  const baseline = baselineLoad(baselineServer, users);
  const codeRounds: ThroughputRound[] = [];
  const baselineRounds: ThroughputRound[] = [];
  const codeCpu: CpuSpent[] = [];
  const baselineCpu: CpuSpent[] = [];
  const options = { concurrency: CONCURRENCY, ...CODE_STEP };
  try {
    for (let i = 0; i < ROUNDS; i += 1) {
      const [c, cc] = await withCpu(server, () => codeStep.round(options));
      const [b, bc] = await withCpu(baselineServer, () => baseline.round(options));
      codeRounds.push(c);
      codeCpu.push(cc);
      baselineRounds.push(b);
      baselineCpu.push(bc);
      say(
        `    round ${i + 1}: code step ${round(c.requests / c.seconds)}/s, bare route ${round(b.requests / b.seconds)}/s`,
      );
    }
  } finally {
    codeStep.close();
    baseline.close();
    await baselineServer.stop();
  }
  const code = combineThroughputRounds(codeRounds);
  const bare = combineThroughputRounds(baselineRounds);
  const mainMsPer = (spent: CpuSpent[], rounds: ThroughputRound[]) =>
    round(sumCpu(spent).serverMainMs / rounds.reduce((n, r) => n + r.allRequests, 0), 2);
  const cpuPerRequest = {
    codeStepMs: mainMsPer(codeCpu, codeRounds),
    bareRouteMs: mainMsPer(baselineCpu, baselineRounds),
  };
  run.raw.codeStep = { codeStep: code, baseline: bare, serverMainThreadCpuPerRequest: cpuPerRequest };
  if (code.firstFailure !== null) say(`    first failure: ${code.firstFailure}`);
  const cpuNote = `server main-thread CPU per request: code step ${cpuPerRequest.codeStepMs} ms, bare route ${cpuPerRequest.bareRouteMs} ms`;
  say(`    ${cpuNote}`);
  run.rows.push(
    judged(
      'Code step req/s ÷ bare SELECT+UPDATE route req/s',
      round(code.perSecond / bare.perSecond),
      '',
      { atLeast: 0.5 },
      `${code.perSecond}/s (p50 ${code.latency.p50} ms, p99 ${code.latency.p99} ms) ÷ ${bare.perSecond}/s (p50 ${bare.latency.p50} ms, p99 ${bare.latency.p99} ms); per round ${code.rounds.join(', ')} ÷ ${bare.rounds.join(', ')}; ${cpuNote}`,
      code.failures + bare.failures,
    ),
  );
}
