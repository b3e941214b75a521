// Email: invitations and administrators' password links arrive through a real SMTP server
// with their parts and a working link; the .eml default writes files and logs nothing a
// message carries; an SMTP server down and back gets everything once; a 5xx fails the
// message, which super admins see and send again; the retry schedule under the frozen
// clock; housekeeping deletes sent messages after a week and failed ones after 30 days,
// never one still to send; and a key rotation re-seals the messages not sent.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config.js';
import { FAILED_MAIL_KEPT_DAYS, SENT_MAIL_KEPT_DAYS } from '../../src/domain/mail.js';
import { isSealedWith, keyringOf } from '../../src/domain/secret-box.js';
import { keepHouse, MAIL_DELETED_PER_STATEMENT } from '../../src/services/housekeeping.js';
import { reencryptSecretsUnderCurrentKey } from '../../src/services/key-rotation.js';
import { mailSenderOf } from '../../src/services/mail-sender.js';
import { deleteMailDoneWith } from '../../src/store/mail-outbox.js';
import { buildWorld, makeOrganisation, makeUser, TEST_KEY, type TestWorld, type WorldOptions } from '../helpers/app.js';
import { Browser, textOf } from '../helpers/browser.js';
import { startSmtpServer, smtpMailSettings, type ReceivedMail } from '../helpers/smtp.js';
import { auditEntriesAbout, flashOn, rowWith, signedIn } from './support.js';

const ORG_NAME = 'Acme & <Sons>';

async function superAdminIn(world: TestWorld) {
  const org = await makeOrganisation(world, `${ORG_NAME} ${Math.random().toString(36).slice(2, 8)}`);
  const admin = await makeUser(world, org, { role: 'super_admin', email: `boss-${org.slice(0, 8)}@example.com` });
  return { org, admin, client: await signedIn(world, admin.email) };
}

async function invite(client: Browser, email: string, name = 'Ada <Lovelace>') {
  await client.get('/admin/users/new');
  const page = await client.post('/admin/users', { name, email, role: 'user' });
  assert.equal(page.status, 201, textOf(page.body));
  return page;
}

function linkIn(mail: ReceivedMail): string {
  const m = /http:\/\/127\.0\.0\.1:3000(\/set-password\/[A-Za-z0-9_-]+)/.exec(mail.parsed.text ?? '');
  assert.ok(m?.[1], `no link in the message: ${mail.parsed.text}`);
  return m[1];
}

function outboxRows(world: TestWorld) {
  return world.db.selectFrom('mail_outbox').selectAll().orderBy('created_at').execute();
}

async function worldWithSmtp(t: Parameters<typeof buildWorld>[0], options: WorldOptions = {}) {
  const smtp = await startSmtpServer(t);
  const world = await buildWorld(t, { ...options, mail: smtpMailSettings(smtp) });
  assert.ok(world.mail);
  return { smtp, world, mail: world.mail };
}

