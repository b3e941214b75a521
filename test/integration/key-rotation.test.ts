// Changing the secret key: secrets sealed under key A, Twofold restarted with the ring
// {current: B, previous: [A]}, `twofold key rotate` (the service, and the command's main)
// while the app keeps signing people in, and then B alone. On a real SQLite file, read back raw.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import {
  keyIdOf,
  keyringOf,
  openSecret,
  parseSecretKey,
  sealSecret,
  WrongSecretKeyError,
  type SecretKeyring,
} from '../../src/domain/secret-box.js';
import { base32Of, timeStepAt } from '../../src/domain/totp.js';
import { reencryptSecretsUnderCurrentKey, type RotationReport } from '../../src/services/key-rotation.js';
import { ensureSecretKeyMatches } from '../../src/services/secret-key.js';
import { openDatabase, type Db } from '../../src/store/db.js';
import { writeMeta } from '../../src/store/meta.js';
import { listSealedSecretsAfter, replaceSealedSecretIfUnchanged } from '../../src/store/sealed-secrets.js';
import { tenantFor } from '../../src/store/tenant.js';
import {
  buildWorld,
  frozenClock,
  linkDevice,
  makeOrganisation,
  makeUser,
  TEST_KEY,
  type TestClock,
  type TestWorld,
} from '../helpers/app.js';
import { Browser, textOf } from '../helpers/browser.js';
import { reservePort } from '../helpers/ports.js';
import { sealedAsV1 } from '../helpers/sealed-v1.js';
import { twofold } from '../helpers/twofold.js';
import { signedIn } from './support.js';

/** linkDevice seals with the test key: it is the old key here. */
const KEY_A = TEST_KEY;
const KEY_B = Buffer.alloc(32, 0x0b);
const KEY_C = Buffer.alloc(32, 0x0c);
const WRONG_KEY_LINE = 'twofold: TWOFOLD_SECRET_KEY is not the key the stored secrets were encrypted with\n';

interface Enrolled {
  email: string;
  userId: string;
  secret: Uint8Array;
}

function freshDataDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'twofold-key-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const databaseIn = (dataDir: string) => join(dataDir, 'twofold.sqlite');

/**
 * Twofold as it starts (migrations, the key check, the app) on the database file, with a
 * key ring. The clock is shared between instances: a device accepts each time step once.
 */
function startInstance(t: TestContext, path: string, keys: SecretKeyring, clock: TestClock): Promise<TestWorld> {
  return buildWorld(t, { sqlitePath: path, secretKey: keys, clock });
}

/**
 * People with devices sealed under key A, as an instance that has only ever had key A
 * leaves them: most in the current format, one in the format of the first version.
 */
async function enrolUnderKeyA(world: TestWorld): Promise<{ org: string; people: Enrolled[] }> {
  const org = await makeOrganisation(world, 'Acme');
  const people: Enrolled[] = [];
  for (const name of ['ada', 'bob', 'cy']) {
    const user = await makeUser(world, org, { email: `${name}@example.com` });
    people.push({ email: user.email, userId: user.id, secret: await linkDevice(world, org, user.id) });
  }
  const dee = await makeUser(world, org, { email: 'dee@example.com' });
  const secret = new Uint8Array(Buffer.from('dee-has-an-old-phone'));
  const deviceId = randomUUID();
  const devices = tenantFor(world.db, org).devices;
  await devices.insertUnconfirmed({
    id: deviceId,
    userId: dee.id,
    name: 'Old phone',
    sealedSecret: sealedAsV1(KEY_A, secret, deviceId),
    now: world.clock.now(),
  });
  const earlier = new Date(world.clock.now().getTime() - 10 * 60_000);
  assert.ok(await devices.acceptTimeStep(dee.id, deviceId, timeStepAt(earlier), earlier, 'enrolment'));
  people.push({ email: dee.email, userId: dee.id, secret });
  return { org, people };
}

async function storedSecrets(db: Db): Promise<{ id: string; sealed: string }[]> {
  const rows = await db.selectFrom('devices').select(['id', 'sealed_secret']).orderBy('id').execute();
  return rows.map((row) => ({ id: row.id, sealed: row.sealed_secret }));
}

