import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  atMostAtOnce,
  hashPassword,
  passwordProblem,
  PASSWORD_MAX_LENGTH,
  PASSWORD_MIN_LENGTH,
  verifyPassword,
} from '../../src/domain/passwords.js';
import { message } from '../../src/web/messages.js';

const PASSWORD = 'tulip-harbour-42';

describe('hashPassword and verifyPassword', () => {
  test('a password is stored as argon2id with m=19456, t=2, p=1', async () => {
    const stored = await hashPassword(PASSWORD);
    assert.ok(stored.startsWith('$argon2id$v=19$m=19456,t=2,p=1$'), stored);
    assert.equal(stored.includes(PASSWORD), false);
  });

  test('the same password hashed twice gives two different hashes (a fresh salt)', async () => {
    const [first, second] = await Promise.all([hashPassword(PASSWORD), hashPassword(PASSWORD)]);
    assert.notEqual(first, second);
    assert.equal(await verifyPassword(first, PASSWORD), true);
    assert.equal(await verifyPassword(second, PASSWORD), true);
  });

  test('the right password is accepted', async () => {
    assert.equal(await verifyPassword(await hashPassword(PASSWORD), PASSWORD), true);
  });

  test('a wrong password, a different case or a missing character is refused', async () => {
    const stored = await hashPassword(PASSWORD);
    assert.equal(await verifyPassword(stored, 'tulip-harbour-43'), false);
    assert.equal(await verifyPassword(stored, PASSWORD.toUpperCase()), false);
    assert.equal(await verifyPassword(stored, PASSWORD.slice(0, -1)), false);
    assert.equal(await verifyPassword(stored, ''), false);
  });

  test('passwords beyond ASCII are checked exactly', async () => {
    const stored = await hashPassword('pässwörd-日本語-🔑');
    assert.equal(await verifyPassword(stored, 'pässwörd-日本語-🔑'), true);
    assert.equal(await verifyPassword(stored, 'passwörd-日本語-🔑'), false);
  });

  test('an unknown account (no stored hash) is refused, even with the decoy password', async () => {
    assert.equal(await verifyPassword(null, PASSWORD), false);
    assert.equal(await verifyPassword(null, 'twofold decoy password, never matches'), false);
  });

  test('a damaged stored hash refuses the password instead of throwing', async () => {
    assert.equal(await verifyPassword('not a hash', PASSWORD), false);
    assert.equal(await verifyPassword('', PASSWORD), false);
  });
});

describe('passwordProblem', () => {
  test('a password of exactly the minimum length that matches its confirmation is fine', () => {
    const password = 'a'.repeat(PASSWORD_MIN_LENGTH);
    assert.equal(passwordProblem(password, password), null);
  });

  test('one character short of the minimum is too short', () => {
    const password = 'a'.repeat(PASSWORD_MIN_LENGTH - 1);
    assert.equal(passwordProblem(password, password), 'password_too_short');
    assert.equal(passwordProblem('', ''), 'password_too_short');
  });

  test('a password of exactly the maximum length is fine, one more is too long', () => {
    const longest = 'a'.repeat(PASSWORD_MAX_LENGTH);
    assert.equal(passwordProblem(longest, longest), null);
    assert.equal(passwordProblem(`${longest}a`, `${longest}a`), 'password_too_long');
  });

  test('the limits count characters as a person sees them, not UTF-16 units', () => {
    const nineEmoji = '🔑'.repeat(PASSWORD_MIN_LENGTH - 1); // 18 UTF-16 units
    assert.equal(passwordProblem(nineEmoji, nineEmoji), 'password_too_short');
    const maxEmoji = '🔑'.repeat(PASSWORD_MAX_LENGTH); // 512 UTF-16 units
    assert.equal(passwordProblem(maxEmoji, maxEmoji), null);
  });

  test('a confirmation that differs, even by one character or by case, is a mismatch', () => {
    assert.equal(passwordProblem(PASSWORD, 'tulip-harbour-43'), 'password_mismatch');
    assert.equal(passwordProblem(PASSWORD, PASSWORD.toUpperCase()), 'password_mismatch');
    assert.equal(passwordProblem(PASSWORD, ''), 'password_mismatch');
  });

  test('the length is reported before a mismatch', () => {
    assert.equal(passwordProblem('short', 'other'), 'password_too_short');
  });

  test('each problem is described with the number the user must meet', () => {
    assert.equal(message('password_too_short'), 'The password must have at least 10 characters.');
    assert.equal(message('password_too_long'), 'The password must have at most 256 characters.');
    assert.equal(message('password_mismatch'), 'The two passwords do not match.');
  });
});

describe('atMostAtOnce', () => {
  test('runs no more than its limit at once, the others in the order they came, through failures', async () => {
    const limited = atMostAtOnce(2);
    let running = 0;
    let most = 0;
    const started: number[] = [];
    const releases: (() => void)[] = [];
    const calls = Array.from({ length: 6 }, (_, index) =>
      limited(async () => {
        started.push(index);
        running += 1;
        most = Math.max(most, running);
        await new Promise<void>((resolve) => releases.push(resolve));
        running -= 1;
        if (index === 1) throw new Error('call 1 fails');
        return index;
      }),
    );
    const outcomes = Promise.allSettled(calls);
    while (started.length < 6) {
      await new Promise((resolve) => setImmediate(resolve));
      assert.ok(running <= 2, `${running} ran at once`);
      releases.shift()?.();
    }
    releases.forEach((release) => release());
    assert.equal(most, 2);
    assert.deepEqual(started, [0, 1, 2, 3, 4, 5]);
    assert.deepEqual(
      (await outcomes).map((outcome) => (outcome.status === 'fulfilled' ? outcome.value : 'failed')),
      [0, 'failed', 2, 3, 4, 5],
    );
  });
});
