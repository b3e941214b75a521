// Second-factor codes under attack: one code sent fifty times at once, codes of past time
// steps, an attacker who knows the password guessing for thirty days as fast as allowed,
// the lock and what the user and the admin see of it, and malformed input.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { codeGate, guessingOdds, LOCK_EVERY_FAILURES } from '../../src/domain/code-attempts.js';
import { codeAt, TOTP_PERIOD_SECONDS } from '../../src/domain/totp.js';
import { tenantFor } from '../../src/store/tenant.js';
import { buildWorld, linkDevice, makeOrganisation, makeUser, PASSWORD, type TestWorld } from '../helpers/app.js';
import { Browser, recoveryCodesOn, type Page, textOf } from '../helpers/browser.js';
import { fromAddress, seedSession } from '../helpers/security.js';
import { atCodeStep, auditEntriesAbout, problemOn, secretShownOn } from './support.js';

const PARALLEL = 50;
const DAY_MS = 24 * 60 * 60_000;

/** The flash message a redirect carries (signed: "message.signature", URL-encoded). */
function flashOf(answer: Page): string | null {
  const line = answer.setCookies.find((l) => l.startsWith('twofold_flash='));
  if (line === undefined) return null;
  const raw = decodeURIComponent(line.split(';')[0]?.slice('twofold_flash='.length) ?? '');
  return raw.slice(0, raw.lastIndexOf('.'));
}

async function enrolledUser(world: TestWorld, role: 'user' | 'admin' = 'user') {
  const org = await makeOrganisation(world);
  const user = await makeUser(world, org, { role });
  const secret = await linkDevice(world, org, user.id);
  return { org, user, secret, tenant: tenantFor(world.db, org) };
}

/** A code that none of the steps around `at` (nor the 5 minutes before) would accept. */
function wrongCodeAt(secret: Uint8Array, at: Date, seed: number): string {
  const taken = new Set<string>();
  for (let step = -11; step <= 1; step += 1) {
    taken.add(codeAt(secret, new Date(at.getTime() + step * TOTP_PERIOD_SECONDS * 1000)));
  }
  for (let n = seed; ; n += 1) {
    const code = String((n * 7919) % 1_000_000).padStart(6, '0');
    if (!taken.has(code)) return code;
  }
}

test(`one valid code sent by ${PARALLEL} pending logins at once signs in exactly one`, async (t) => {
  const world = await buildWorld(t);
  const { user, secret, tenant } = await enrolledUser(world);
  const browsers = await Promise.all(
    Array.from({ length: PARALLEL }, (_, i) => atCodeStep(world, user.email, `198.51.100.${i + 1}`)),
  );
  const code = codeAt(secret, world.clock.now());
  const answers = await Promise.all(browsers.map((b) => b.post('/login/code', { code })));
  const signedIn = answers.filter((a) => a.status === 303 && a.location === '/account');
  // Every other copy is told the truth: the code was already used (not "too many wrong
  // codes"; copies of a right code are no guesses), and none counts against the person.
  const replayed = answers.filter((a) => a.status === 400 && /already been used/.test(problemOn(a)));
  t.diagnostic(`login replay: ${signedIn.length} of ${PARALLEL} simultaneous submissions of one code succeeded`);
  assert.equal(signedIn.length, 1);
  assert.equal(replayed.length, PARALLEL - 1, answers.map((a) => `${a.status} ${problemOn(a)}`).join('\n'));
  const sessions = await world.db.selectFrom('sessions').select('stage').where('user_id', '=', user.id).execute();
  assert.equal(sessions.filter((s) => s.stage === 'signed_in').length, 1);
  const attempts = await tenant.users.codeAttemptsOf(user.id);
  assert.equal(attempts.failures, 0);
  assert.equal(attempts.nextTryAt, null);
});

