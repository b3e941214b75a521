// The signed-in user's 2FA page: listing, linking, confirming and removing devices.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { codeAt } from '../../src/domain/totp.js';
import { buildWorld, linkDevice, makeOrganisation, makeUser, type TestWorld } from '../helpers/app.js';
import { Browser, textOf } from '../helpers/browser.js';
import {
  devicesOf,
  elementOn,
  elementsOn,
  flashOn,
  minutesFromNow,
  nextCode,
  problemOn,
  requireEveryoneFrom,
  requireOfUser,
  rowWith,
  secretShownOn,
  signedIn,
  startLinking,
} from './support.js';

/** A user with one linked device, signed in with it. */
async function enrolledAndSignedIn(world: TestWorld, deviceName = 'Phone') {
  const org = await makeOrganisation(world);
  const user = await makeUser(world, org);
  const secret = await linkDevice(world, org, user.id, deviceName);
  const client = await signedIn(world, user.email, secret);
  return { org, user, secret, client };
}

test('the 2FA page lists confirmed devices with when they were added and last used', async (t) => {
  const world = await buildWorld(t);
  const { org, user, client } = await enrolledAndSignedIn(world, 'Pixel 8');
  await linkDevice(world, org, user.id, 'Work iPhone');
  await startLinking(client, '/2fa', 'Half-done tablet');
  const page = await client.get('/2fa');
  assert.equal(page.status, 200);
  assert.match(textOf(page.body), /Two-factor authentication is on\./);
  // Signed in at 12:01 with the Pixel; the iPhone was linked at 12:01 and never used since.
  assert.deepEqual(rowWith(page, 'Pixel 8')?.slice(0, 4), [
    'Pixel 8',
    'Authenticator app',
    '22 Nov 2026, 12:00 (UTC)',
    '22 Nov 2026, 12:01 (UTC)',
  ]);
  assert.deepEqual(rowWith(page, 'Work iPhone')?.slice(0, 4), [
    'Work iPhone',
    'Authenticator app',
    '22 Nov 2026, 12:01 (UTC)',
    'Never',
  ]);
  assert.equal(rowWith(page, 'Half-done tablet'), null);
});

test('a device linked on the 2FA page is last used "Never" until it signs in', async (t) => {
  const world = await buildWorld(t);
  const { user, client } = await enrolledAndSignedIn(world, 'Pixel 8');
  const { url, page: steps } = await startLinking(client, '/2fa', 'Spare phone');
  const { bytes } = secretShownOn(steps);
  const confirmed = await client.post(url, { code: codeAt(bytes, world.clock.now()) });
  assert.equal(confirmed.location, '/2fa', problemOn(confirmed));
  const page = await client.get('/2fa');
  assert.deepEqual(rowWith(page, 'Spare phone')?.slice(0, 4), [
    'Spare phone',
    'Authenticator app',
    '22 Nov 2026, 12:01 (UTC)',
    'Never',
  ]);
  assert.equal(rowWith(page, 'Pixel 8')?.[3], '22 Nov 2026, 12:01 (UTC)');

  // Signing in with it is a use.
  await client.post('/logout', {});
  const again = await signedIn(world, user.email, bytes);
  const after = await again.get('/2fa');
  assert.deepEqual(rowWith(after, 'Spare phone')?.slice(0, 4), [
    'Spare phone',
    'Authenticator app',
    '22 Nov 2026, 12:01 (UTC)',
    '22 Nov 2026, 12:02 (UTC)',
  ]);
});

test('a user without devices is told 2FA is off and offered to add one', async (t) => {
  const world = await buildWorld(t);
  const org = await makeOrganisation(world);
  const user = await makeUser(world, org);
  const client = await signedIn(world, user.email);
  const page = await client.get('/2fa');
  assert.equal(page.status, 200);
  assert.match(textOf(page.body), /Two-factor authentication is off\./);
  assert.match(textOf(page.body), /You have no linked devices\./);
  assert.match(page.body, /action="\/2fa\/devices"/);
});

