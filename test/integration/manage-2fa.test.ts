// The Manage 2FA page: the organisation-wide requirement (schedule, reschedule, cancel,
// start now, then locked), what happens after a deadline, and the time zone.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildWorld, makeOrganisation, makeUser, type TestWorld } from '../helpers/app.js';
import { Browser, textOf, type Page } from '../helpers/browser.js';
import {
  checkedValues,
  elementOn,
  flashOn,
  organisationOf,
  problemOn,
  signedIn,
  superAdminOnManage2fa as superAdminIn,
} from './support.js';

const LOCKED = 'Two-factor authentication is already required for everyone, and that cannot be turned off.';

async function requireFrom(client: Browser, date: string): Promise<Page> {
  return client.post('/admin/2fa/requirement', { start: 'date', date, understood: 'yes' });
}

async function storedStart(world: TestWorld, org: string): Promise<string | null> {
  return (await organisationOf(world, org)).policy.requireAllFrom?.toISOString() ?? null;
}

/** The start date and time the requirement form shows, as the browser would fill it in. */
function startShown(page: Page): [string | undefined, string | undefined] {
  const input = elementOn(page, 'input', { name: 'date' });
  return [input.type, input.value];
}

function lead(page: Page): string {
  return textOf(/<p class="lead">([\s\S]*?)<\/p>/.exec(page.body)?.[1] ?? '');
}

test('Manage 2FA is for super admins: an administrator or a user gets 403 and changes nothing', async (t) => {
  const world = await buildWorld(t);
  const { org, client: boss } = await superAdminIn(world);
  const page = await boss.get('/admin/2fa');
  assert.equal(page.status, 200);
  assert.equal(
    lead(page),
    'Two-factor authentication is not required for everyone. You can require it for chosen users on their pages.',
  );

  for (const role of ['admin', 'user'] as const) {
    const someone = await makeUser(world, org, { role });
    const client = await signedIn(world, someone.email);
    const get = await client.get('/admin/2fa');
    assert.equal(get.status, 403, role);
    if (role === 'admin') assert.match(textOf(get.body), /Only super admins can open this page\./);
    await client.get('/account');
    const posts: [string, Record<string, string>][] = [
      ['/admin/2fa/requirement', { start: 'now', understood: 'yes' }],
      ['/admin/2fa/cancel', {}],
      ['/admin/2fa/after-deadline', { afterDeadline: 'block' }],
      ['/admin/2fa/time-zone', { timeZone: 'Europe/Amsterdam' }],
    ];
    for (const [url, form] of posts) assert.equal((await client.post(url, form)).status, 403, `${role} ${url}`);
  }
  const stored = await organisationOf(world, org);
  assert.deepEqual(
    [stored.policy.requireAllFrom, stored.policy.afterDeadline, stored.timeZone],
    [null, 'set_up_at_login', 'UTC'],
  );
});

test('requiring 2FA from a future date schedules it and the page shows the date', async (t) => {
  const world = await buildWorld(t);
  const { org, client } = await superAdminIn(world);
  const done = await requireFrom(client, '2026-12-01T09:00');
  assert.equal(done.status, 303);
  assert.equal(done.location, '/admin/2fa');
  assert.equal(await storedStart(world, org), '2026-12-01T09:00:00.000Z');
  const page = await client.get('/admin/2fa');
  assert.equal(flashOn(page), 'Two-factor authentication will be required for everyone from 1 Dec 2026, 09:00 (UTC).');
  assert.match(
    lead(page),
    /^Two-factor authentication will be required for everyone from 1 Dec 2026, 09:00 \(UTC\) ?\. Until then you can change the date or cancel\./,
  );
  assert.deepEqual(startShown(page), ['datetime-local', '2026-12-01T09:00']);
  assert.match(page.body, /action="\/admin\/2fa\/cancel"/);
  assert.match(textOf(page.body), /Save start/);
});