test(`one code sent ${PARALLEL} times at once confirms a new device once, and cannot then sign in`, async (t) => {
  const world = await buildWorld(t);
  const org = await makeOrganisation(world);
  const user = await makeUser(world, org);
  const browser = new Browser(world.app, fromAddress());
  await browser.get('/login');
  assert.equal((await browser.post('/login', { email: user.email, password: PASSWORD })).location, '/account');
  await browser.get('/2fa');
  const started = await browser.post('/2fa/devices', { name: 'Phone' });
  assert.match(started.location ?? '', /^\/2fa\/devices\/[\w-]+$/);
  const page = await browser.get(started.location ?? '');
  const { bytes } = secretShownOn(page);
  const code = codeAt(bytes, world.clock.now());
  const answers = await Promise.all(
    Array.from({ length: PARALLEL }, () => browser.post(started.location ?? '', { code })),
  );
  // A first device: the one confirmation that succeeds answers with its recovery codes.
  const linked = answers.filter((a) => recoveryCodesOn(a) !== null);
  t.diagnostic(`device confirmation replay: ${linked.length} of ${PARALLEL} simultaneous confirmations succeeded`);
  assert.equal(linked.length, 1);
  assert.match(textOf(linked[0]?.body ?? ''), /Phone is linked\./);
  assert.equal(await auditEntriesAbout(world, user.id, 'device_added'), 1);
  assert.equal(await auditEntriesAbout(world, user.id, 'recovery_codes_generated'), 1, 'one set of codes');
  assert.equal(await tenantFor(world.db, org).recoveryCodes.countUnused(user.id), 10);
  for (const answer of answers) assert.ok(answer.status < 500);

  // The same code, at once, on the login path: this time step is spent.
  await browser.post('/logout', {});
  const again = await atCodeStep(world, user.email);
  const login = await again.post('/login/code', { code });
  assert.equal(login.status, 400);
  assert.match(problemOn(login), /already been used/);
});

test(`one code sent ${PARALLEL} times at once confirms identity (step-up) once`, async (t) => {
  const world = await buildWorld(t);
  const { org, user, secret } = await enrolledUser(world);
  const browser = new Browser(world.app, fromAddress());
  browser.cookies.set(
    'twofold_session',
    await seedSession(world, org, user.id, 'signed_in', { verifiedMinutesAgo: 11 }),
  );
  const asked = await browser.get('/2fa/devices/x/remove');
  assert.equal(asked.location, '/confirm-identity?next=%2F2fa%2Fdevices%2Fx%2Fremove');
  await browser.get('/confirm-identity?next=/2fa');
  const code = codeAt(secret, world.clock.now());
  const answers = await Promise.all(
    Array.from({ length: PARALLEL }, () =>
      browser.post('/confirm-identity', { password: PASSWORD, code, next: '/2fa' }),
    ),
  );
  const confirmed = answers.filter((a) => a.status === 303 && a.location === '/2fa');
  // The others are refused: as replays, or, being simultaneous, told to wait their turn
  // (for the code, or for the password that comes with it).
  const refused = answers.filter(
    (a) =>
      (a.status === 400 && /already been used/.test(problemOn(a))) ||
      (a.status === 429 && /Wait until|Try again after/.test(problemOn(a))),
  );
  t.diagnostic(`step-up replay: ${confirmed.length} of ${PARALLEL} simultaneous confirmations succeeded`);
  assert.equal(confirmed.length, 1);
  assert.equal(refused.length, PARALLEL - 1);
});

test(`${PARALLEL} different wrong codes sent at once are checked no more often than one by one`, async (t) => {
  const world = await buildWorld(t);
  const { user, secret, tenant } = await enrolledUser(world);
  const browsers: Browser[] = [];
  for (let i = 0; i < PARALLEL; i += 1) browsers.push(await atCodeStep(world, user.email, `198.51.100.${i + 1}`));
  const now = world.clock.now();
  const answers = await Promise.all(
    browsers.map((b, i) => b.post('/login/code', { code: wrongCodeAt(secret, now, 1000 + i * 13) })),
  );
  for (const answer of answers) assert.ok(answer.status === 400 || answer.status === 429, String(answer.status));
  // Every code that was checked, and only those, is counted against the user.
  const { failures: checked, lockedUntil } = await tenant.users.codeAttemptsOf(user.id);
  const refused = answers.filter((a) => a.status === 429).length;
  t.diagnostic(
    `code burst: ${checked} of ${PARALLEL} simultaneous wrong codes checked, ${refused} told to wait; locked: ${lockedUntil !== null}`,
  );
  // One by one, the same instant allows two free failures and a third that starts the wait.
  assert.ok(checked <= 3, `${checked} checked`);
  if (checked >= LOCK_EVERY_FAILURES) assert.notEqual(lockedUntil, null, `${checked} failures and no lock`);
});