test('adding a device without a name is refused with the reason', async (t) => {
  const world = await buildWorld(t);
  const org = await makeOrganisation(world);
  const user = await makeUser(world, org);
  const client = await signedIn(world, user.email);
  await client.get('/2fa');
  for (const name of ['', '   ']) {
    const page = await client.post('/2fa/devices', { name });
    assert.equal(page.status, 400);
    assert.match(problemOn(page), /Give the device a name you will recognise/);
  }
  const long = await client.post('/2fa/devices', { name: 'x'.repeat(61) });
  assert.equal(long.status, 400);
  assert.match(problemOn(long), /at most 60 characters/);
  assert.deepEqual(await devicesOf(world, org, user.id), []);
});

test('naming a device shows its QR code and its key in groups of four; it signs in only once confirmed', async (t) => {
  const world = await buildWorld(t);
  const { org, user, client } = await enrolledAndSignedIn(world);
  const { url, page } = await startLinking(client, '/2fa', 'Tablet');
  assert.equal(page.status, 200);
  const qr = elementOn(page, 'img', { class: 'qr' });
  assert.match(qr.src ?? '', /^data:image\/svg\+xml;base64,[A-Za-z0-9+/=]+$/);
  assert.equal(qr.alt, 'QR code to add Tablet to your authenticator app');
  const shown = secretShownOn(page);
  assert.match(shown.typed, /^[A-Z2-7]{4}( [A-Z2-7]{4}){7}$/);
  const id = url.split('/').pop();
  const stored = (await devicesOf(world, org, user.id)).find((d) => d.id === id);
  assert.equal(stored?.name, 'Tablet');
  assert.equal(stored?.confirmedAt, null);

  // Not yet confirmed: a code from it does not sign in.
  await client.post('/logout', {});
  const other = new Browser(world.app);
  await other.signIn(user.email, user.password);
  await other.get('/login/code');
  const refused = await other.post('/login/code', { code: nextCode(world, shown.bytes) });
  assert.equal(refused.status, 400);
  assert.match(problemOn(refused), /That code is not right/);
});

test('confirming with a wrong code says so and shows the same key again; the right code links the device', async (t) => {
  const world = await buildWorld(t);
  const { org, user, client } = await enrolledAndSignedIn(world);
  const { url, page } = await startLinking(client, '/2fa', 'Tablet');
  const shown = secretShownOn(page);

  const wrong = await client.post(url, { code: '000000' });
  assert.equal(wrong.status, 400);
  assert.equal(
    problemOn(wrong),
    'That code is not right. Check you are reading the entry for this account and try the code your app shows now.',
  );
  assert.equal(secretShownOn(wrong).typed, shown.typed);
  assert.equal((await devicesOf(world, org, user.id)).find((d) => d.name === 'Tablet')?.confirmedAt, null);

  const malformed = await client.post(url, { code: 'abc' });
  assert.equal(malformed.status, 400);
  assert.match(problemOn(malformed), /digits only/);

  const right = await client.post(url, { code: codeAt(shown.bytes, world.clock.now()) });
  assert.equal(right.status, 303);
  assert.equal(right.location, '/2fa');
  const list = await client.get('/2fa');
  assert.equal(flashOn(list), 'Tablet is linked. You can sign in with a code from it.');
  assert.ok(rowWith(list, 'Tablet'));
  assert.ok(rowWith(list, 'Phone'));

  // The key is never shown again.
  const again = await client.get(url);
  assert.equal(again.status, 303);
  assert.equal(again.location, '/2fa');
  assert.doesNotMatch(again.body, /id="secret"/);
  assert.match(flashOn(await client.get('/2fa')) ?? '', /That set-up is finished or no longer exists/);
  const replayConfirm = await client.post(url, { code: nextCode(world, shown.bytes) });
  assert.equal(replayConfirm.status, 303);

  // And the new device signs in.
  await client.post('/logout', {});
  await signedIn(world, user.email, shown.bytes);
});