test('an invitation arrives with its recipient, subject, both parts and a link that sets the password', async (t) => {
  const { smtp, world, mail } = await worldWithSmtp(t);
  const { client } = await superAdminIn(world);
  const page = await invite(client, 'ada@example.com');
  assert.match(page.body, /\/set-password\//, 'the admin still sees the link');

  assert.deepEqual(await mail.sendDue(), { sent: 1, retrying: 0, failed: 0 });
  const [received] = await smtp.waitFor(1);
  assert.ok(received);
  assert.deepEqual(received.to, ['ada@example.com']);
  assert.match(received.parsed.subject ?? '', /^Set your password for Acme & <Sons>/);
  assert.match(received.parsed.from?.value[0]?.name ?? '', /^Acme & <Sons>/, 'from the organisation');
  assert.equal(received.parsed.from?.value[0]?.address, 'twofold@example.com');
  assert.match(received.parsed.text ?? '', /You receive this email because an administrator of Acme & <Sons>/);
  const htmlPart = String(received.parsed.html);
  assert.ok(htmlPart.includes('Ada &lt;Lovelace&gt;'), 'the name escaped in HTML');
  assert.ok(!htmlPart.includes('<Lovelace>'));
  const link = linkIn(received);
  assert.ok(htmlPart.includes(`href="http://127.0.0.1:3000${link}"`));
  assert.ok(page.body.includes(link), 'the same link as on the admin’s screen');
  assert.match(received.parsed.messageId ?? '', /^<[0-9a-f-]+@127\.0\.0\.1>$/);

  const visitor = new Browser(world.app);
  await visitor.get(link);
  const set = await visitor.post(link, { password: 'a brand new password', confirmation: 'a brand new password' });
  assert.equal(set.location, '/login');
  const signIn = await new Browser(world.app).signIn('ada@example.com', 'a brand new password');
  assert.equal(signIn.location, '/account');

  const [row] = await outboxRows(world);
  assert.equal(row?.state, 'sent');
  assert.equal(row?.sealed_body, null, 'the sealed parts are erased once sent');
  // The invitation is not sent again; the security notice of the password set with it goes.
  assert.deepEqual(await mail.sendDue(), { sent: 1, retrying: 0, failed: 0 });
  const [, notice] = await smtp.waitFor(2);
  assert.match(notice?.parsed.subject ?? '', /^A password was set for your Acme & <Sons> \w+ account$/);
  assert.deepEqual(await mail.sendDue(), { sent: 0, retrying: 0, failed: 0 }, 'sent once');
});

test('an administrator’s new password link is emailed, and the email says why', async (t) => {
  const { smtp, world, mail } = await worldWithSmtp(t);
  const { org, client } = await superAdminIn(world);
  const person = await makeUser(world, org, { email: 'grace@example.com', name: 'Grace' });
  await client.get(`/admin/users/${person.id}`);
  const page = await client.post(`/admin/users/${person.id}/password-link`, {});
  assert.equal(page.status, 200);
  await mail.sendDue();
  const [received] = await smtp.waitFor(1);
  assert.ok(received);
  assert.deepEqual(received.to, ['grace@example.com']);
  assert.match(received.parsed.subject ?? '', /^A new password link for /);
  assert.match(received.parsed.text ?? '', /asked for a new password link for grace@example\.com/);
  assert.ok(page.body.includes(linkIn(received)));
});

test('without SMTP, messages are .eml files and the log holds nothing a message carries', async (t) => {
  const dir = join(mkdtempSync(join(tmpdir(), 'twofold-outbox-')), 'outbox');
  const lines: string[] = [];
  const world = await buildWorld(t, {
    mail: { from: 'twofold@example.com', transport: { kind: 'files', dir } },
    logger: { level: 'debug', stream: { write: (line) => void lines.push(line) } },
  });
  const { client } = await superAdminIn(world);
  const page = await invite(client, 'eml@example.com');
  const token = /\/set-password\/([A-Za-z0-9_-]+)/.exec(page.body)?.[1];
  assert.ok(token);
  assert.equal((await world.mail?.sendDue())?.sent, 1);
  const files = readdirSync(dir);
  assert.equal(files.length, 1);
  const eml = readFileSync(join(dir, files[0] ?? ''), 'utf8');
  assert.match(eml, /^To: eml@example\.com$/m);
  assert.ok(eml.includes(token), 'the file holds the message');
  assert.ok(lines.length > 0, 'the app logged');
  assert.ok(!lines.join('').includes(token), 'the log does not hold the link');
});

test('an SMTP server down for a while gets every message once it is back, each once', async (t) => {
  const { smtp, world, mail } = await worldWithSmtp(t);
  const { client } = await superAdminIn(world);
  await smtp.stop();
  await invite(client, 'one@example.com');
  await invite(client, 'two@example.com');
  assert.deepEqual(await mail.sendDue(), { sent: 0, retrying: 2, failed: 0 });
  assert.deepEqual(await mail.sendDue(), { sent: 0, retrying: 0, failed: 0 }, 'not tried before the delay');
  world.clock.advanceMinutes(1);
  assert.deepEqual(await mail.sendDue(), { sent: 0, retrying: 2, failed: 0 });
  await smtp.start();
  world.clock.advanceMinutes(1);
  assert.deepEqual(await mail.sendDue(), { sent: 0, retrying: 0, failed: 0 }, 'the second delay is 2 minutes');
  world.clock.advanceMinutes(1);
  assert.deepEqual(await mail.sendDue(), { sent: 2, retrying: 0, failed: 0 });
  world.clock.advanceMinutes(60);
  await mail.sendDue();
  const received = await smtp.waitFor(2);
  assert.deepEqual(received.map((r) => r.to[0]).sort(), ['one@example.com', 'two@example.com']);
  assert.equal(smtp.received.length, 2, 'nothing twice');
  assert.deepEqual(
    (await outboxRows(world)).map((row) => [row.state, row.attempts]),
    [
      ['sent', 3],
      ['sent', 3],
    ],
  );
});

test('retries follow 1, 2, 4 … minutes up to 2 hours for a day, then the message fails', async (t) => {
  const { smtp, world, mail } = await worldWithSmtp(t);
  const { client } = await superAdminIn(world);
  smtp.behave({ kind: 'refuse', code: 451, message: 'try again later' });
  const queuedAt = world.clock.now().getTime();
  await invite(client, 'later@example.com');
  const waits: number[] = [];
  for (let attempt = 0; attempt < 40; attempt++) {
    const run = await mail.sendDue();
    const [row] = await outboxRows(world);
    assert.ok(row);
    if (run.failed === 1) {
      assert.equal(row.state, 'failed');
      assert.match(row.last_error ?? '', /451/);
      break;
    }
    assert.equal(run.retrying, 1);
    const next = new Date(row.next_attempt_at).getTime();
    waits.push((next - world.clock.now().getTime()) / 60_000);
    world.clock.set(new Date(next));
  }
  assert.deepEqual(waits.slice(0, 9), [1, 2, 4, 8, 16, 32, 64, 120, 120]);
  const triedFor = (world.clock.now().getTime() - queuedAt) / 60_000;
  assert.ok(triedFor >= 24 * 60 && triedFor < 26 * 60, `tried for ${triedFor} minutes`);
  assert.equal(smtp.received.length, 0);
});

test('a 5xx refusal fails the message at once; super admins see it on /admin/email and send it again', async (t) => {
  const { smtp, world, mail } = await worldWithSmtp(t);
  const { admin, client } = await superAdminIn(world);
  smtp.behave({ kind: 'refuse', code: 550, message: 'no such mailbox' });
  const invited = await invite(client, 'nobody@example.com');
  const token = /\/set-password\/([A-Za-z0-9_-]+)/.exec(invited.body)?.[1];
  assert.ok(token);
  assert.deepEqual(await mail.sendDue(), { sent: 0, retrying: 0, failed: 1 });

  const page = await client.get('/admin/email');
  assert.equal(page.status, 200);
  const row = rowWith(page, 'nobody@example.com');
  assert.ok(row, textOf(page.body));
  assert.match(row.join(' '), /Set your password for/);
  assert.match(row.join(' '), /Invitation/);
  assert.match(row.join(' '), /550/);
  assert.ok(!page.body.includes(token), 'never the message itself');
  assert.match(page.body, /href="\/admin\/email"/, 'in the navigation');

  smtp.behave({ kind: 'accept' });
  const [outbox] = await outboxRows(world);
  assert.ok(outbox);
  const again = await client.post(`/admin/email/${outbox.id}/send-again`, {});
  assert.equal(again.location, '/admin/email');
  assert.match(flashOn(await client.get('/admin/email')) ?? '', /queued to be sent again/);
  assert.equal(await auditEntriesAbout(world, admin.id, 'email_sent_again'), 0, 'the audit row names no person');
  const audited = await world.db
    .selectFrom('audit_events')
    .select('action')
    .where('action', '=', 'email_sent_again')
    .execute();
  assert.equal(audited.length, 1);
  assert.deepEqual(await mail.sendDue(), { sent: 1, retrying: 0, failed: 0 });
  const [received] = await smtp.waitFor(1);
  assert.ok(received?.parsed.text?.includes(token));
  assert.ok(!rowWith(await client.get('/admin/email'), 'nobody@example.com'), 'no longer listed once sent');

  const twice = await client.post(`/admin/email/${outbox.id}/send-again`, {});
  assert.equal(twice.location, '/admin/email');
  assert.equal((await mail.sendDue()).sent, 0, 'a sent message is not sent again');
});

test('a refused login (535) is tried again, not failed', async (t) => {
  const { smtp, world, mail } = await worldWithSmtp(t);
  const { client } = await superAdminIn(world);
  smtp.behave({ kind: 'refuse', code: 535, message: 'authentication failed' });
  await invite(client, 'auth@example.com');
  assert.deepEqual(await mail.sendDue(), { sent: 0, retrying: 1, failed: 0 });
});

test('the page of email not sent is for super admins only, and the POST needs the form token', async (t) => {
  const { world } = await worldWithSmtp(t);
  const org = await makeOrganisation(world);
  const admin = await makeUser(world, org, { role: 'admin' });
  const client = await signedIn(world, admin.email);
  assert.equal((await client.get('/admin/email')).status, 403);
  assert.doesNotMatch((await client.get('/account')).body, /href="\/admin\/email"/);
  const boss = await superAdminIn(world);
  await boss.client.get('/admin/email');
  const forged = await boss.client.post('/admin/email/x/send-again', {}, { csrf: null });
  assert.equal(forged.status, 403);
});

const DAY_MINUTES = 24 * 60;

/** A row of the outbox as the sender leaves it in `state`, its last try due `at`. */
function outboxRowAt(organisationId: string, id: string, state: 'pending' | 'sending' | 'sent' | 'failed', at: Date) {
  const time = at.toISOString();
  return {
    id,
    organisation_id: organisationId,
    recipient: `${id}@example.com`,
    kind: 'invitation',
    subject: 'Set your password',
    sealed_body: state === 'sent' ? null : 'sealed parts',
    message_id: `<${id}@127.0.0.1>`,
    state,
    attempts: 1,
    next_attempt_at: time,
    lease_until: state === 'sending' ? time : null,
    last_error: state === 'failed' ? '550 no such mailbox' : null,
    retry_since: time,
    created_at: time,
    sent_at: state === 'sent' ? time : null,
  };
}

async function outboxRecipients(world: TestWorld): Promise<string[]> {
  const rows = await world.db.selectFrom('mail_outbox').select('recipient').orderBy('recipient').execute();
  return rows.map((row) => row.recipient);
}

test('housekeeping deletes a sent message a week after it was sent and a failed one 30 days after its last try, never one still to send', async (t) => {
  const { smtp, world, mail } = await worldWithSmtp(t);
  const { org, admin, client } = await superAdminIn(world);
  const start = world.clock.now();
  await invite(client, 'early@example.com');
  assert.deepEqual(await mail.sendDue(), { sent: 1, retrying: 0, failed: 0 });
  world.clock.advanceMinutes(2 * DAY_MINUTES);
  const later = await signedIn(world, admin.email);
  smtp.behave({ kind: 'refuse', code: 550, message: 'no such mailbox' });
  await invite(later, 'refused@example.com');
  assert.deepEqual(await mail.sendDue(), { sent: 0, retrying: 0, failed: 1 });
  const failedAt = world.clock.now();
  smtp.behave({ kind: 'accept' });
  await invite(later, 'later@example.com');
  assert.deepEqual(await mail.sendDue(), { sent: 1, retrying: 0, failed: 0 });
  // Still to send, from long before: waiting for a try, and claimed by an instance that died.
  const longAgo = new Date(start.getTime() - 2 * FAILED_MAIL_KEPT_DAYS * DAY_MINUTES * 60_000);
  await world.db
    .insertInto('mail_outbox')
    .values([outboxRowAt(org, 'waiting', 'pending', longAgo), outboxRowAt(org, 'claimed', 'sending', longAgo)])
    .execute();
  const everyone = [
    'claimed@example.com',
    'early@example.com',
    'later@example.com',
    'refused@example.com',
    'waiting@example.com',
  ];
  assert.equal((await keepHouse(world.deps)).mail, 0);
  assert.deepEqual(await outboxRecipients(world), everyone);

  world.clock.set(new Date(start.getTime() + SENT_MAIL_KEPT_DAYS * DAY_MINUTES * 60_000));
  assert.equal((await keepHouse(world.deps)).mail, 0, 'a message sent exactly a week ago is kept');
  world.clock.advanceMinutes(1);
  assert.equal((await keepHouse(world.deps)).mail, 1);
  assert.deepEqual(
    await outboxRecipients(world),
    everyone.filter((recipient) => recipient !== 'early@example.com'),
  );
  world.clock.advanceMinutes(2 * DAY_MINUTES);
  assert.equal((await keepHouse(world.deps)).mail, 1);
  assert.deepEqual(await outboxRecipients(world), [
    'claimed@example.com',
    'refused@example.com',
    'waiting@example.com',
  ]);

  world.clock.set(new Date(failedAt.getTime() + FAILED_MAIL_KEPT_DAYS * DAY_MINUTES * 60_000));
  assert.equal((await keepHouse(world.deps)).mail, 0, 'a message failed exactly 30 days ago is kept');
  const boss = await signedIn(world, admin.email);
  assert.ok(rowWith(await boss.get('/admin/email'), 'refused@example.com'), 'still offered to send again');
  world.clock.advanceMinutes(1);
  assert.equal((await keepHouse(world.deps)).mail, 1);
  assert.deepEqual(await outboxRecipients(world), ['claimed@example.com', 'waiting@example.com']);
  assert.ok(!rowWith(await boss.get('/admin/email'), 'refused@example.com'));

  world.clock.advanceMinutes(365 * DAY_MINUTES);
  assert.equal((await keepHouse(world.deps)).mail, 0);
  const left = await world.db.selectFrom('mail_outbox').select(['recipient', 'state']).orderBy('recipient').execute();
  assert.deepEqual(
    left.map((row) => [row.recipient, row.state]),
    [
      ['claimed@example.com', 'sending'],
      ['waiting@example.com', 'pending'],
    ],
    'pending and sending messages are never deleted',
  );
});

test('housekeeping deletes a backlog of sent messages a few hundred per statement, all in one run', async (t) => {
  const world = await buildWorld(t);
  const org = await makeOrganisation(world);
  const sentAt = new Date(world.clock.now().getTime() - (SENT_MAIL_KEPT_DAYS + 1) * DAY_MINUTES * 60_000);
  const backlog = 2 * MAIL_DELETED_PER_STATEMENT + 1;
  const rows = Array.from({ length: backlog }, (_, i) =>
    outboxRowAt(org, `sent-${String(i).padStart(5, '0')}`, 'sent', new Date(sentAt.getTime() + i * 1000)),
  );
  await world.db
    .insertInto('mail_outbox')
    .values([...rows, outboxRowAt(org, 'recent', 'sent', world.clock.now())])
    .execute();
  const weekAgo = new Date(world.clock.now().getTime() - SENT_MAIL_KEPT_DAYS * DAY_MINUTES * 60_000);
  assert.equal(
    await deleteMailDoneWith(world.db, 'sent', weekAgo, MAIL_DELETED_PER_STATEMENT),
    MAIL_DELETED_PER_STATEMENT,
    'one statement deletes no more than its limit',
  );
  const oldest = await world.db.selectFrom('mail_outbox').select('id').orderBy('sent_at').executeTakeFirst();
  assert.equal(oldest?.id, `sent-${String(MAIL_DELETED_PER_STATEMENT).padStart(5, '0')}`, 'the oldest first');
  assert.equal((await keepHouse(world.deps)).mail, backlog - MAIL_DELETED_PER_STATEMENT, 'the rest in one run');
  assert.deepEqual(await outboxRecipients(world), ['recent@example.com']);
});

test('a key rotation re-seals the messages not sent, which then go out as they were', async (t) => {
  const { smtp, world, mail } = await worldWithSmtp(t);
  const { client } = await superAdminIn(world);
  const page = await invite(client, 'rotate@example.com');
  const token = /\/set-password\/([A-Za-z0-9_-]+)/.exec(page.body)?.[1];
  assert.ok(token);
  const newKey = Buffer.alloc(32, 9);
  const ring = keyringOf(newKey, [TEST_KEY]);
  const report = await reencryptSecretsUnderCurrentKey(world.db, ring);
  assert.ok(report.reencrypted >= 1);
  const [row] = await outboxRows(world);
  assert.ok(row?.sealed_body && isSealedWith(newKey, row.sealed_body), 'sealed with the new key');
  assert.ok(!row.sealed_body.includes(token));

  // The instance restarted with the new key alone sends it.
  const rotated = await buildWorld(t, { db: world.db, clock: world.clock, secretKey: keyringOf(newKey) });
  const sender = mailSenderOf(rotated.deps, smtpMailSettings(smtp));
  t.after(() => sender.stop());
  assert.deepEqual(await sender.sendDue(), { sent: 1, retrying: 0, failed: 0 });
  const [received] = await smtp.waitFor(1);
  assert.ok(received?.parsed.text?.includes(token));
  assert.deepEqual(await mail.sendDue(), { sent: 0, retrying: 0, failed: 0 }, 'sent once');
});

test('TWOFOLD_SMTP_URL and TWOFOLD_MAIL_FROM are checked at start-up; a refusal never repeats the password', () => {
  const env = { TWOFOLD_SECRET_KEY: TEST_KEY.toString('hex'), TWOFOLD_DATA_DIR: '/tmp/twofold-config-test' };
  const withoutSmtp = loadConfig({ ...env, TWOFOLD_PUBLIC_URL: 'https://2fa.example.com' });
  assert.deepEqual(withoutSmtp.mail, {
    from: 'twofold@2fa.example.com',
    transport: { kind: 'files', dir: '/tmp/twofold-config-test/outbox' },
  });
  const smtps = loadConfig({
    ...env,
    TWOFOLD_SMTP_URL: 'smtps://u:p@smtp.example.com:465',
    TWOFOLD_MAIL_FROM: 'it@example.com',
  });
  assert.deepEqual(smtps.mail, {
    from: 'it@example.com',
    transport: { kind: 'smtp', url: 'smtps://u:p@smtp.example.com:465' },
  });
  for (const url of [
    'http://user:hunter2secret@smtp.example.com',
    'not a url hunter2secret',
    'smtp://user:hunter2secret@',
  ]) {
    assert.throws(
      () => loadConfig({ ...env, TWOFOLD_SMTP_URL: url }),
      (error: unknown) =>
        error instanceof ConfigError &&
        /TWOFOLD_SMTP_URL/.test(error.message) &&
        !error.message.includes('hunter2secret'),
      url,
    );
  }
  assert.throws(() => loadConfig({ ...env, TWOFOLD_MAIL_FROM: 'not an address' }), ConfigError);
});
