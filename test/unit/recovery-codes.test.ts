import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  getsRecoveryCodesWithDevice,
  matchingRecoveryCode,
  newRecoveryCode,
  normaliseRecoveryCode,
  recoveryCodesFile,
  storedFormOf,
} from '../../src/domain/recovery-codes.js';

test('a new code is 24 base32 letters in groups of four, 120 random bits, never the same twice', () => {
  const codes = new Set<string>();
  for (let i = 0; i < 2000; i++) {
    const code = newRecoveryCode();
    assert.match(code, /^[a-z2-7]{4}(-[a-z2-7]{4}){5}$/);
    codes.add(code);
  }
  assert.equal(codes.size, 2000);
  // Every letter of the alphabet turns up in every position: the bits are all used.
  const seen = Array.from({ length: 24 }, () => new Set<string>());
  for (const code of codes) [...code.replace(/-/g, '')].forEach((letter, i) => seen[i]?.add(letter));
  for (const position of seen) assert.equal(position.size, 32);
});

test('typing does not matter: case, spaces and dashes are ignored; anything else is not a code', () => {
  const code = newRecoveryCode();
  const plain = code.replace(/-/g, '');
  for (const typed of [code, code.toUpperCase(), plain, ` ${code.replace(/-/g, ' ')} `, plain.toUpperCase()]) {
    assert.equal(normaliseRecoveryCode(typed), plain, typed);
  }
  for (const bad of ['', '123456', plain.slice(1), `${plain}a`, plain.replace(/./, '1'), plain.replace(/./, '8')]) {
    assert.equal(normaliseRecoveryCode(bad), null, bad);
  }
});

test('a stored code matches only itself, and the salt makes equal codes store differently', () => {
  const codes = Array.from({ length: 10 }, () => newRecoveryCode());
  const stored = codes.map((code, i) => ({ id: `c${i}`, ...storedFormOf(code) }));
  codes.forEach((code, i) => {
    assert.equal(matchingRecoveryCode(stored, normaliseRecoveryCode(code) ?? '')?.id, `c${i}`);
  });
  assert.equal(matchingRecoveryCode(stored, normaliseRecoveryCode(newRecoveryCode()) ?? ''), null);
  const again = storedFormOf(codes[0] ?? '');
  assert.notEqual(again.hash, stored[0]?.hash);
  assert.ok(!stored.some((row) => row.hash.includes(codes[0]?.replace(/-/g, '') ?? '')));
});

test('no other input matches a stored code (property)', () => {
  const code = newRecoveryCode();
  const stored = [{ id: 'only', ...storedFormOf(code) }];
  const plain = normaliseRecoveryCode(code) ?? '';
  fc.assert(
    fc.property(
      fc.string({ minLength: 24, maxLength: 24, unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz234567') }),
      (other) => {
        fc.pre(other !== plain);
        assert.equal(matchingRecoveryCode(stored, other), null);
      },
    ),
  );
});

test('the download says whose codes they are, that each works once, and how to use them', () => {
  const text = recoveryCodesFile(['aaaa-bbbb'], 'ada@acme.test', 'Acme Rail', '2026-12-03 09:00 UTC');
  assert.match(text, /ada@acme\.test \(Acme Rail\)/);
  assert.match(text, /Each code works once/);
  assert.match(text, /^aaaa-bbbb$/m);
  assert.match(text, /Use a recovery code instead/);
});

test('a set comes with the first device only, and never over codes still held', () => {
  assert.equal(getsRecoveryCodesWithDevice(1, 0), true, 'the first device');
  assert.equal(getsRecoveryCodesWithDevice(2, 0), false, 'a second device');
  assert.equal(getsRecoveryCodesWithDevice(1, 4), false, 'linking again over codes still held');
  assert.equal(getsRecoveryCodesWithDevice(1, 10), false, 'linking again over a whole set');
  assert.equal(getsRecoveryCodesWithDevice(0, 0), false, 'no device');
});