test('abandoning a set-up leaves the linked devices as they were', async (t) => {
  const world = await buildWorld(t);
  const { org, user, secret, client } = await enrolledAndSignedIn(world);
  const before = await devicesOf(world, org, user.id);
  const { page } = await startLinking(client, '/2fa', 'Never finished');
  assert.match(page.body, /<a href="\/2fa">Cancel<\/a>/);
  const list = await client.get('/2fa');
  assert.ok(rowWith(list, 'Phone'));
  assert.equal(rowWith(list, 'Never finished'), null);
  const after = await devicesOf(world, org, user.id);
  assert.deepEqual(
    after.filter((d) => d.confirmedAt !== null),
    before,
  );
  // The device still signs in.
  await client.post('/logout', {});
  await signedIn(world, user.email, secret);
});

test('an unfinished set-up left for a day is cleared when the next one starts', async (t) => {
  const world = await buildWorld(t);
  const org = await makeOrganisation(world);
  const user = await makeUser(world, org);
  const client = await signedIn(world, user.email);
  await startLinking(client, '/2fa', 'Old attempt');
  world.clock.advanceMinutes(24 * 60 + 1);
  const fresh = await signedIn(world, user.email);
  await startLinking(fresh, '/2fa', 'New attempt');
  assert.deepEqual(
    (await devicesOf(world, org, user.id)).map((d) => d.name),
    ['New attempt'],
  );
});

test('removing a device asks first, then removes it when another remains', async (t) => {
  const world = await buildWorld(t);
  const { org, user, client } = await enrolledAndSignedIn(world);
  await linkDevice(world, org, user.id, 'Old phone');
  const old = (await devicesOf(world, org, user.id)).find((d) => d.name === 'Old phone');
  assert.ok(old);
  const confirm = await client.get(`/2fa/devices/${old.id}/remove`);
  assert.equal(confirm.status, 200);
  assert.match(textOf(confirm.body), /Remove Old phone ?\? It will no longer give codes/);
  assert.doesNotMatch(confirm.body, /class="warning"/);
  const removed = await client.post(`/2fa/devices/${old.id}/remove`, {});
  assert.equal(removed.status, 303);
  assert.equal(removed.location, '/2fa');
  assert.equal(flashOn(await client.get('/2fa')), 'Old phone is removed.');
  assert.deepEqual(
    (await devicesOf(world, org, user.id)).map((d) => d.name),
    ['Phone'],
  );
});

for (const [why, impose] of [
  [
    'the organisation requires it from a future date',
    (w: TestWorld, org: string) => requireEveryoneFrom(w, org, minutesFromNow(w, 60 * 24)),
  ],
  ['the organisation requires it already', (w: TestWorld, org: string) => requireEveryoneFrom(w, org, w.clock.now())],
  ['it is required of this user', (w: TestWorld, org: string, userId: string) => requireOfUser(w, org, userId)],
] as const) {
  test(`the last device cannot be removed when ${why}`, async (t) => {
    const world = await buildWorld(t);
    const { org, user, client } = await enrolledAndSignedIn(world);
    await impose(world, org, user.id);
    const [device] = await devicesOf(world, org, user.id);
    assert.ok(device);
    // The 2FA page offers no Remove for it, says why, and points to where a new one is added.
    const list = await client.get('/2fa');
    assert.doesNotMatch(list.body, /href="\/2fa\/devices\/[^"]+\/remove"/);
    assert.match(textOf(list.body), /so your only device cannot be removed\. To replace it, add the new device first/);
    elementOn(list, 'a', { href: '/2fa#add-device' });
    elementOn(list, 'h2', { id: 'add-device' });
    // Opened anyway, the confirmation page says why and offers no button that would be refused.
    const confirm = await client.get(`/2fa/devices/${device.id}/remove`);
    assert.equal(confirm.status, 200);
    assert.match(
      textOf(confirm.body),
      /Phone is your last device and your organisation requires two-factor authentication, so it cannot be removed\. To replace it, add the new device first\./,
    );
    assert.deepEqual(
      elementsOn(confirm, 'button').filter((b) => (b.class ?? '').includes('danger')),
      [],
    );
    assert.doesNotMatch(confirm.body, /action="\/2fa\/devices\/[^"]+\/remove"/);
    elementOn(confirm, 'a', { href: '/2fa#add-device' });
    const refused = await client.post(`/2fa/devices/${device.id}/remove`, {});
    assert.equal(refused.status, 303);
    assert.equal(refused.location, '/2fa');
    assert.match(
      flashOn(await client.get('/2fa')) ?? '',
      /your last device cannot be removed\. Add another device first\./,
    );
    assert.equal((await devicesOf(world, org, user.id)).length, 1);
  });
}

