// Reminders before a deadline, with a frozen clock: each date of the schedule, personal
// deadlines, the stop once a device is linked, no second sending after a restart or from a
// second instance on the same database, the super admins' summary, and the schedule as a
// super admin sets it on Manage 2FA.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sendDueReminders } from '../../src/services/reminders.js';
import { tenantFor } from '../../src/store/tenant.js';
import { buildWorld, linkDevice, makeOrganisation, makeUser, START, type TestWorld } from '../helpers/app.js';
import { startSmtpServer, smtpMailSettings } from '../helpers/smtp.js';
import { rowWith, signedIn } from './support.js';

const DAY_MINUTES = 24 * 60;

/** What the outbox holds for the organisation, oldest first: who, what kind, which subject. */
async function queued(world: TestWorld, organisationId: string) {
  return world.db
    .selectFrom('mail_outbox')
    .select(['recipient', 'kind', 'subject'])
    .where('organisation_id', '=', organisationId)
    .orderBy('created_at')
    .orderBy('recipient')
    .execute();
}

/** An organisation requiring 2FA from `daysAhead` days after the clock's now, announced now. */
async function requiringOrganisation(world: TestWorld, daysAhead: number, name = 'Reminded Org') {
  const org = await makeOrganisation(world, name);
  const start = new Date(world.clock.now().getTime() + daysAhead * DAY_MINUTES * 60_000);
  assert.ok(await tenantFor(world.db, org).organisation.setRequireAllFrom(start, world.clock.now()));
  return { org, start };
}

test('each date of the default schedule sends one reminder to each person without a device, and none once they have one', async (t) => {
  const world = await buildWorld(t);
  const { org } = await requiringOrganisation(world, 20);
  const ada = await makeUser(world, org, { email: 'ada@example.com', name: 'Ada' });
  const ben = await makeUser(world, org, { email: 'ben@example.com', name: 'Ben' });
  await makeUser(world, org, { email: 'cy@example.com', name: 'Cy' });
  const withDevice = await makeUser(world, org, { email: 'dee@example.com', name: 'Dee' });
  await linkDevice(world, org, withDevice.id);

  // When scheduled: all three without a device.
  assert.equal((await sendDueReminders(world.deps)).reminders, 3);
  let mail = await queued(world, org);
  assert.deepEqual(
    mail.map((m) => m.recipient),
    ['ada@example.com', 'ben@example.com', 'cy@example.com'],
  );
  assert.ok(mail.every((m) => m.kind === 'reminder'));
  assert.match(mail[0]?.subject ?? '', /^Set up two-factor authentication for Reminded Org by /);

  // Run again at once, and again the next day: nothing new.
  assert.equal((await sendDueReminders(world.deps)).reminders, 0);
  world.clock.advanceMinutes(DAY_MINUTES);
  assert.equal((await sendDueReminders(world.deps)).reminders, 0);

  // 14 days before (day 6): three more. Ben links a device before the 7-day one.
  world.clock.advanceMinutes(5 * DAY_MINUTES);
  assert.equal((await sendDueReminders(world.deps)).reminders, 3);
  await linkDevice(world, org, ben.id);
  world.clock.advanceMinutes(7 * DAY_MINUTES); // day 13: 7 days before
  assert.equal((await sendDueReminders(world.deps)).reminders, 2);
  world.clock.advanceMinutes(6 * DAY_MINUTES); // day 19: 1 day before
  assert.equal((await sendDueReminders(world.deps)).reminders, 2);
  world.clock.advanceMinutes(DAY_MINUTES); // day 20: the start, on the day
  assert.equal((await sendDueReminders(world.deps)).reminders, 2);
  mail = await queued(world, org);
  const last = mail.at(-1);
  assert.equal(last?.subject, 'Two-factor authentication is now required for Reminded Org');
  world.clock.advanceMinutes(DAY_MINUTES); // the day after: nothing more, ever
  assert.equal((await sendDueReminders(world.deps)).reminders, 0);

  const count = (email: string) => mail.filter((m) => m.recipient === email).length;
  assert.equal(count(ada.email), 5, 'scheduled, 14, 7, 1 and on the day');
  assert.equal(count(ben.email), 2, 'stopped once Ben linked a device');
  assert.equal(count(withDevice.email), 0);
});