test('after a code is accepted, codes of that time step or earlier ones are refused; the next step is not', async (t) => {
  const world = await buildWorld(t);
  const { user, secret } = await enrolledUser(world);
  const now = world.clock.now();
  const at = (steps: number) => codeAt(secret, new Date(now.getTime() + steps * TOTP_PERIOD_SECONDS * 1000));
  const first = await atCodeStep(world, user.email);
  assert.equal((await first.post('/login/code', { code: at(0) })).location, '/account');

  const second = await atCodeStep(world, user.email);
  const refused: string[] = [];
  for (const [label, code] of [
    ['the same step', at(0)],
    ['one step earlier (still inside the window)', at(-1)],
  ] as const) {
    const answer = await second.post('/login/code', { code });
    assert.equal(answer.status, 400, label);
    assert.match(problemOn(answer), /already been used/, label);
    refused.push(label);
  }
  const later = await second.post('/login/code', { code: at(1) });
  assert.equal(later.location, '/account');
  t.diagnostic(`time steps: ${refused.length} codes of an equal or earlier step refused, the next step accepted`);
});

test('an attacker who knows the password, guessing as fast as allowed for 30 days, is checked at most guessingOdds(30) times', async (t) => {
  const world = await buildWorld(t);
  const { org, user, secret, tenant } = await enrolledUser(world);
  const start = world.clock.now().getTime();
  const horizon = start + 30 * DAY_MS;
  const expected = guessingOdds(30);

  let checked = 0;
  let successes = 0;
  let logins = 0;
  let refusedUnchecked = 0;
  let browser: Browser | null = null;
  for (let loop = 0; loop < 5 * expected.attempts; loop += 1) {
    // Wait to the very moment the next try is allowed.
    const gate = codeGate(await tenant.users.codeAttemptsOf(user.id), world.clock.now());
    if (!gate.open) world.clock.set(gate.until);
    if (world.clock.now().getTime() > horizon) break;
    if (browser === null) {
      logins += 1;
      browser = await atCodeStep(world, user.email, `10.${Math.floor(logins / 250)}.${logins % 250}.1`);
    }
    const code = wrongCodeAt(secret, world.clock.now(), checked + 1);
    const answer: Page = await browser.post('/login/code', { code });
    const problem = problemOn(answer);
    if (answer.status === 303 && answer.location === '/account') {
      successes += 1;
    } else if (answer.status === 400 && /not right|expired/.test(problem)) {
      checked += 1;
    } else if (answer.status === 429 && /locked until/.test(problem)) {
      // This wrong code was checked and counted, and brought the lock.
      checked += 1;
    } else if (answer.status === 303 && answer.location === '/login') {
      // Five wrong codes end the login (that fifth was checked); an expired login was not.
      if (/Too many wrong codes/.test(flashOf(answer) ?? '')) checked += 1;
      browser = null;
    } else {
      refusedUnchecked += 1;
      assert.fail(`unexpected answer ${answer.status} ${answer.location ?? ''}: ${problem}`);
    }
  }
  const attempts = await tenant.users.codeAttemptsOf(user.id);
  const failedEvents = await world.db
    .selectFrom('audit_events')
    .select('id')
    .where('organisation_id', '=', org)
    .where('action', '=', 'code_failed')
    .execute();
  t.diagnostic(
    `brute force over 30 simulated days: ${checked} codes checked (guessingOdds(30): ${expected.attempts}, chance ${(expected.chance * 100).toFixed(3)}%), ${successes} successes, ${logins} password logins restarted from ${logins} addresses`,
  );
  assert.equal(successes, 0);
  assert.equal(refusedUnchecked, 0);
  assert.equal(attempts.failures, checked, 'every checked code is counted against the user');
  assert.equal(failedEvents.length, checked, 'every checked code is in the audit log');
  assert.ok(checked <= expected.attempts, `${checked} checked > ${expected.attempts}`);
  assert.ok(checked >= expected.attempts - LOCK_EVERY_FAILURES, 'the simulation did not try as fast as allowed');
});

