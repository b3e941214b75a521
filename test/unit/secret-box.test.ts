import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import {
  newSecretKeyText,
  openSecret,
  parseSecretKey,
  sealSecret,
  SECRET_KEY_BYTES,
  WrongSecretKeyError,
} from '../../src/domain/secret-box.js';

const KEY = Buffer.from('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', 'hex');
const OTHER_KEY = Buffer.from('ff0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', 'hex');
const TOTP_SECRET = new Uint8Array(Buffer.from('12345678901234567890', 'latin1'));
const DEVICE_ID = 'device-4f1c';

/** The sealed text with one byte of its decoded payload changed. */
function withByteFlipped(sealed: string, index: number): string {
  const [version, payload] = sealed.split('.');
  const raw = Buffer.from(payload ?? '', 'base64url');
  raw[index] = (raw[index] ?? 0) ^ 0x01;
  return `${version}.${raw.toString('base64url')}`;
}

describe('sealSecret and openSecret', () => {
  test('a sealed authenticator secret opens to the same bytes with the same key and device', () => {
    const sealed = sealSecret(KEY, TOTP_SECRET, DEVICE_ID);
    assert.deepEqual(openSecret(KEY, sealed, DEVICE_ID), TOTP_SECRET);
  });

  test('any secret, bound to any id, round-trips', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), fc.string(), (secret, id) => {
        assert.deepEqual(openSecret(KEY, sealSecret(KEY, secret, id), id), secret);
      }),
    );
  });

  test('the stored text is versioned and does not contain the secret in the clear', () => {
    const sealed = sealSecret(KEY, TOTP_SECRET, DEVICE_ID);
    assert.match(sealed, /^v1\.[A-Za-z0-9_-]+$/);
    const raw = Buffer.from(sealed.slice(3), 'base64url');
    assert.equal(raw.length, 12 + TOTP_SECRET.length + 16);
    assert.equal(raw.includes(Buffer.from(TOTP_SECRET)), false);
  });

  test('sealing the same secret twice gives different texts (a fresh nonce each time)', () => {
    assert.notEqual(sealSecret(KEY, TOTP_SECRET, DEVICE_ID), sealSecret(KEY, TOTP_SECRET, DEVICE_ID));
  });

  test('opening with another key throws WrongSecretKeyError instead of returning garbage', () => {
    const sealed = sealSecret(KEY, TOTP_SECRET, DEVICE_ID);
    assert.throws(() => openSecret(OTHER_KEY, sealed, DEVICE_ID), WrongSecretKeyError);
  });

  test('the wrong-key error names the setting to check', () => {
    const sealed = sealSecret(KEY, TOTP_SECRET, DEVICE_ID);
    assert.throws(
      () => openSecret(OTHER_KEY, sealed, DEVICE_ID),
      (error: unknown) =>
        error instanceof WrongSecretKeyError &&
        error.name === 'WrongSecretKeyError' &&
        error.message.includes('TWOFOLD_SECRET_KEY'),
    );
  });

  test('a secret copied onto another device row does not open', () => {
    const sealed = sealSecret(KEY, TOTP_SECRET, DEVICE_ID);
    assert.throws(() => openSecret(KEY, sealed, 'device-9a0b'), WrongSecretKeyError);
    assert.throws(() => openSecret(KEY, sealed, ''), WrongSecretKeyError);
  });

  test('changing any single byte of the stored secret, nonce or tag makes it fail to open', () => {
    const sealed = sealSecret(KEY, TOTP_SECRET, DEVICE_ID);
    const length = Buffer.from(sealed.slice(3), 'base64url').length;
    for (let index = 0; index < length; index++) {
      assert.throws(
        () => openSecret(KEY, withByteFlipped(sealed, index), DEVICE_ID),
        WrongSecretKeyError,
        `byte ${index}`,
      );
    }
  });

  test('a stored text in an unknown format is refused, not decrypted', () => {
    const sealed = sealSecret(KEY, TOTP_SECRET, DEVICE_ID);
    assert.throws(() => openSecret(KEY, sealed.replace(/^v1\./, 'v2.'), DEVICE_ID), /unknown sealed secret format/);
    assert.throws(() => openSecret(KEY, sealed.slice(3), DEVICE_ID), /unknown sealed secret format/);
  });

  test('a random wrong key never opens a sealed secret', () => {
    const sealed = sealSecret(KEY, TOTP_SECRET, DEVICE_ID);
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (bytes) => {
        fc.pre(!KEY.equals(Buffer.from(bytes)));
        assert.throws(() => openSecret(Buffer.from(bytes), sealed, DEVICE_ID), WrongSecretKeyError);
      }),
      { numRuns: 50 },
    );
  });
});

describe('parseSecretKey', () => {
  const hex = KEY.toString('hex');

  test('accepts 64 hexadecimal digits, in either case', () => {
    assert.deepEqual(parseSecretKey(hex), KEY);
    assert.deepEqual(parseSecretKey(hex.toUpperCase()), KEY);
  });

  test('accepts 32 bytes in base64', () => {
    assert.deepEqual(parseSecretKey(KEY.toString('base64')), KEY);
  });

  test('ignores spaces and a newline around the key, as in an environment file', () => {
    assert.deepEqual(parseSecretKey(`  ${hex}\n`), KEY);
    assert.deepEqual(parseSecretKey(`${KEY.toString('base64')}\n`), KEY);
  });

  test('a key made by newSecretKeyText parses to 32 bytes', () => {
    const text = newSecretKeyText();
    const key = parseSecretKey(text);
    assert.ok(key);
    assert.equal(key.length, SECRET_KEY_BYTES);
    assert.equal(key.toString('base64'), text);
    assert.notEqual(newSecretKeyText(), text);
  });

  test('refuses a hexadecimal key with a digit too few or too many', () => {
    assert.equal(parseSecretKey(hex.slice(0, 62)), null);
    assert.equal(parseSecretKey(`${hex}ab`), null);
  });

  test('refuses base64 of 16 or 48 bytes', () => {
    assert.equal(parseSecretKey(randomBytes(16).toString('base64')), null);
    assert.equal(parseSecretKey(randomBytes(48).toString('base64')), null);
  });

  test('refuses an empty key, a passphrase and 64 characters that are not hexadecimal', () => {
    assert.equal(parseSecretKey(''), null);
    assert.equal(parseSecretKey('   '), null);
    assert.equal(parseSecretKey('correct horse battery staple'), null);
    assert.equal(parseSecretKey('g'.repeat(64)), null);
  });

  test('any 32 random bytes survive both written forms', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (bytes) => {
        const key = Buffer.from(bytes);
        assert.deepEqual(parseSecretKey(key.toString('hex')), key);
        assert.deepEqual(parseSecretKey(key.toString('base64')), key);
      }),
    );
  });
});