test('a personal deadline has its reminders; an inactive person and one outside any requirement get none', async (t) => {
  const world = await buildWorld(t);
  const org = await makeOrganisation(world, 'Personal Org');
  const tenant = tenantFor(world.db, org);
  const eve = await makeUser(world, org, { email: 'eve@example.com' });
  const fay = await makeUser(world, org, { email: 'fay@example.com' });
  await makeUser(world, org, { email: 'gus@example.com' }); // not required at all
  const deadline = new Date(START.getTime() + 10 * DAY_MINUTES * 60_000);
  await tenant.users.setTwoFactorRequirement(eve.id, true, deadline, world.clock.now());
  await tenant.users.setTwoFactorRequirement(fay.id, true, deadline, world.clock.now());
  await world.db.updateTable('users').set({ status: 'inactive' }).where('id', '=', fay.id).execute();

  assert.equal((await sendDueReminders(world.deps)).reminders, 1);
  world.clock.advanceMinutes(3 * DAY_MINUTES); // 7 days before
  assert.equal((await sendDueReminders(world.deps)).reminders, 1);
  const mail = await queued(world, org);
  assert.deepEqual(
    mail.map((m) => m.recipient),
    ['eve@example.com', 'eve@example.com'],
  );
});

test('a restarted instance, and a second instance on the same database, send nothing twice', async (t) => {
  const world = await buildWorld(t);
  const { org } = await requiringOrganisation(world, 10);
  for (let i = 0; i < 30; i += 1) await makeUser(world, org, { email: `p${String(i).padStart(2, '0')}@example.com` });
  // Two instances at the same moment: the run keeps no state of its own, so two runs over one database are two instances.
  const other = { ...world.deps };
  const [a, b] = await Promise.all([sendDueReminders(world.deps), sendDueReminders(other)]);
  assert.equal(a.reminders + b.reminders, 30);
  assert.equal((await sendDueReminders(world.deps)).reminders, 0, 'a restart sends nothing again');
  assert.equal((await queued(world, org)).length, 30);
});

test('super admins get a summary a week before the start and a day before it, with the number of people', async (t) => {
  const world = await buildWorld(t);
  const { org } = await requiringOrganisation(world, 10, 'Summary Org');
  await makeUser(world, org, { email: 'boss@example.com', role: 'super_admin' });
  const admin = await makeUser(world, org, { email: 'admin@example.com', role: 'admin' });
  await linkDevice(world, org, admin.id);
  await makeUser(world, org, { email: 'one@example.com' });
  await makeUser(world, org, { email: 'two@example.com' });

  world.clock.advanceMinutes(3 * DAY_MINUTES); // 7 days before
  const run = await sendDueReminders(world.deps);
  assert.equal(run.summaries, 1);
  const summaries = (await queued(world, org)).filter((m) => m.kind === 'deadline_summary');
  // The super admin herself has no device either: three people.
  assert.deepEqual(summaries, [
    {
      recipient: 'boss@example.com',
      kind: 'deadline_summary',
      subject: '3 people have not set up two-factor authentication for Summary Org',
    },
  ]);
  assert.equal((await sendDueReminders(world.deps)).summaries, 0);
  world.clock.advanceMinutes(6 * DAY_MINUTES); // a day before
  assert.equal((await sendDueReminders(world.deps)).summaries, 1);
  world.clock.advanceMinutes(DAY_MINUTES);
  assert.equal((await sendDueReminders(world.deps)).summaries, 0);
});

test('Manage 2FA sets the schedule: days typed, checkboxes, refused input, audit; the run follows it', async (t) => {
  const world = await buildWorld(t);
  const { org } = await requiringOrganisation(world, 30);
  const boss = await makeUser(world, org, { email: 'boss@example.com', role: 'super_admin' });
  const client = await signedIn(world, boss.email, await linkDevice(world, org, boss.id));
  await makeUser(world, org, { email: 'late@example.com' });

  const page = await client.get('/admin/2fa');
  assert.equal(page.status, 200);
  assert.match(page.body, /Reminders by email/);
  assert.match(page.body, /value="14, 7, 1"/);

  const refused = await client.post('/admin/2fa/reminders', { days: '14, seven', whenScheduled: 'yes' });
  assert.equal(refused.status, 400);
  assert.match(refused.body, /Type whole numbers of days from 1 to 90/);
  assert.match(refused.body, /value="14, seven"/);

  const saved = await client.post('/admin/2fa/reminders', { days: '3' });
  assert.equal(saved.status, 303);
  const organisation = await tenantFor(world.db, org).organisation.get();
  assert.deepEqual(organisation.reminderSchedule, { whenScheduled: false, daysBefore: [3], onTheDay: false });
  const audit = await client.get('/admin/audit');
  assert.match(audit.body, /Reminder schedule changed/);

  // Not when scheduled, nothing at 14 or 7 days: the first reminder is 3 days before.
  assert.equal((await sendDueReminders(world.deps)).reminders, 0);
  world.clock.advanceMinutes(23 * DAY_MINUTES);
  assert.equal((await sendDueReminders(world.deps)).reminders, 0);
  world.clock.advanceMinutes(4 * DAY_MINUTES);
  assert.equal((await sendDueReminders(world.deps)).reminders, 1);
  world.clock.advanceMinutes(3 * DAY_MINUTES); // the start: no "on the day"
  assert.equal((await sendDueReminders(world.deps)).reminders, 0);
});