/** A successful sign-in with a code from the person's authenticator. */
async function assertSignsIn(world: TestWorld, person: Enrolled): Promise<void> {
  const client = await signedIn(world, person.email, person.secret);
  const account = await client.get('/account');
  assert.equal(account.status, 200, `${person.email}: ${textOf(account.body)}`);
}

/** The database file and its write-ahead log as bytes, once every connection is closed. */
function rawDatabaseBytes(path: string): Buffer {
  return Buffer.concat([path, `${path}-wal`].filter((p) => existsSync(p)).map((p) => readFileSync(p)));
}

function assertNoSecretInTheClear(path: string, people: Enrolled[]): void {
  const raw = rawDatabaseBytes(path);
  // The search would find text: the email addresses are there in the clear.
  assert.ok(raw.includes(Buffer.from('ada@example.com')), 'the raw file was not read');
  for (const { email, secret } of people) {
    const base32 = base32Of(secret);
    assert.equal(raw.includes(Buffer.from(base32)), false, `${email}: base32 secret in the file`);
    assert.equal(raw.includes(Buffer.from(base32.toLowerCase())), false, `${email}: base32 secret in the file`);
    assert.equal(raw.includes(Buffer.from(secret)), false, `${email}: raw secret bytes in the file`);
  }
}

test('rotation re-encrypts every secret under the new key, the same secrets, while people keep signing in', async (t) => {
  const path = databaseIn(freshDataDir(t));
  const clock = frozenClock();
  const before = await startInstance(t, path, keyringOf(KEY_A), clock);
  const { org, people } = await enrolUnderKeyA(before);
  const [ada, bob] = people;
  assert.ok(ada && bob);
  // More devices for Ada, so that the rotation goes through several batches.
  const adaSpares: Uint8Array[] = [];
  for (let i = 0; i < 8; i++) adaSpares.push(await linkDevice(before, org, ada.userId, `Spare ${i}`));
  const original = new Map((await storedSecrets(before.db)).map(({ id, sealed }) => [id, sealed]));
  const secretsBefore = new Map([...original].map(([id, sealed]) => [id, openSecret(keyringOf(KEY_A), sealed, id)]));
  await before.close();

  // Step 1: restarted with the new key, the old one kept as previous.
  const ring = keyringOf(KEY_B, [KEY_A]);
  const rolling = await startInstance(t, path, ring, clock);
  await assertSignsIn(rolling, ada);
  // A device linked now is sealed with the new key already.
  const eve = await makeUser(rolling, org, { email: 'eve@example.com' });
  const eveDeviceId = randomUUID();
  const eveSecret = new Uint8Array(Buffer.from('eve-links-after-step1'));
  await tenantFor(rolling.db, org).devices.insertUnconfirmed({
    id: eveDeviceId,
    userId: eve.id,
    name: 'Phone',
    sealedSecret: sealSecret(ring.current, eveSecret, eveDeviceId),
    now: clock.now(),
  });

  // Step 2, in-process, in batches of 3; people sign in between batches.
  const progress: RotationReport[] = [];
  const report = await reencryptSecretsUnderCurrentKey(rolling.db, ring, {
    batchSize: 3,
    afterBatch: async (soFar) => {
      progress.push(soFar);
      if (progress.length !== 1) return;
      const kinds = new Set((await storedSecrets(rolling.db)).map(({ sealed }) => sealed.split('.')[1]));
      assert.ok(kinds.has(keyIdOf(KEY_A)) && kinds.has(keyIdOf(KEY_B)), 'half-way, both keys are in use');
      for (const person of people) await assertSignsIn(rolling, person);
    },
  });
  await assertSignsIn(rolling, bob);

  assert.deepEqual(report, { reencrypted: 12, alreadyCurrent: 1, unreadable: 0 });
  assert.equal(progress.length, Math.ceil(13 / 3), 'one progress report per batch');
  const after = await storedSecrets(rolling.db);
  assert.equal(after.length, 13);
  for (const { id, sealed } of after) {
    assert.ok(sealed.startsWith(`v2.${keyIdOf(KEY_B)}.`), `${id}: ${sealed.slice(0, 20)}`);
    const expected = id === eveDeviceId ? eveSecret : secretsBefore.get(id);
    assert.deepEqual(openSecret(keyringOf(KEY_B), sealed, id), expected, 'the secret itself is unchanged');
    if (id !== eveDeviceId) assert.notEqual(sealed, original.get(id));
  }
  const eveSealed = after.find(({ id }) => id === eveDeviceId)?.sealed;
  assert.ok(eveSealed?.startsWith(`v2.${keyIdOf(KEY_B)}.`));

  const again = await reencryptSecretsUnderCurrentKey(rolling.db, ring, { batchSize: 3 });
  assert.deepEqual(again, { reencrypted: 0, alreadyCurrent: 13, unreadable: 0 }, 'a second run changes nothing');
  assert.deepEqual(await storedSecrets(rolling.db), after);
  await rolling.close();

  // Step 3: the new key alone.
  const afterwards = await startInstance(t, path, keyringOf(KEY_B), clock);
  for (const person of people) await assertSignsIn(afterwards, person);
  await afterwards.close();
  assertNoSecretInTheClear(path, [...people, ...adaSpares.map((secret) => ({ ...ada, secret }))]);
});