test('the 10th wrong code in a row locks the second factor across sessions and addresses, and a super admin (not an admin) can unlock it', async (t) => {
  const world = await buildWorld(t);
  const { org, user, secret, tenant } = await enrolledUser(world);
  const waitForGate = async () => {
    const gate = codeGate(await tenant.users.codeAttemptsOf(user.id), world.clock.now());
    if (!gate.open) world.clock.set(gate.until);
  };

  let browser = await atCodeStep(world, user.email, '203.0.113.1');
  let last: Page | null = null;
  for (let failure = 1; failure <= LOCK_EVERY_FAILURES; failure += 1) {
    await waitForGate();
    if (failure === 6) browser = await atCodeStep(world, user.email, '203.0.113.2');
    last = await browser.post('/login/code', { code: wrongCodeAt(secret, world.clock.now(), failure) });
    const lockedUntil = (await tenant.users.codeAttemptsOf(user.id)).lockedUntil;
    if (failure < LOCK_EVERY_FAILURES) assert.equal(lockedUntil, null, `locked after ${failure} failures`);
  }
  assert.ok(last);
  assert.equal(last.status, 429);
  assert.match(problemOn(last), /locked until/);
  const lockedUntil = (await tenant.users.codeAttemptsOf(user.id)).lockedUntil;
  assert.ok(lockedUntil !== null);
  t.diagnostic(
    `lock: after failure ${LOCK_EVERY_FAILURES}, for ${(lockedUntil.getTime() - world.clock.now().getTime()) / 60_000} minutes`,
  );

  // A new login, from another address, with the right code: still locked, and told so.
  world.clock.advanceMinutes(1);
  const elsewhere = await atCodeStep(world, user.email, '192.0.2.99');
  const refused = await elsewhere.post('/login/code', { code: codeAt(secret, world.clock.now()) });
  assert.equal(refused.status, 429);
  assert.match(problemOn(refused), /locked until/);
  assert.equal((await tenant.users.codeAttemptsOf(user.id)).failures, LOCK_EVERY_FAILURES);

  // An admin sees it on the user's page but may not lift it: that would give a guesser new tries.
  const admin = await makeUser(world, org, { role: 'admin' });
  const adminBrowser = new Browser(world.app, fromAddress('192.0.2.200'));
  adminBrowser.cookies.set('twofold_session', await seedSession(world, org, admin.id, 'signed_in'));
  const adminsView = await adminBrowser.get(`/admin/users/${user.id}`);
  assert.match(textOf(adminsView.body), /Second factor locked until/);
  assert.match(textOf(adminsView.body), /Only a super admin can unlock it sooner\./);
  assert.doesNotMatch(adminsView.body, /unlock-2fa/);
  assert.equal((await adminBrowser.post(`/admin/users/${user.id}/unlock-2fa`, {})).status, 403);
  assert.equal((await tenant.users.codeAttemptsOf(user.id)).failures, LOCK_EVERY_FAILURES);

  // A super admin sees it too, and unlocks.
  const superAdmin = await makeUser(world, org, { role: 'super_admin' });
  const superAdminBrowser = new Browser(world.app, fromAddress('192.0.2.201'));
  superAdminBrowser.cookies.set('twofold_session', await seedSession(world, org, superAdmin.id, 'signed_in'));
  const userPage = await superAdminBrowser.get(`/admin/users/${user.id}`);
  assert.match(textOf(userPage.body), /Second factor locked until/);
  const unlocked = await superAdminBrowser.post(`/admin/users/${user.id}/unlock-2fa`, {});
  assert.equal(unlocked.location, `/admin/users/${user.id}`);
  assert.deepEqual(await tenant.users.codeAttemptsOf(user.id), {
    failures: 0,
    lastFailureAt: null,
    lockedUntil: null,
    nextTryAt: null,
  });

  const restored = await elsewhere.post('/login/code', { code: codeAt(secret, world.clock.now()) });
  assert.equal(restored.location, '/account');
});

