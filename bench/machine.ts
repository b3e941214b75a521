// What the figures were measured on: they mean little without it.
import { execFileSync } from 'node:child_process';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';

export interface Machine {
  cpu: string;
  cores: number;
  memoryGib: number;
  node: string;
  os: string;
  threadPool: string;
  /** The load average when the bench started: the machine may be shared. */
  loadAverage: number[];
}

export function describeMachine(): Machine {
  let os = `${process.platform} ${process.arch}`;
  try {
    os = execFileSync('uname', ['-srm'], { encoding: 'utf8' }).trim();
  } catch {
    // uname is missing: the platform will do
  }
  return {
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    cores: availableParallelism(),
    memoryGib: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    os,
    threadPool: `UV_THREADPOOL_SIZE=${process.env.UV_THREADPOOL_SIZE ?? '4 (default)'}`,
    loadAverage: loadavg().map((n) => Math.round(n * 100) / 100),
  };
}
