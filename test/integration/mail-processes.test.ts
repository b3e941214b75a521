// Email from real `twofold serve` processes: the start-up line says where email goes (and
// never an SMTP password); a process killed with SIGKILL while it sends loses nothing, and
// the instance started after it sends the message with the same Message-ID.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openDatabase } from '../../src/store/db.js';
import { makeOrganisation, makeUser, TEST_KEY, testInstance } from '../helpers/app.js';
import { Browser, textOf } from '../helpers/browser.js';
import { startServer } from '../helpers/processes.js';
import { startSmtpServer } from '../helpers/smtp.js';

/** A data directory whose SQLite database holds a super admin, set up with the test key. */
async function dataDirWithAdmin(t: Parameters<typeof testInstance>[0]) {
  const dir = mkdtempSync(join(tmpdir(), 'twofold-mail-'));
  const instance = await testInstance(t, { sqlitePath: join(dir, 'twofold.sqlite') });
  const org = await makeOrganisation({ db: instance.db, clock: instance.clock }, 'Process Org');
  const admin = await makeUser({ db: instance.db, clock: instance.clock }, org, {
    role: 'super_admin',
    email: 'boss@example.com',
  });
  await instance.close();
  return { dir, admin };
}

async function inviteOver(url: string, email: string): Promise<string> {
  const browser = new Browser(url);
  const signIn = await browser.signIn('boss@example.com', 'correct horse battery');
  assert.equal(signIn.location, '/account', textOf(signIn.body));
  await browser.get('/admin/users/new');
  const page = await browser.post('/admin/users', { name: 'New Person', email, role: 'user' });
  assert.equal(page.status, 201, textOf(page.body));
  const token = /\/set-password\/([A-Za-z0-9_-]+)/.exec(page.body)?.[1];
  assert.ok(token);
  return token;
}

const env = (dir: string, more: Record<string, string> = {}) => ({
  TWOFOLD_DATA_DIR: dir,
  TWOFOLD_SECRET_KEY: TEST_KEY.toString('hex'),
  TWOFOLD_LOG_LEVEL: 'info',
  ...more,
});

test('without SMTP, start-up says in one line that messages are written to the outbox, and writes them there', async (t) => {
  const { dir } = await dataDirWithAdmin(t);
  const server = await startServer(env(dir));
  t.after(() => server.stop());
  const lines = server
    .output()
    .split('\n')
    .filter((line) => line.includes('Email:'));
  assert.equal(lines.length, 1, server.output());
  assert.match(
    lines[0] ?? '',
    /no SMTP server set \(TWOFOLD_SMTP_URL\); messages are written as \.eml files to .*outbox/,
  );
  const token = await inviteOver(server.url, 'eml@example.com');
  const outbox = join(dir, 'outbox');
  const emlFiles = () => (existsSync(outbox) ? readdirSync(outbox).filter((name) => name.endsWith('.eml')) : []);
  for (let i = 0; i < 100 && emlFiles().length === 0; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.equal(
    readdirSync(outbox).filter((name) => name.endsWith('.eml')).length,
    1,
    'sent at once, woken by the commit',
  );
  assert.ok(!server.output().includes(token), 'the log holds no link');
});

test('an SMTP password is never printed', async (t) => {
  const { dir } = await dataDirWithAdmin(t);
  const smtp = await startSmtpServer(t);
  const server = await startServer(
    env(dir, { TWOFOLD_SMTP_URL: `smtp://mailer:s3cret-Passw0rd@127.0.0.1:${smtp.port}` }),
  );
  t.after(() => server.stop());
  assert.match(server.output(), new RegExp(`Email: sent through smtp://127\\.0\\.0\\.1:${smtp.port}`));
  const token = await inviteOver(server.url, 'smtp@example.com');
  const [received] = await smtp.waitFor(1);
  assert.ok(received?.parsed.text?.includes(token));
  assert.ok(!server.output().includes('s3cret-Passw0rd'));
  assert.ok(!server.output().includes(token));
});

test('SIGKILL while sending loses nothing: the next instance sends the message, with the same Message-ID', async (t) => {
  const { dir } = await dataDirWithAdmin(t);
  const smtp = await startSmtpServer(t);
  smtp.behave({ kind: 'stall' });
  const settings = env(dir, { TWOFOLD_SMTP_URL: smtp.url });
  const first = await startServer(settings);
  t.after(() => first.stop());
  const token = await inviteOver(first.url, 'killed@example.com');
  await smtp.stalled();
  first.child.kill('SIGKILL');
  assert.equal((await first.stop()).signal, 'SIGKILL');
  const [stalled] = smtp.stalledMessages;
  assert.ok(stalled?.parsed.messageId, 'the first instance had handed the message over');

  // The row is still claimed by the dead instance, until its lease ends: here, two minutes
  // pass at once.
  const db = openDatabase({ kind: 'sqlite', path: join(dir, 'twofold.sqlite') });
  t.after(() => db.destroy());
  const [row] = await db.selectFrom('mail_outbox').selectAll().execute();
  assert.equal(row?.state, 'sending');
  assert.ok(row.sealed_body !== null, 'nothing erased before it is sent');
  const leaseMs = new Date(row.lease_until ?? 0).getTime() - Date.now();
  assert.ok(leaseMs > 60_000 && leaseMs <= 120_000, `a lease of ${leaseMs} ms`);
  await db
    .updateTable('mail_outbox')
    .set({ lease_until: new Date(Date.now() - 1000).toISOString() })
    .execute();

  smtp.behave({ kind: 'accept' });
  const second = await startServer(settings);
  t.after(() => second.stop());
  const [received] = await smtp.waitFor(1);
  assert.ok(received?.parsed.text?.includes(token), 'the same message');
  assert.equal(received?.parsed.messageId, stalled.parsed.messageId, 'with the same Message-ID');
  for (let i = 0; i < 100; i++) {
    const [now] = await db.selectFrom('mail_outbox').select(['state', 'sealed_body']).execute();
    if (now?.state === 'sent') {
      assert.equal(now.sealed_body, null);
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.equal(smtp.received.length, 1);
});