test('twofold key rotate, run while the app serves, on a database written before keys had ids', async (t) => {
  const dataDir = freshDataDir(t);
  const path = databaseIn(dataDir);
  const clock = frozenClock();
  const before = await startInstance(t, path, keyringOf(KEY_A), clock);
  const { people } = await enrolUnderKeyA(before);
  // The key check as the first version wrote it.
  await writeMeta(
    before.db,
    'secret_key_check',
    sealedAsV1(KEY_A, new TextEncoder().encode('twofold secret key check'), 'secret_key_check'),
  );
  await before.close();

  const serving = await startInstance(t, path, keyringOf(KEY_B, [KEY_A]), clock);
  for (const person of people) await assertSignsIn(serving, person);
  const env = {
    TWOFOLD_DATA_DIR: dataDir,
    TWOFOLD_SECRET_KEY: KEY_B.toString('base64'),
    TWOFOLD_PREVIOUS_SECRET_KEYS: ` ${KEY_C.toString('hex')}, ${KEY_A.toString('hex')} `,
  };

  const first = await twofold(['key', 'rotate'], { env });
  assert.equal(first.code, 0, first.stderr);
  assert.equal(first.stderr, '');
  assert.match(first.stdout, /Re-encrypted 4 authenticator secrets under the current key; 0 already used it\./);
  assert.match(first.stdout, /you can remove the old key from TWOFOLD_PREVIOUS_SECRET_KEYS/);
  // Same app, same process, same open database: sign-ins go on.
  for (const person of people) await assertSignsIn(serving, person);
  for (const { sealed } of await storedSecrets(serving.db)) assert.ok(sealed.startsWith(`v2.${keyIdOf(KEY_B)}.`));

  const second = await twofold(['key', 'rotate'], { env });
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stdout, /Re-encrypted 0 authenticator secrets under the current key; 4 already used it\./);
  await serving.close();

  const onlyB = await twofold(['key', 'rotate'], {
    env: {
      TWOFOLD_DATA_DIR: dataDir,
      TWOFOLD_SECRET_KEY: KEY_B.toString('hex'),
      TWOFOLD_PREVIOUS_SECRET_KEYS: KEY_C.toString('hex'),
    },
  });
  assert.equal(onlyB.code, 0, `the key check now opens with the new key: ${onlyB.stderr}`);
  const afterwards = await startInstance(t, path, keyringOf(KEY_B), clock);
  for (const person of people) await assertSignsIn(afterwards, person);
  await afterwards.close();
  assertNoSecretInTheClear(path, people);
});