test('the users page lists only active people without two-factor authentication when asked', async (t) => {
  const world = await buildWorld(t);
  const org = await makeOrganisation(world);
  const boss = await makeUser(world, org, { email: 'boss@example.com', role: 'super_admin' });
  const client = await signedIn(world, boss.email, await linkDevice(world, org, boss.id));
  await makeUser(world, org, { email: 'without@example.com' });
  const gone = await makeUser(world, org, { email: 'gone@example.com' });
  await world.db.updateTable('users').set({ status: 'inactive' }).where('id', '=', gone.id).execute();

  const all = await client.get('/admin/users');
  assert.match(all.body, /3 users\./);
  const without = await client.get('/admin/users?without=2fa');
  assert.equal(without.status, 200);
  assert.match(without.body, /1 user without two-factor authentication\./);
  assert.notEqual(rowWith(without, 'without@example.com'), null);
  assert.equal(rowWith(without, 'boss@example.com'), null, 'has a device');
  assert.equal(rowWith(without, 'gone@example.com'), null, 'inactive');
  assert.notEqual(rowWith(all, 'gone@example.com'), null);
  assert.match(without.body, /name="without" value="2fa" checked/);
});

test('a reminder and a summary arrive through SMTP: recipient, subject, both parts, the sign-in link, why, every value escaped', async (t) => {
  const smtp = await startSmtpServer(t);
  const world = await buildWorld(t, { mail: smtpMailSettings(smtp) });
  assert.ok(world.mail);
  const { org } = await requiringOrganisation(world, 7, 'Acme <Ltd> & Sons');
  await makeUser(world, org, { email: 'boss@example.com', role: 'super_admin', name: 'Boss' });
  await makeUser(world, org, { email: 'ada@example.com', name: 'Ada <script>' });

  const run = await sendDueReminders(world.deps);
  assert.deepEqual({ reminders: run.reminders, summaries: run.summaries }, { reminders: 2, summaries: 1 });
  assert.deepEqual(await world.mail.sendDue(), { sent: 3, retrying: 0, failed: 0 });
  const received = await smtp.waitFor(3);
  const toAda = received.find((m) => m.to.includes('ada@example.com') && /^Set up/.test(m.parsed.subject ?? ''));
  assert.ok(toAda, 'the reminder to Ada');
  assert.match(toAda.parsed.subject ?? '', /^Set up two-factor authentication for Acme <Ltd> & Sons by /);
  assert.match(toAda.parsed.text ?? '', /in 7 days/);
  assert.match(toAda.parsed.text ?? '', /Sign in to Twofold: http:\/\/127\.0\.0\.1:3000\/login/);
  assert.match(
    toAda.parsed.text ?? '',
    /You receive this email because Acme <Ltd> & Sons requires two-factor authentication for ada@example\.com/,
  );
  const html = String(toAda.parsed.html);
  assert.ok(html.includes('Hello Ada &lt;script&gt;,'), 'the name escaped');
  assert.ok(!html.includes('<script>'));
  assert.ok(html.includes('href="http://127.0.0.1:3000/login"'));

  const summary = received.find((m) => m.to.includes('boss@example.com') && /not set up/.test(m.parsed.subject ?? ''));
  assert.ok(summary, 'the summary to the super admin');
  assert.equal(summary.parsed.subject, '2 people have not set up two-factor authentication for Acme <Ltd> & Sons');
  assert.match(summary.parsed.text ?? '', /http:\/\/127\.0\.0\.1:3000\/admin\/users\?without=2fa/);
  assert.match(summary.parsed.text ?? '', /"set up at next sign-in" mode/);
});