test('a right code clears the count of wrong ones', async (t) => {
  const world = await buildWorld(t);
  const { user, secret, tenant } = await enrolledUser(world);
  const browser = await atCodeStep(world, user.email);
  for (let failure = 1; failure <= 3; failure += 1) {
    const gate = codeGate(await tenant.users.codeAttemptsOf(user.id), world.clock.now());
    if (!gate.open) world.clock.set(gate.until);
    assert.equal(
      (await browser.post('/login/code', { code: wrongCodeAt(secret, world.clock.now(), failure) })).status,
      400,
    );
  }
  // Three in a row: the next try must wait.
  assert.equal((await browser.post('/login/code', { code: '000000' })).status, 429);
  world.clock.advanceMinutes(1);
  assert.equal((await browser.post('/login/code', { code: codeAt(secret, world.clock.now()) })).location, '/account');
  assert.equal((await tenant.users.codeAttemptsOf(user.id)).failures, 0);

  // Counted from nought again: the next two wrong codes wait for nothing.
  world.clock.advanceMinutes(1);
  const again = await atCodeStep(world, user.email);
  for (let failure = 1; failure <= 2; failure += 1) {
    assert.equal(
      (await again.post('/login/code', { code: wrongCodeAt(secret, world.clock.now(), 50 + failure) })).status,
      400,
    );
  }
  t.diagnostic('after a right code: 0 wrong codes remembered, the next 2 wrong codes answered at once');
});

const MALFORMED = ['12345', '1234567', '١٢٣٤٥٦', '12a456', ' ', '123-456', '+12345', 'x'.repeat(10 * 1024)];

test('a code with a space between its groups is accepted; anything but six digits is a clear 400 on every path', async (t) => {
  const world = await buildWorld(t);
  const { org, user, secret, tenant } = await enrolledUser(world);
  let answered = 0;
  const expectClear = (answer: Page, input: string, path: string) => {
    answered += 1;
    const label = `${path}: ${JSON.stringify(input.slice(0, 12))}`;
    assert.equal(answer.status, 400, label);
    assert.match(textOf(answer.body), /Enter the 6-digit code|The form was not sent as expected/, label);
  };

  const login = await atCodeStep(world, user.email);
  for (const input of MALFORMED) expectClear(await login.post('/login/code', { code: input }), input, 'login');

  const signedIn = new Browser(world.app, fromAddress());
  signedIn.cookies.set('twofold_session', await seedSession(world, org, user.id, 'signed_in'));
  await signedIn.get('/2fa');
  const device = (await signedIn.post('/2fa/devices', { name: 'Tablet' })).location ?? '';
  await signedIn.get(device);
  for (const input of MALFORMED)
    expectClear(await signedIn.post(device, { code: input }), input, 'device confirmation');
  for (const input of MALFORMED) {
    const answer = await signedIn.post('/confirm-identity', { password: PASSWORD, code: input, next: '/2fa' });
    expectClear(answer, input, 'step-up');
  }
  // None of them was a guess: nothing is counted against the user.
  assert.equal((await tenant.users.codeAttemptsOf(user.id)).failures, 0);

  const code = codeAt(secret, world.clock.now());
  const spaced = await login.post('/login/code', { code: `${code.slice(0, 3)} ${code.slice(3)}` });
  assert.equal(spaced.location, '/account');
  t.diagnostic(
    `code input: ${answered} malformed codes on 3 paths answered 400 (0 answered 5xx, 0 counted as guesses); "123 456" accepted`,
  );
});
