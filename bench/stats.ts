// Percentiles and rates of what the phases record.

export interface Latencies {
  n: number;
  p50: number;
  p99: number;
  max: number;
}

/** Nearest-rank percentiles, in milliseconds rounded to 0.1. */
export function latenciesOf(samples: number[]): Latencies {
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = (p: number) =>
    sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
  const round = (ms: number | undefined) => (ms === undefined ? Number.NaN : Math.round(ms * 10) / 10);
  return { n: sorted.length, p50: round(rank(50)), p99: round(rank(99)), max: round(sorted.at(-1)) };
}

export function round(value: number, digits = 2): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

/** Seconds since a performance.now() time, to one decimal. */
export function secondsSince(start: number): number {
  return round((performance.now() - start) / 1000, 1);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Runs `concurrency` loops of `work` until `until()` says stop; each loop awaits its
 * previous call, so at most `concurrency` calls are in flight.
 */
export async function inParallel(
  concurrency: number,
  until: () => boolean,
  work: (loop: number) => Promise<boolean>,
): Promise<void> {
  await Promise.all(
    Array.from({ length: concurrency }, async (_, loop) => {
      while (!until()) {
        if (!(await work(loop))) return;
      }
    }),
  );
}
