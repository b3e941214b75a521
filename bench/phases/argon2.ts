// The ceiling for complete logins: raw argon2id verifications per second with the app's
// parameters, 16 at a time through @node-rs/argon2 on libuv's thread pool, in this process
// while the server idles. Logins can be no faster: each one verifies one password.
import { verify } from '@node-rs/argon2';
import { BENCH_PASSWORD } from '../seed.js';
import { inParallel, round } from '../stats.js';

export interface Argon2Rate {
  perSecond: number;
  verified: number;
  seconds: number;
  /** This process's CPU time (all threads) per verification, warm-up included: what one costs. */
  cpuMsPerVerification: number;
}

/** `warmUpMs` of verifications first, not counted; then `seconds` counted. */
export async function rawVerificationsPerSecond(
  storedHash: string,
  concurrency: number,
  seconds: number,
  warmUpMs = 1000,
): Promise<Argon2Rate> {
  const start = performance.now();
  const countFrom = start + warmUpMs;
  const stopAt = countFrom + seconds * 1000;
  let verified = 0;
  let all = 0;
  const cpu = process.cpuUsage();
  await inParallel(
    concurrency,
    () => performance.now() >= stopAt,
    async () => {
      if (!(await verify(storedHash, BENCH_PASSWORD))) throw new Error('the bench password did not verify');
      const done = performance.now();
      all += 1;
      if (done >= countFrom && done < stopAt) verified += 1;
      return true;
    },
  );
  const used = process.cpuUsage(cpu);
  return {
    perSecond: round(verified / seconds),
    verified,
    seconds,
    cpuMsPerVerification: round((used.user + used.system) / 1000 / all, 1),
  };
}