test('the last device can be removed when 2FA is not required, which turns it off', async (t) => {
  const world = await buildWorld(t);
  const { org, user, client } = await enrolledAndSignedIn(world);
  const [device] = await devicesOf(world, org, user.id);
  assert.ok(device);
  const confirm = await client.get(`/2fa/devices/${device.id}/remove`);
  assert.match(
    textOf(confirm.body),
    /This is your last device: removing it turns two-factor authentication off for your account\./,
  );
  const removed = await client.post(`/2fa/devices/${device.id}/remove`, {});
  assert.equal(removed.location, '/2fa');
  const page = await client.get('/2fa');
  assert.equal(flashOn(page), 'Phone is removed. Two-factor authentication is now off for your account.');
  assert.match(textOf(page.body), /You have no linked devices/);
  assert.deepEqual(await devicesOf(world, org, user.id), []);
  // The next sign-in needs the password alone.
  await client.post('/logout', {});
  await signedIn(world, user.email);
});

test("a user can neither see nor remove another user's device", async (t) => {
  const world = await buildWorld(t);
  const { org, client } = await enrolledAndSignedIn(world);
  const other = await makeUser(world, org);
  await linkDevice(world, org, other.id, 'Their phone');
  const [theirs] = await devicesOf(world, org, other.id);
  assert.ok(theirs);

  const confirm = await client.get(`/2fa/devices/${theirs.id}/remove`);
  assert.equal(confirm.status, 404);
  assert.match(textOf(confirm.body), /This device is not linked to your account/);
  assert.doesNotMatch(confirm.body, /Their phone/);
  const remove = await client.post(`/2fa/devices/${theirs.id}/remove`, {});
  assert.equal(remove.status, 404);
  assert.equal((await devicesOf(world, org, other.id)).length, 1);

  // Nor the key of a set-up they have not finished.
  const otherClient = await signedIn(world, other.email, await linkDevice(world, org, other.id, 'Second'));
  const { url } = await startLinking(otherClient, '/2fa', 'Their tablet');
  const peek = await client.get(url);
  assert.notEqual(peek.status, 200);
  assert.doesNotMatch(peek.body, /id="secret"/);
  assert.equal((await client.post(url, { code: '123456' })).status, 303);
  assert.equal((await devicesOf(world, org, other.id)).find((d) => d.name === 'Their tablet')?.confirmedAt, null);
});

test('a device id that does not exist is a 404 on the removal page', async (t) => {
  const world = await buildWorld(t);
  const { client } = await enrolledAndSignedIn(world);
  const page = await client.get('/2fa/devices/00000000-0000-0000-0000-000000000000/remove');
  assert.equal(page.status, 404);
});

test('a device name is shown as text, never as markup', async (t) => {
  const world = await buildWorld(t);
  const { client } = await enrolledAndSignedIn(world);
  const { url, page } = await startLinking(client, '/2fa', '<img src=x onerror=alert(1)>');
  assert.doesNotMatch(page.body, /<img src=x/);
  assert.match(page.body, /&lt;img src=x onerror=alert\(1\)&gt;/);
  const { bytes } = secretShownOn(page);
  await client.post(url, { code: codeAt(bytes, world.clock.now()) });
  const list = await client.get('/2fa');
  assert.doesNotMatch(list.body, /<img src=x/);
  assert.ok(rowWith(list, '&lt;img src=x onerror=alert(1)&gt;'));
});