test('the requirement is not changed unless "I understand" is ticked', async (t) => {
  const world = await buildWorld(t);
  const { org, client } = await superAdminIn(world);
  const forms: Record<string, string>[] = [
    { start: 'date', date: '2026-12-01T09:00' },
    { start: 'now' },
    { start: 'now', understood: 'no' },
  ];
  for (const form of forms) {
    const page = await client.post('/admin/2fa/requirement', form);
    assert.equal(page.status, 400, JSON.stringify(form));
    assert.match(
      problemOn(page),
      /Tick the box to confirm you understand the requirement cannot be turned off once it starts\./,
    );
  }
  assert.equal(await storedStart(world, org), null);
});

test('a start in the past, or not a date, is refused', async (t) => {
  const world = await buildWorld(t);
  const { org, client } = await superAdminIn(world);
  const past = await requireFrom(client, '2026-11-22T11:00');
  assert.equal(past.status, 400);
  assert.match(problemOn(past), /The start must be in the future\. To require it at once, choose "Starting now"\./);
  assert.deepEqual(startShown(past), ['datetime-local', '2026-11-22T11:00']);
  for (const date of ['', 'tomorrow', '2026-02-30T09:00']) {
    const page = await requireFrom(client, date);
    assert.equal(page.status, 400, date);
    assert.match(problemOn(page), /Enter the start as a date and time, or choose "Starting now"\./, date);
  }
  assert.equal(await storedStart(world, org), null);
});

test('a scheduled requirement can be moved to another date', async (t) => {
  const world = await buildWorld(t);
  const { org, client } = await superAdminIn(world);
  await requireFrom(client, '2026-12-01T09:00');
  const moved = await requireFrom(client, '2027-01-15T08:30');
  assert.equal(moved.status, 303);
  assert.equal(await storedStart(world, org), '2027-01-15T08:30:00.000Z');
  assert.match(lead(await client.get('/admin/2fa')), /from 15 Jan 2027, 08:30 \(UTC\)/);
  // Moving it earlier works too, as long as it is still ahead.
  await requireFrom(client, '2026-11-23T08:00');
  assert.equal(await storedStart(world, org), '2026-11-23T08:00:00.000Z');
});

test('a scheduled requirement can be cancelled', async (t) => {
  const world = await buildWorld(t);
  const { org, client } = await superAdminIn(world);
  await requireFrom(client, '2026-12-01T09:00');
  await client.get('/admin/2fa');
  const cancelled = await client.post('/admin/2fa/cancel', {});
  assert.equal(cancelled.status, 303);
  assert.equal(cancelled.location, '/admin/2fa');
  assert.equal(await storedStart(world, org), null);
  const page = await client.get('/admin/2fa');
  assert.equal(flashOn(page), 'The requirement for everyone is cancelled.');
  assert.match(lead(page), /^Two-factor authentication is not required for everyone\./);
  assert.doesNotMatch(page.body, /action="\/admin\/2fa\/cancel"/);
});

test('required "starting now" is locked: no cancel, and neither cancel nor a new start is accepted', async (t) => {
  const world = await buildWorld(t);
  const { org, client } = await superAdminIn(world);
  const now = world.clock.now().toISOString();
  const done = await client.post('/admin/2fa/requirement', { start: 'now', understood: 'yes' });
  assert.equal(done.status, 303);
  assert.equal(await storedStart(world, org), now);
  const page = await client.get('/admin/2fa');
  assert.equal(flashOn(page), 'Two-factor authentication is now required for everyone.');
  assert.match(
    textOf(page.body),
    /Locked\. Two-factor authentication is required for everyone in the organisation since 22 Nov 2026, 12:01 \(UTC\)\. It cannot be turned off\./,
  );
  assert.doesNotMatch(page.body, /action="\/admin\/2fa\/cancel"/);
  assert.doesNotMatch(page.body, /action="\/admin\/2fa\/requirement"/);

  const cancel = await client.post('/admin/2fa/cancel', {});
  assert.equal(cancel.status, 409);
  assert.match(textOf(cancel.body), /Locked\./);
  const again = await client.post('/admin/2fa/requirement', { start: 'now', understood: 'yes' });
  assert.equal(again.status, 409);
  const later = await requireFrom(client, '2027-01-01T09:00');
  assert.equal(later.status, 409);
  assert.equal(await storedStart(world, org), now);
});

