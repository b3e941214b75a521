// What the fault tests break: a PostgreSQL cluster of their own, to stop and start under a
// running Twofold without touching the shared test server, and a small disk (a tmpfs in a
// mount namespace of their own) to fill or to make read-only. Each says, instead of
// failing, why it cannot be had on this machine.
import { spawn, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { reservePort } from './ports.js';

export interface CommandResult {
  code: number | null;
  output: string;
}

/** Runs a command to its end, or kills it after `timeoutMs`. */
export function runCommand(command: string, args: string[], timeoutMs = 60_000): Promise<CommandResult> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.on('error', (error) => resolve({ code: null, output: `${output}${error.message}` }));
    // 'exit', not 'close': pg_ctl leaves the server running, which may hold its pipes.
    child.on('exit', (code) => resolve({ code, output }));
  });
}

/** The newest PostgreSQL server binaries of the Debian layout, or null. */
function postgresBinaries(): string | null {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const versions = readdirSync(root)
    .filter(
      (version) => existsSync(join(root, version, 'bin', 'pg_ctl')) && existsSync(join(root, version, 'bin', 'initdb')),
    )
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? null : join(root, versions[0], 'bin');
}

const isRoot = () => process.getuid?.() === 0;

/**
 * A PostgreSQL cluster in a temporary directory, listening on 127.0.0.1 on a free port,
 * with trust authentication and without fsync. As root (initdb refuses root) its commands
 * run as the `postgres` user.
 */
export class PrivateCluster {
  private constructor(
    private readonly bin: string,
    readonly dir: string,
    readonly port: number,
  ) {}

  /** The URL of its `postgres` database, as its superuser. */
  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  private get data(): string {
    return join(this.dir, 'data');
  }

  /** A started cluster, or why there can be none here. */
  static async create(): Promise<PrivateCluster | { skip: string }> {
    const bin = postgresBinaries();
    if (bin === null) return { skip: 'no PostgreSQL server binaries (initdb, pg_ctl) in /usr/lib/postgresql/*/bin' };
    const dir = mkdtempSync(join(tmpdir(), 'twofold-pg-'));
    if (isRoot()) {
      const ids = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
      const uid = Number(ids.stdout.trim());
      const gid = Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout.trim());
      if (ids.status !== 0 || !Number.isInteger(uid) || !Number.isInteger(gid)) {
        rmSync(dir, { recursive: true, force: true });
        return { skip: 'running as root, and there is no `postgres` user to run initdb as' };
      }
      chownSync(dir, uid, gid);
    }
    const cluster = new PrivateCluster(bin, dir, await reservePort());
    const init = await cluster.run('initdb', ['-D', cluster.data, '-A', 'trust', '-U', 'postgres', '--no-sync']);
    if (init.code !== 0) {
      await cluster.destroy();
      return { skip: `initdb failed: ${init.output.trim().split('\n').slice(-3).join(' ')}` };
    }
    const started = await cluster.start();
    if (started.code !== 0) {
      await cluster.destroy();
      return { skip: `the private PostgreSQL cluster did not start: ${started.output.trim()}` };
    }
    return cluster;
  }

  private run(program: string, args: string[], timeoutMs = 60_000): Promise<CommandResult> {
    const path = join(this.bin, program);
    return isRoot()
      ? runCommand('runuser', ['-u', 'postgres', '--', path, ...args], timeoutMs)
      : runCommand(path, args, timeoutMs);
  }

  /** Starts it and waits until it accepts connections. */
  start(): Promise<CommandResult> {
    const options = `-c listen_addresses=127.0.0.1 -p ${this.port} -k ${this.dir} -c fsync=off`;
    return this.run('pg_ctl', ['-D', this.data, '-l', join(this.dir, 'log'), '-w', '-t', '60', '-o', options, 'start']);
  }

  /** `fast` ends every session and shuts down cleanly; `immediate` is a crash: recovery runs at the next start. */
  stop(mode: 'fast' | 'immediate'): Promise<CommandResult> {
    return this.run('pg_ctl', ['-D', this.data, '-m', mode, '-w', '-t', '60', 'stop']);
  }

  async destroy(): Promise<void> {
    if (existsSync(join(this.data, 'postmaster.pid'))) await this.stop('immediate');
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * A tmpfs of `sizeMiB` mounted at `dir` in a user and mount namespace of its own (no real
 * root needed), held by a sleeping process. Programs run inside it through `enter`; from
 * outside, its files are at `outside(name)`. Closing it ends the holder and the tmpfs.
 */
export class SmallDisk {
  private constructor(
    private readonly holder: ReturnType<typeof spawn>,
    readonly dir: string,
  ) {}

  /** A mounted small disk, or why there can be none here. */
  static async create(sizeMiB: number): Promise<SmallDisk | { skip: string }> {
    for (const tool of ['unshare', 'nsenter', 'mount']) {
      if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return { skip: `no \`${tool}\` command` };
    }
    const dir = mkdtempSync(join(tmpdir(), 'twofold-disk-'));
    // The holder ends by itself after ten minutes should the test never close it.
    const script = `mount -t tmpfs -o size=${sizeMiB}m tmpfs "$1" && echo mounted && exec sleep 600`;
    const holder = spawn('unshare', ['-rm', 'sh', '-c', script, 'sh', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    const outcome = await new Promise<string | null>((resolve) => {
      let output = '';
      holder.stdout?.on('data', (chunk: Buffer) => {
        output += chunk.toString('utf8');
        if (output.includes('mounted')) resolve(null);
      });
      holder.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
      holder.on('error', (error) => resolve(error.message));
      holder.on('exit', () => resolve(output.trim() || 'the namespace holder exited'));
    });
    if (outcome !== null) {
      rmSync(dir, { recursive: true, force: true });
      return { skip: `no user and mount namespace for a small disk (unshare -rm): ${outcome}` };
    }
    return new SmallDisk(holder, dir);
  }

  /** A command prefix that runs a program in the namespace, where the tmpfs is at `dir`. */
  get enter(): string[] {
    return ['nsenter', '-t', String(this.holder.pid), '-U', '-m', '--preserve-credentials', '--'];
  }

  /** The path of a file of the tmpfs, for this process. */
  outside(name: string): string {
    return `/proc/${this.holder.pid}/root${this.dir}/${name}`;
  }

  /** Runs a program in the namespace, to its end. */
  run(program: string, args: string[]): Promise<CommandResult> {
    const [nsenter = 'nsenter', ...options] = this.enter;
    return runCommand(nsenter, [...options, program, ...args]);
  }

  /** Remounts the tmpfs read-only or writable; refused (EBUSY) while a file on it is open for writing. */
  async remount(mode: 'ro' | 'rw'): Promise<void> {
    const result = await this.run('mount', ['-o', `remount,${mode}`, this.dir]);
    if (result.code !== 0) throw new Error(`remount,${mode} of the small disk failed: ${result.output}`);
  }

  close(): void {
    this.holder.kill('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }
}