test('a secret no configured key opens is counted and left alone, and the old key stays required', async (t) => {
  const dataDir = freshDataDir(t);
  const path = databaseIn(dataDir);
  const clock = frozenClock();
  const before = await startInstance(t, path, keyringOf(KEY_A), clock);
  await enrolUnderKeyA(before);
  const [first] = await storedSecrets(before.db);
  assert.ok(first);
  const stray = sealSecret(KEY_C, new Uint8Array(20), first.id);
  await before.db.updateTable('devices').set({ sealed_secret: stray }).where('id', '=', first.id).execute();
  await before.close();

  const run = await twofold(['key', 'rotate'], {
    env: {
      TWOFOLD_DATA_DIR: dataDir,
      TWOFOLD_SECRET_KEY: KEY_B.toString('hex'),
      TWOFOLD_PREVIOUS_SECRET_KEYS: KEY_A.toString('hex'),
    },
  });

  assert.equal(run.code, 1, run.stderr);
  assert.match(run.stdout, /Re-encrypted 3 authenticator secrets under the current key; 0 already used it\./);
  assert.doesNotMatch(run.stdout, /remove the old key/);
  assert.equal(run.stderr.split('\n').length, 2, `one line: ${run.stderr}`);
  assert.match(
    run.stderr,
    /^twofold: 1 authenticator secret opened with none of the configured keys and was left as it was\./,
  );
  assert.match(run.stderr, /Keep the old key/);

  const db = openDatabase({ kind: 'sqlite', path });
  t.after(() => db.destroy());
  const stored = await storedSecrets(db);
  assert.equal(stored.find(({ id }) => id === first.id)?.sealed, stray, 'the unreadable secret is untouched');
  assert.equal(stored.filter(({ sealed }) => sealed.startsWith(`v2.${keyIdOf(KEY_B)}.`)).length, 3);
  // The key check still needs the old key: dropping it now would be refused at start-up.
  await assert.rejects(ensureSecretKeyMatches(db, keyringOf(KEY_B)), WrongSecretKeyError);
  await ensureSecretKeyMatches(db, keyringOf(KEY_B, [KEY_A]));
});

test('started with only the new key on a database sealed with the old one, Twofold refuses in one line', async (t) => {
  const dataDir = freshDataDir(t);
  const path = databaseIn(dataDir);
  const clock = frozenClock();
  const before = await startInstance(t, path, keyringOf(KEY_A), clock);
  await enrolUnderKeyA(before);
  await before.close();
  // Were it to start, it would serve until a signal: the test sends one after a minute, and
  // then fails on the exit code, 0, instead of waiting forever.
  const port = String(await reservePort());
  const serve = async (previous?: Buffer) => {
    const signals = new EventEmitter();
    const stop = setTimeout(() => signals.emit('SIGTERM', 'SIGTERM'), 60_000);
    try {
      return await twofold(['serve'], {
        env: {
          TWOFOLD_DATA_DIR: dataDir,
          PORT: port,
          TWOFOLD_SECRET_KEY: KEY_B.toString('base64'),
          ...(previous ? { TWOFOLD_PREVIOUS_SECRET_KEYS: previous.toString('base64') } : {}),
        },
        signals,
      });
    } finally {
      clearTimeout(stop);
    }
  };

  const onlyB = await serve();
  assert.equal(onlyB.code, 1);
  assert.equal(onlyB.stderr, WRONG_KEY_LINE);

  // An instance restarted with both keys (step 1) starts; the old key is still needed after
  // that, until the rotation has run: the start-up check does not move to the new key alone.
  const rolling = await startInstance(t, path, keyringOf(KEY_B, [KEY_A]), clock);
  await rolling.close();
  const stillOnlyB = await serve();
  assert.equal(stillOnlyB.code, 1);
  assert.equal(stillOnlyB.stderr, WRONG_KEY_LINE);
});

test('key rotate wants the old key, and a malformed one is a one-line configuration error that names no key', async (t) => {
  const parent = freshDataDir(t);
  const dataDir = join(parent, 'data');

  const missing = await twofold(['key', 'rotate'], {
    env: {
      TWOFOLD_DATA_DIR: dataDir,
      TWOFOLD_SECRET_KEY: KEY_B.toString('hex'),
    },
  });
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /^twofold: Set TWOFOLD_PREVIOUS_SECRET_KEYS to the old key/i);
  assert.match(missing.stderr, /See "twofold key rotate --help"\.\n$/);
  assert.equal(existsSync(dataDir), false, 'the refusal touched no data');

  const bad = `${KEY_A.toString('hex')},not-a-key-${KEY_C.toString('hex').slice(0, 20)}`;
  const malformed = await twofold(['key', 'rotate'], {
    env: {
      TWOFOLD_DATA_DIR: dataDir,
      TWOFOLD_SECRET_KEY: KEY_B.toString('hex'),
      TWOFOLD_PREVIOUS_SECRET_KEYS: bad,
    },
  });
  assert.equal(malformed.code, 1);
  assert.equal(
    malformed.stderr,
    'twofold: TWOFOLD_PREVIOUS_SECRET_KEYS: key 2 must be 32 bytes, as 64 hex digits or base64 (keys separated by commas)\n',
  );
  assert.equal(existsSync(dataDir), false, 'a refused configuration generates no key file');
});

