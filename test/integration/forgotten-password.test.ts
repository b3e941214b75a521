// "Forgot your password?": the same answer, and about the same time, for a known and an
// unknown address; the limits per address, per account and per client; a single-use link
// that expires after 30 minutes; and a password set through it keeps the second factor.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FORGOTTEN_LINK_MINUTES } from '../../src/domain/password-requests.js';
import { buildWorld, linkDevice, makeOrganisation, makeUser, type TestWorld } from '../helpers/app.js';
import { Browser, textOf, type Page } from '../helpers/browser.js';
import { startSmtpServer, smtpMailSettings, type ReceivedMail } from '../helpers/smtp.js';
import { auditEntriesAbout, devicesOf, problemOn, signedIn } from './support.js';

const NEW_PASSWORD = 'a password chosen anew';

async function ask(world: TestWorld, email: string, ip = '198.51.100.7'): Promise<Page> {
  const browser = new Browser(world.app, { ip });
  const form = await browser.get('/forgot-password');
  assert.equal(form.status, 200);
  return browser.post('/forgot-password', { email });
}

/** The page's words, without the form token that differs from one visit to the next. */
function answerOf(page: Page): string {
  return textOf(page.body);
}

async function setUp(t: Parameters<typeof buildWorld>[0]) {
  const smtp = await startSmtpServer(t);
  const world = await buildWorld(t, { mail: smtpMailSettings(smtp) });
  const org = await makeOrganisation(world, 'Forgetful Org');
  const person = await makeUser(world, org, { email: 'known@example.com', name: 'Known Person' });
  return { smtp, world, org, person };
}

function linkIn(mail: ReceivedMail | undefined): string {
  const m = /http:\/\/127\.0\.0\.1:3000(\/set-password\/[A-Za-z0-9_-]+)/.exec(mail?.parsed.text ?? '');
  assert.ok(m?.[1], 'a link in the message');
  return m[1];
}

test('the sign-in page links to the form, which answers alike for a known and an unknown address', async (t) => {
  const { smtp, world, person } = await setUp(t);
  const login = await new Browser(world.app).get('/login');
  assert.match(login.body, /<a href="\/forgot-password">Forgot your password\?<\/a>/);

  const known = await ask(world, person.email);
  const unknown = await ask(world, 'stranger@example.com');
  assert.equal(known.status, 200);
  assert.equal(unknown.status, 200);
  assert.equal(answerOf(known), answerOf(unknown), 'the same answer');
  assert.match(answerOf(known), /If this address belongs to an account, we have emailed it a link/);

  assert.deepEqual(await world.mail?.sendDue(), { sent: 1, retrying: 0, failed: 0 }, 'one message, to the known');
  const [received] = await smtp.waitFor(1);
  assert.deepEqual(received?.to, ['known@example.com']);
  assert.match(received?.parsed.subject ?? '', /^Set a new password for Forgetful Org/);
  assert.match(received?.parsed.text ?? '', /"Forgot your password\?" was used with known@example\.com/);
  assert.match(received?.parsed.text ?? '', /works once, for 30 minutes/);
  assert.equal(await auditEntriesAbout(world, person.id, 'password_reset_requested'), 1);
});

test('the unknown address does the same kind of writes and takes about as long', async (t) => {
  const { world, person } = await setUp(t);
  const timeOf = async (email: string, ip: string) => {
    const started = process.hrtime.bigint();
    const cpu = process.cpuUsage();
    const page = await ask(world, email, ip);
    const used = process.cpuUsage(cpu);
    assert.equal(page.status, 200);
    return { ms: Number(process.hrtime.bigint() - started) / 1e6, cpu: (used.user + used.system) / 1000 };
  };
  const known: number[] = [];
  const unknown: number[] = [];
  const knownCpu: number[] = [];
  const unknownCpu: number[] = [];
  for (let round = 0; round < 40; round++) {
    // A new hour, a new client each time: no limit is reached. Each goes first in turn.
    world.clock.advanceMinutes(61);
    const knownFirst = round % 2 === 0;
    const first = knownFirst
      ? await timeOf(person.email, `198.51.100.${round + 1}`)
      : await timeOf(`nobody-${round}@example.com`, `198.51.100.${round + 101}`);
    const second = knownFirst
      ? await timeOf(`nobody-${round}@example.com`, `198.51.100.${round + 101}`)
      : await timeOf(person.email, `198.51.100.${round + 1}`);
    const [a, b] = knownFirst ? [first, second] : [second, first];
    known.push(a.ms);
    unknown.push(b.ms);
    knownCpu.push(a.cpu);
    unknownCpu.push(b.cpu);
  }
  const median = (values: number[]) => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)] ?? NaN;
  const ratio = median(unknown) / median(known);
  const cpuRatio = median(unknownCpu) / median(knownCpu);
  t.diagnostic(
    `median known ${median(known).toFixed(2)} ms, unknown ${median(unknown).toFixed(2)} ms: time ratio ${ratio.toFixed(2)}, CPU ratio ${cpuRatio.toFixed(2)}`,
  );
  // Loose bounds: the machine's other work moves single requests by milliseconds.
  assert.ok(ratio > 0.5 && ratio < 2, `unknown/known time ratio ${ratio.toFixed(2)}`);
  assert.ok(cpuRatio > 0.5 && cpuRatio < 2, `unknown/known CPU ratio ${cpuRatio.toFixed(2)}`);
  // The stand-in writes as many rows in the same commit.
  const standIns = await world.db
    .selectFrom('password_requests')
    .select('key')
    .where('key', 'like', 'stand-in:%')
    .execute();
  assert.equal(standIns.length, 40 * 3);
});