test('a refused change to a locked requirement says why', async (t) => {
  const world = await buildWorld(t);
  const { client } = await superAdminIn(world);
  await client.post('/admin/2fa/requirement', { start: 'now', understood: 'yes' });
  await client.get('/admin/2fa');
  for (const page of [await client.post('/admin/2fa/cancel', {}), await requireFrom(client, '2027-01-01T09:00')]) {
    assert.equal(page.status, 409);
    assert.equal(problemOn(page), LOCKED);
  }
});

test('a scheduled requirement becomes active, and locked, when its start passes', async (t) => {
  const world = await buildWorld(t);
  const { org, client } = await superAdminIn(world);
  await requireFrom(client, '2026-11-22T12:21');
  world.clock.advanceMinutes(19);
  const before = await client.get('/admin/2fa');
  assert.match(before.body, /action="\/admin\/2fa\/cancel"/);
  world.clock.advanceMinutes(1);
  const page = await client.get('/admin/2fa');
  assert.match(textOf(page.body), /Locked\. .* since 22 Nov 2026, 12:21 \(UTC\)/);
  assert.doesNotMatch(page.body, /action="\/admin\/2fa\/cancel"/);
  const cancel = await client.post('/admin/2fa/cancel', {});
  assert.equal(cancel.status, 409);
  const moved = await requireFrom(client, '2026-12-01T09:00');
  assert.equal(moved.status, 409);
  assert.equal(await storedStart(world, org), '2026-11-22T12:21:00.000Z');
});

test('what happens after a deadline can be switched; anything else is refused', async (t) => {
  const world = await buildWorld(t);
  const { org, client } = await superAdminIn(world);
  const before = await client.get('/admin/2fa');
  assert.deepEqual(checkedValues(before, 'afterDeadline'), ['set_up_at_login']);
  const block = await client.post('/admin/2fa/after-deadline', { afterDeadline: 'block' });
  assert.equal(block.status, 303);
  assert.equal((await organisationOf(world, org)).policy.afterDeadline, 'block');
  const page = await client.get('/admin/2fa');
  assert.equal(flashOn(page), 'Saved what happens after a deadline.');
  assert.deepEqual(checkedValues(page, 'afterDeadline'), ['block']);

  const bad = await client.post('/admin/2fa/after-deadline', { afterDeadline: 'explode' });
  assert.equal(bad.status, 400);
  assert.match(problemOn(bad), /Choose what happens after a deadline\./);
  assert.equal((await organisationOf(world, org)).policy.afterDeadline, 'block');

  await client.post('/admin/2fa/after-deadline', { afterDeadline: 'set_up_at_login' });
  assert.equal((await organisationOf(world, org)).policy.afterDeadline, 'set_up_at_login');
});