test('key help explains the procedure, and key generate prints a new key each time', async () => {
  const env = { TWOFOLD_DATA_DIR: join(tmpdir(), `twofold-never-${randomUUID()}`) };
  const [group, rotate, top, one, two] = await Promise.all([
    twofold(['key', '--help'], { env }),
    twofold(['key', 'rotate', '--help'], { env }),
    twofold(['--help'], { env }),
    twofold(['key', 'generate'], { env }),
    twofold(['key', 'generate'], { env }),
  ]);
  assert.equal(group.code, 0);
  assert.match(group.stdout, /rotate/);
  assert.match(group.stdout, /generate/);
  assert.equal(rotate.code, 0);
  for (const fragment of [
    'TWOFOLD_SECRET_KEY',
    'TWOFOLD_PREVIOUS_SECRET_KEYS',
    'restart the instances',
    'one by one',
    'Run "twofold key rotate" once',
    'Remove the old key',
  ]) {
    assert.ok(rotate.stdout.includes(fragment), `"${fragment}" in: ${rotate.stdout}`);
  }
  assert.match(top.stdout, /key rotate/);
  assert.match(top.stdout, /TWOFOLD_PREVIOUS_SECRET_KEYS/);
  for (const run of [one, two]) {
    assert.equal(run.code, 0, run.stderr);
    assert.equal(parseSecretKey(run.stdout)?.length, 32, run.stdout);
  }
  assert.notEqual(one.stdout, two.stdout);
  assert.equal(existsSync(env.TWOFOLD_DATA_DIR), false);
});

test('a form opened before the key changed is still accepted after it, but not once the old key is gone', async (t) => {
  const clock = frozenClock();
  const oldOnly = await startInstance(t, ':memory:', keyringOf(KEY_A), clock);
  const rolling = await startInstance(t, ':memory:', keyringOf(KEY_B, [KEY_A]), clock);
  const newOnly = await startInstance(t, ':memory:', keyringOf(KEY_B), clock);

  const opened = new Browser(oldOnly.app);
  await opened.get('/login');
  assert.ok(opened.csrf);
  // The same browser, with its cookies and the form it read, sending the form to another instance.
  const post = (world: TestWorld) => {
    const there = new Browser(world.app);
    for (const [name, value] of opened.cookies) there.cookies.set(name, value);
    return there.post('/login', { email: 'nobody@example.com', password: 'not the password' }, { csrf: opened.csrf });
  };

  const accepted = await post(rolling);
  assert.equal(accepted.status, 401, 'the form was read: a wrong password, not an expired form');
  const refused = await post(newOnly);
  assert.equal(refused.status, 403);
  assert.match(textOf(refused.body), /This form has expired/);
});

test('the store lists every device once in batches, and a stale replacement never overwrites', async (t) => {
  const clock = frozenClock();
  const world = await startInstance(t, ':memory:', keyringOf(KEY_A), clock);
  await enrolUnderKeyA(world);
  const all = await storedSecrets(world.db);

  const seen: string[] = [];
  let after: string | null = null;
  for (;;) {
    const batch = await listSealedSecretsAfter(world.db, after, 3);
    seen.push(...batch.map((row) => row.deviceId));
    const last = batch.at(-1);
    if (last === undefined) break;
    after = last.deviceId;
  }
  assert.deepEqual(
    seen,
    all.map(({ id }) => id),
  );

  const [device] = all;
  assert.ok(device);
  const changedMeanwhile = sealSecret(KEY_A, new Uint8Array(20).fill(1), device.id);
  assert.equal(await replaceSealedSecretIfUnchanged(world.db, device.id, device.sealed, changedMeanwhile), true);
  assert.equal(await replaceSealedSecretIfUnchanged(world.db, device.id, device.sealed, 'v2.stale'), false);
  assert.equal((await storedSecrets(world.db)).find(({ id }) => id === device.id)?.sealed, changedMeanwhile);
  assert.equal(await replaceSealedSecretIfUnchanged(world.db, 'no-such-device', device.sealed, 'x'), false);
});
