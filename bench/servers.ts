// The Twofold server the phases run against: one process for the whole run, so that its
// peak memory covers everything; with --profile, a new one per phase, each under
// --cpu-prof, so that each phase gets a profile of its own.
import { join } from 'node:path';
import { startTwofold, type ServerProcess, type TwofoldOptions } from './processes.js';
import { round } from './stats.js';

export interface PeakRss {
  phases: string[];
  peakRssMib: number;
}

export function phaseServers(base: Omit<TwofoldOptions, 'cpuProfileDir'>, profileRoot: string | null) {
  let current: ServerProcess | null = null;
  const peaks: PeakRss[] = [];
  const stopCurrent = async () => {
    if (current === null) return;
    const last = peaks.at(-1);
    if (last !== undefined) last.peakRssMib = round(current.peakRssMib(), 1);
    await current.stop();
    current = null;
  };
  return {
    async forPhase(phase: string): Promise<ServerProcess> {
      if (current !== null && profileRoot === null) {
        peaks.at(-1)?.phases.push(phase);
        return current;
      }
      await stopCurrent();
      const cpuProfileDir = profileRoot === null ? undefined : join(profileRoot, phase);
      current = await startTwofold({ ...base, cpuProfileDir });
      peaks.push({ phases: [phase], peakRssMib: Number.NaN });
      return current;
    },
    /** Stops the last server; returns each server's peak RSS (VmHWM), read just before it stopped. */
    async finish(): Promise<PeakRss[]> {
      await stopCurrent();
      return peaks;
    },
  };
}
