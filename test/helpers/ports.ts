// Ports for the servers the tests start (Twofold processes, the e2e server, a private
// PostgreSQL, nginx). "Listen on port 0, read the port, close, hand it over" leaves a gap
// in which the kernel may give the same port to anyone else: to another test's listener,
// or as the local port of any outgoing connection (a PostgreSQL client, a fetch). So the
// ports come from below the kernel's ephemeral range, which it never hands out by itself,
// and each is claimed with a lock file that every test process on the machine respects.
// A port stays claimed until the process that claimed it exits; a dead claimer's ports
// are taken back.
import { randomInt } from 'node:crypto';
import { mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const LOCKS = join(tmpdir(), 'twofold-test-ports');
const RANGE_SIZE = 8_000;
const held = new Set<string>();

/** The lowest port the kernel picks for listen(0) and outgoing connections (32768 on Linux by default). */
function ephemeralLow(): number {
  try {
    const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/);
    const value = Number(low);
    if (Number.isInteger(value) && value > 2_048) return value;
  } catch {
    // Not Linux: assume the IANA dynamic range.
  }
  return 49_152;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Writes the lock, or takes it back from a process that is gone; false when a live process holds it. */
function lock(path: string): boolean {
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      writeFileSync(path, String(process.pid), { flag: 'wx' });
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    let owner: number;
    try {
      owner = Number(readFileSync(path, 'utf8'));
    } catch {
      continue; // Released meanwhile: try again.
    }
    if (Number.isInteger(owner) && owner > 0 && isAlive(owner)) return false;
    try {
      unlinkSync(path);
    } catch {
      // Another process took it back first; the next write decides.
    }
  }
  return false;
}

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)));
  });
}

process.once('exit', () => {
  for (const path of held) {
    try {
      unlinkSync(path);
    } catch {
      // Already gone.
    }
  }
});

/** A port on 127.0.0.1 that this test process alone may listen on, from now until it exits. */
export async function reservePort(): Promise<number> {
  mkdirSync(LOCKS, { recursive: true });
  const high = ephemeralLow();
  const low = Math.max(1_025, high - RANGE_SIZE);
  const start = randomInt(low, high);
  for (let i = 0; i < high - low; i += 1) {
    const port = low + ((start - low + i) % (high - low));
    const path = join(LOCKS, String(port));
    if (!lock(path)) continue;
    held.add(path);
    // Something outside the tests (a service of the machine) may listen there.
    if (await bindable(port)) return port;
  }
  throw new Error(`no free port between ${low} and ${high}`);
}