test('at most 3 links an hour per address and per account, 10 per client address', async (t) => {
  const { smtp, world, person } = await setUp(t);
  for (let i = 0; i < 3; i++) assert.equal((await ask(world, person.email, `203.0.113.${i + 1}`)).status, 200);
  const fourth = await ask(world, person.email, '203.0.113.50');
  assert.equal(fourth.status, 429, 'the address is at its limit, from anywhere');
  assert.match(problemOn(fourth), /Too many links were asked for/);
  // An unknown address is limited alike: the limits tell nothing.
  for (let i = 0; i < 3; i++) assert.equal((await ask(world, 'ghost@example.com', `203.0.114.${i + 1}`)).status, 200);
  assert.equal((await ask(world, 'ghost@example.com', '203.0.114.50')).status, 429);
  // The same account by another spelling of its address is the same account.
  assert.equal((await ask(world, 'KNOWN@example.com', '203.0.113.60')).status, 429);

  for (let i = 0; i < 10; i++) assert.equal((await ask(world, `spray-${i}@example.com`, '192.0.2.9')).status, 200);
  assert.equal((await ask(world, 'spray-10@example.com', '192.0.2.9')).status, 429, 'the client is at its limit');

  await world.mail?.sendDue();
  assert.equal((await smtp.waitFor(3)).length, 3, 'three messages to the known address, no more');
  world.clock.advanceMinutes(61);
  assert.equal((await ask(world, person.email, '203.0.113.70')).status, 200, 'an hour later, again');
});

test('the link works once, sets the password, and keeps the second factor', async (t) => {
  const { smtp, world, org, person } = await setUp(t);
  const secret = await linkDevice(world, org, person.id);
  await ask(world, person.email);
  await world.mail?.sendDue();
  const link = linkIn((await smtp.waitFor(1))[0]);

  const visitor = new Browser(world.app);
  await visitor.get(link);
  const set = await visitor.post(link, { password: NEW_PASSWORD, confirmation: NEW_PASSWORD });
  assert.equal(set.location, '/login', textOf(set.body));
  assert.equal((await devicesOf(world, org, person.id)).length, 1, 'the device stays');

  const signIn = await new Browser(world.app).signIn(person.email, NEW_PASSWORD);
  assert.equal(signIn.location, '/login/code', 'the second factor is still asked for');
  await signedIn(world, person.email, secret, NEW_PASSWORD);
  const again = await new Browser(world.app).get(link);
  assert.equal(again.status, 410);
  assert.match(problemOn(again), /already been used/);
});

test('the link expires after 30 minutes', async (t) => {
  const { smtp, world, person } = await setUp(t);
  await ask(world, person.email);
  await world.mail?.sendDue();
  const link = linkIn((await smtp.waitFor(1))[0]);
  world.clock.advanceMinutes(FORGOTTEN_LINK_MINUTES - 1);
  assert.equal((await new Browser(world.app).get(link)).status, 200, 'still valid a minute before');
  world.clock.advanceMinutes(1);
  const late = await new Browser(world.app).get(link);
  assert.equal(late.status, 410);
  assert.match(problemOn(late), /expired/);
});

test('a deactivated account gets no link, and the same answer', async (t) => {
  const { world, org, person } = await setUp(t);
  await world.db.updateTable('users').set({ status: 'inactive' }).where('id', '=', person.id).execute();
  const page = await ask(world, person.email);
  assert.equal(page.status, 200);
  assert.match(answerOf(page), /If this address belongs to an account/);
  assert.equal(
    (await world.db.selectFrom('mail_outbox').select('id').where('organisation_id', '=', org).execute()).length,
    0,
  );
});
