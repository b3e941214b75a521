// On Linux the server runs its event loop at normal priority and every other thread (the
// thread pool that hashes passwords among them) at nice 10, so that a burst of sign-ins
// cannot keep requests waiting behind the hashes.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { newSecretKeyText } from '../../src/domain/secret-box.js';
import { startServer } from '../helpers/processes.js';

const skip = process.platform === 'linux' ? false : 'SKIPPED: thread priorities: they are only set on Linux';
if (skip !== false) console.log(skip);

/** The nice value of each thread of a process, by thread id, from /proc (field 19 of stat). */
function nicenessOfThreads(pid: number): Map<number, number> {
  const niceness = new Map<number, number>();
  for (const thread of readdirSync(`/proc/${pid}/task`)) {
    const stat = readFileSync(`/proc/${pid}/task/${thread}/stat`, 'utf8');
    // The command name, in parentheses, may hold spaces: count the fields after it.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    niceness.set(Number(thread), Number(fields[16]));
  }
  return niceness;
}

test('the event loop keeps its priority; the thread pool and the other threads yield to it', { skip }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'twofold-priority-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const server = await startServer({
    DATABASE_URL: join(dir, 'twofold.db'),
    TWOFOLD_SECRET_KEY: newSecretKeyText(),
    TWOFOLD_LOG_LEVEL: 'warn',
  });
  t.after(() => server.stop());
  const pid = server.child.pid;
  assert.ok(pid !== undefined);
  const niceness = nicenessOfThreads(pid);
  const others = [...niceness].filter(([thread]) => thread !== pid);
  assert.equal(niceness.get(pid), 0, 'the event loop runs at normal priority');
  // libuv's pool alone has 4 threads (UV_THREADPOOL_SIZE's default), V8 adds its own.
  assert.ok(others.length >= 4, `only ${others.length} other threads`);
  assert.deepEqual(
    others.filter(([, nice]) => nice !== 10),
    [],
    'every other thread runs at nice 10',
  );
});
