// The servers under test run as real processes: `node bin/twofold.js serve`, exactly as
// deployed, the bare baseline server, and oidc-provider alone. Each listens on 127.0.0.1 on
// a free port.
import { execFileSync, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { setPriority } from 'node:os';
import { fileURLToPath } from 'node:url';
import { onCleanup, trackChild } from './cleanup.js';
import type { BenchApplication } from './phases/oidc.js';
import { sleep } from './stats.js';

export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface ServerProcess {
  url: string;
  pid: number;
  /** Peak resident memory so far (VmHWM), in MiB. */
  peakRssMib(): number;
  /** Resident memory now (VmRSS), in MiB. */
  rssMib(): number;
  /** CPU time used so far: the main thread's (the event loop) and all other threads' (libuv's pool, GC). */
  cpuMs(): ThreadCpu;
  /** SIGTERM, so that a --cpu-prof profile is written; SIGKILL if it does not exit in time. */
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

export interface ThreadCpu {
  mainThread: number;
  otherThreads: number;
}

let ticksPerSecond: number | null = null;

/** From /proc/<pid>/task/<tid>/stat: utime and stime, in clock ticks. Linux only, like VmHWM. */
export function threadCpuOf(pid: number): ThreadCpu {
  ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  const msPerTick = 1000 / ticksPerSecond;
  const cpu = { mainThread: 0, otherThreads: 0 };
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    } catch {
      continue; // the thread ended meanwhile
    }
    // The command name, in parentheses, may hold spaces: the fields after it are fixed.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ms = (Number(fields[11]) + Number(fields[12])) * msPerTick;
    if (tid === String(pid)) cpu.mainThread += ms;
    else cpu.otherThreads += ms;
  }
  return cpu;
}

function memoryMibOf(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1];
  if (kib === undefined) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(kib) / 1024;
}

/** The environment of a child: ours without any Twofold or database setting, plus `own`. */
function childEnv(own: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!/^(TWOFOLD_|DATABASE_URL$|PORT$|HOST$|NODE_OPTIONS$)/.test(name)) env[name] = value;
  }
  return { ...env, ...own };
}

async function startProcess(
  name: string,
  args: string[],
  env: Record<string, string>,
  port: number,
): Promise<ServerProcess> {
  const child = spawn(process.execPath, args, {
    cwd: REPO_ROOT,
    env: childEnv({ ...env, HOST: '127.0.0.1', PORT: String(port) }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  trackChild(child);
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-4000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${name} did not start`);

  let stopping: Promise<void> | null = null;
  const stop = () =>
    (stopping ??= (async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timedOut = await Promise.race([exited.then(() => false), sleep(20_000).then(() => true)]);
      if (timedOut) {
        child.kill('SIGKILL');
        await exited;
      }
    })());
  const unregister = onCleanup(`stop ${name} (pid ${pid})`, stop);

  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${name} exited before answering: ${output.trim() || '(no output)'}`);
    }
    try {
      const answer = await fetch(`${url}/healthz`);
      if (answer.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${name} did not answer within 60 s: ${output.trim()}`);
    await sleep(100);
  }
  return {
    url,
    pid,
    peakRssMib: () => memoryMibOf(pid, 'VmHWM'),
    rssMib: () => memoryMibOf(pid, 'VmRSS'),
    cpuMs: () => threadCpuOf(pid),
    stop: async () => {
      await unregister();
    },
  };
}

export interface TwofoldOptions {
  dataDir: string;
  secretKeyHex: string;
  databaseUrl?: string;
  /** Write a V8 CPU profile of the server's main thread into this directory when it stops. */
  cpuProfileDir?: string;
  /** More environment, for what-if runs (UV_THREADPOOL_SIZE, ...). */
  env?: Record<string, string>;
  /**
   * What-if: every thread but the main one (libuv's pool, where argon2id runs) at nice 10, so
   * that the event loop wins the CPU whenever it has work. Re-applied as threads appear.
   */
  reniceWorkerThreads?: boolean;
}

/** Linux lets a thread's nice value be set through its thread id. */
function reniceWorkerThreadsOf(pid: number, done: Set<string>): void {
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return; // the process has ended
  }
  for (const tid of tids) {
    if (tid === String(pid) || done.has(tid)) continue;
    try {
      setPriority(Number(tid), 10);
      done.add(tid);
    } catch {
      // the thread ended meanwhile
    }
  }
}

export async function startTwofold(options: TwofoldOptions): Promise<ServerProcess> {
  const profile = options.cpuProfileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfileDir}`];
  const env: Record<string, string> = {
    ...options.env,
    TWOFOLD_DATA_DIR: options.dataDir,
    TWOFOLD_SECRET_KEY: options.secretKeyHex,
    TWOFOLD_LOG_LEVEL: 'warn',
  };
  if (options.databaseUrl !== undefined) env.DATABASE_URL = options.databaseUrl;
  const server = await startProcess('twofold serve', [...profile, 'bin/twofold.js', 'serve'], env, await freePort());
  if (options.reniceWorkerThreads !== true) return server;
  const done = new Set<string>();
  const timer = setInterval(() => reniceWorkerThreadsOf(server.pid, done), 200);
  reniceWorkerThreadsOf(server.pid, done);
  return {
    ...server,
    stop: async () => {
      clearInterval(timer);
      await server.stop();
    },
  };
}

/** bench/baseline-server.ts on the SQLite file at `databasePath`. */
export async function startBaseline(databasePath: string, cpuProfileDir?: string): Promise<ServerProcess> {
  const profile = cpuProfileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${cpuProfileDir}`];
  return startProcess(
    'baseline server',
    [...profile, '--import', 'tsx', 'bench/baseline-server.ts'],
    { BENCH_DATABASE: databasePath },
    await freePort(),
  );
}

/** bench/oidc-floor-server.ts, oidc-provider alone, with `application` as its one client. */
export async function startOidcFloor(application: BenchApplication, cpuProfileDir?: string): Promise<ServerProcess> {
  const profile = cpuProfileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${cpuProfileDir}`];
  return startProcess(
    'oidc-provider floor server',
    [...profile, '--import', 'tsx', 'bench/oidc-floor-server.ts'],
    {
      BENCH_CLIENT_ID: application.clientId,
      BENCH_CLIENT_SECRET: application.clientSecret,
      BENCH_REDIRECT_URI: application.redirectUri,
    },
    await freePort(),
  );
}