test('the time zone can be changed to a real zone name; anything else is refused', async (t) => {
  const world = await buildWorld(t);
  const { org, client } = await superAdminIn(world);
  await requireFrom(client, '2026-12-01T09:00');
  const changed = await client.post('/admin/2fa/time-zone', { timeZone: ' Europe/Amsterdam ' });
  assert.equal(changed.status, 303);
  assert.equal((await organisationOf(world, org)).timeZone, 'Europe/Amsterdam');
  const page = await client.get('/admin/2fa');
  assert.equal(flashOn(page), 'Dates are now shown in Europe/Amsterdam.');
  assert.match(lead(page), /from 1 Dec 2026, 10:00 \(Europe\/Amsterdam\)/);
  assert.deepEqual(startShown(page), ['datetime-local', '2026-12-01T10:00']);

  // A start typed now is read in that zone.
  await requireFrom(client, '2026-12-01T09:00');
  assert.equal(await storedStart(world, org), '2026-12-01T08:00:00.000Z');

  for (const zone of ['Mars/Olympus', 'GMT+25']) {
    const bad = await client.post('/admin/2fa/time-zone', { timeZone: zone });
    assert.equal(bad.status, 400, zone);
    const refusal = `"${zone}" is not a time zone name. Choose one from the list, such as Europe/Amsterdam or UTC.`;
    assert.ok(problemOn(bad).includes(refusal), problemOn(bad));
    // Said at the field, which keeps what was typed.
    const input = elementOn(bad, 'input', { name: 'timeZone' });
    assert.deepEqual([input.value, input['aria-invalid']], [zone, 'true']);
  }
  const blank = await client.post('/admin/2fa/time-zone', { timeZone: ' ' });
  assert.equal(blank.status, 400);
  assert.match(problemOn(blank), /Choose a time zone from the list, such as Europe\/Amsterdam or UTC\./);
  assert.equal((await organisationOf(world, org)).timeZone, 'Europe/Amsterdam');
});

test('the time zone is chosen from the IANA zones by typing, without script, and dates typed say their zone', async (t) => {
  const world = await buildWorld(t);
  const { client } = await superAdminIn(world);
  const page = await client.get('/admin/2fa');
  const input = elementOn(page, 'input', { name: 'timeZone' });
  assert.deepEqual([input.type, input.value, input.list], ['text', 'UTC', 'time-zones']);
  const list = /<datalist id="time-zones">([\s\S]*?)<\/datalist>/.exec(page.body)?.[1] ?? '';
  const offered = [...list.matchAll(/<option value="([^"]+)"/g)].map((m) => m[1]);
  assert.deepEqual(offered, ['UTC', ...Intl.supportedValuesOf('timeZone')]);
  for (const zone of ['Europe/Amsterdam', 'America/New_York', 'Asia/Tokyo']) assert.ok(offered.includes(zone), zone);
  assert.equal(elementOn(page, 'input', { name: 'date' }).type, 'datetime-local');
  assert.match(textOf(page.body), /Start date and time in UTC/);

  await client.post('/admin/2fa/time-zone', { timeZone: 'america/new_york' });
  const changed = await client.get('/admin/2fa');
  assert.equal(elementOn(changed, 'input', { name: 'timeZone' }).value, 'America/New_York');
  assert.match(textOf(changed.body), /Start date and time in America\/New_York/);
});

test('once required for everyone, users without a device set up at their next sign-in', async (t) => {
  const world = await buildWorld(t);
  const { org, client } = await superAdminIn(world);
  const user = await makeUser(world, org);
  world.clock.advanceMinutes(1);
  await client.post('/admin/2fa/requirement', { start: 'now', understood: 'yes' });
  const login = await new Browser(world.app).signIn(user.email, user.password);
  assert.equal(login.location, '/setup');
});

test('requiring 2FA "starting now" in block mode holds users without a device at setup instead of locking them out', async (t) => {
  const world = await buildWorld(t);
  const org = await makeOrganisation(world);
  const boss = await makeUser(world, org, { role: 'super_admin' });
  const user = await makeUser(world, org);
  world.clock.advanceMinutes(1);
  const client = await signedIn(world, boss.email);
  await client.get('/admin/2fa');
  await client.post('/admin/2fa/after-deadline', { afterDeadline: 'block' });
  const done = await client.post('/admin/2fa/requirement', { start: 'now', understood: 'yes' });
  assert.equal(done.location, '/admin/2fa');
  assert.equal((await client.get('/admin/2fa')).location, '/setup');
  const login = await new Browser(world.app).signIn(user.email, user.password);
  assert.equal(login.location, '/setup', textOf(login.body));
});
