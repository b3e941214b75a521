// What a copy of the database gives away: no authenticator secret, password, session
// token or set-password link in any form, in the file or its write-ahead log; and a
// sealed secret opens only with the instance key, only for its own device.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { keyringOf, openSecret, WrongSecretKeyError } from '../../src/domain/secret-box.js';
import { codeAt } from '../../src/domain/totp.js';
import { buildWorld, makeOrganisation, makeUser, PASSWORD, TEST_KEY, type TestWorld } from '../helpers/app.js';
import { Browser, recoveryCodesOn, textOf } from '../helpers/browser.js';
import { fromAddress, tempDirectory } from '../helpers/security.js';
import { secretShownOn } from './support.js';

const NEW_PASSWORD = 'a very different passphrase';

function occurrences(haystack: Buffer, needle: Buffer): number {
  let count = 0;
  for (let at = haystack.indexOf(needle); at >= 0; at = haystack.indexOf(needle, at + 1)) count += 1;
  return count;
}

/** The database file and, while the app runs, its write-ahead log and index. */
function databaseBytes(path: string): { name: string; bytes: Buffer }[] {
  return [path, `${path}-wal`, `${path}-shm`]
    .filter((file) => existsSync(file))
    .map((file) => ({ name: file.slice(path.length) || 'main file', bytes: readFileSync(file) }));
}

interface Linked {
  deviceId: string;
  typed: string;
  bytes: Uint8Array;
  /** The recovery codes shown with a first device; none with another. */
  recoveryCodes: string[];
}

/** Names a device, reads its secret off the page and confirms it with a code, as a person does. */
async function linkThroughPages(world: TestWorld, browser: Browser, name: string): Promise<Linked> {
  await browser.get('/2fa');
  const started = await browser.post('/2fa/devices', { name });
  const address = started.location ?? '';
  const deviceId = /^\/2fa\/devices\/([\w-]+)$/.exec(address)?.[1];
  assert.ok(deviceId, `no device page: ${started.status} ${address}`);
  const { typed, bytes } = secretShownOn(await browser.get(address));
  world.clock.advanceMinutes(1);
  const confirmed = await browser.post(address, { code: codeAt(bytes, world.clock.now()) });
  // A first device answers with its recovery codes and a link on; another goes straight on.
  const shown = recoveryCodesOn(confirmed);
  assert.equal(shown?.continueTo ?? confirmed.location, '/2fa', textOf(confirmed.body));
  return { deviceId, typed, bytes, recoveryCodes: shown?.codes ?? [] };
}

test('the database file holds no secret in plain text, and a sealed secret needs the key', async (t) => {
  const path = join(tempDirectory(t), 'twofold.sqlite');
  const world = await buildWorld(t, { sqlitePath: path });
  const org = await makeOrganisation(world);
  const admin = await makeUser(world, org, { role: 'super_admin' });
  const colleague = await makeUser(world, org, { email: 'colleague@example.com' });

  const browser = new Browser(world.app, fromAddress());
  await browser.get('/login');
  assert.equal((await browser.post('/login', { email: admin.email, password: PASSWORD })).location, '/account');
  const tokens = [browser.cookies.get('twofold_session') ?? ''];
  const devices = [await linkThroughPages(world, browser, 'Phone'), await linkThroughPages(world, browser, 'Tablet')];

  // A new password (and with it a new session), and a set-password link for a colleague.
  await browser.get('/account/password');
  const changed = await browser.post('/account/password', {
    current: PASSWORD,
    password: NEW_PASSWORD,
    confirmation: NEW_PASSWORD,
  });
  assert.equal(changed.location, '/account');
  tokens.push(browser.cookies.get('twofold_session') ?? '');
  await browser.get(`/admin/users/${colleague.id}`);
  const issued = await browser.post(`/admin/users/${colleague.id}/password-link`, {});
  const linkToken = /\/set-password\/([\w-]+)/.exec(textOf(issued.body))?.[1];
  assert.ok(linkToken);
  assert.ok(tokens.every((token) => token.length >= 32));

  const needles: [string, Buffer][] = [
    ['the password', Buffer.from(PASSWORD)],
    ['the new password', Buffer.from(NEW_PASSWORD)],
    ...tokens.map((token, i): [string, Buffer] => [`session token ${i + 1}`, Buffer.from(token)]),
    ['the set-password link token', Buffer.from(linkToken)],
  ];
  const recoveryCodes = devices.flatMap((device) => device.recoveryCodes);
  assert.equal(recoveryCodes.length, 10, 'the first device came with ten recovery codes, the second with none');
  for (const [i, code] of recoveryCodes.entries()) {
    needles.push(
      [`recovery code ${i + 1}`, Buffer.from(code)],
      [`recovery code ${i + 1} without dashes`, Buffer.from(code.replace(/-/g, ''))],
    );
  }
  for (const [i, device] of devices.entries()) {
    const base32 = device.typed.replace(/ /g, '');
    const raw = Buffer.from(device.bytes);
    needles.push(
      [`secret ${i + 1} in base32`, Buffer.from(base32)],
      [`secret ${i + 1} in base32, lower case`, Buffer.from(base32.toLowerCase())],
      [`secret ${i + 1} as typed, with spaces`, Buffer.from(device.typed)],
      [`secret ${i + 1} as raw bytes`, raw],
      [`secret ${i + 1} in hex`, Buffer.from(raw.toString('hex'))],
      [`secret ${i + 1} in base64`, Buffer.from(raw.toString('base64'))],
      [`secret ${i + 1} in base64url`, Buffer.from(raw.toString('base64url'))],
    );
  }

  const search = (files: { name: string; bytes: Buffer }[]) => {
    const found: string[] = [];
    for (const { name, bytes } of files) {
      for (const [label, needle] of needles) if (occurrences(bytes, needle) > 0) found.push(`${label} in ${name}`);
    }
    return found;
  };
  const whileRunning = databaseBytes(path);
  // The search reads the right bytes: what is meant to be stored is found.
  assert.ok(whileRunning.some(({ bytes }) => occurrences(bytes, Buffer.from('colleague@example.com')) > 0));
  const foundWhileRunning = search(whileRunning);

  const sealed = await world.db
    .selectFrom('devices')
    .select(['id', 'sealed_secret'])
    .where('user_id', '=', admin.id)
    .execute();
  await world.close();
  const afterClose = databaseBytes(path);
  const foundAfterClose = search(afterClose);
  t.diagnostic(
    `storage: ${needles.length} secrets searched in ${whileRunning.map((f) => `${f.name} (${f.bytes.length} bytes)`).join(', ')} and again after closing: ${foundWhileRunning.length + foundAfterClose.length} occurrences`,
  );
  assert.deepEqual(foundWhileRunning, []);
  assert.deepEqual(foundAfterClose, []);

  // The stored values give the secrets back with the key, and only with it.
  const otherKey = keyringOf(randomBytes(32));
  let refusals = 0;
  for (const device of devices) {
    const row = sealed.find((r) => r.id === device.deviceId);
    assert.ok(row);
    assert.deepEqual(openSecret(keyringOf(TEST_KEY), row.sealed_secret, row.id), device.bytes);
    assert.throws(() => openSecret(otherKey, row.sealed_secret, row.id), WrongSecretKeyError);
    const elsewhere = devices.find((d) => d.deviceId !== row.id)?.deviceId ?? 'another-device';
    assert.throws(() => openSecret(keyringOf(TEST_KEY), row.sealed_secret, elsewhere), WrongSecretKeyError);
    refusals += 2;
  }
  t.diagnostic(
    `sealed secrets: ${devices.length} opened with the instance key; ${refusals} of ${refusals} attempts with another key or for another device refused`,
  );
});
