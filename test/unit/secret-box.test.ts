import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import {
  isSealedWith,
  keyIdOf,
  keyringOf,
  newSecretKeyText,
  openSecret,
  parseSecretKey,
  sealSecret,
  SECRET_KEY_BYTES,
  WrongSecretKeyError,
} from '../../src/domain/secret-box.js';
import { sealedAsV1 } from '../helpers/sealed-v1.js';

const KEY = Buffer.from('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', 'hex');
const OTHER_KEY = Buffer.from('ff0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', 'hex');
const THIRD_KEY = Buffer.alloc(32, 3);
const RING = keyringOf(KEY);
const TOTP_SECRET = new Uint8Array(Buffer.from('12345678901234567890', 'latin1'));
const DEVICE_ID = 'device-4f1c';

/** The payload (nonce, ciphertext, tag) of a sealed text, decoded. */
function payloadOf(sealed: string): Buffer {
  return Buffer.from(sealed.split('.').at(-1) ?? '', 'base64url');
}

/** The sealed text with one byte of its decoded payload changed. */
function withByteFlipped(sealed: string, index: number): string {
  const parts = sealed.split('.');
  const raw = payloadOf(sealed);
  raw[index] = (raw[index] ?? 0) ^ 0x01;
  return [...parts.slice(0, -1), raw.toString('base64url')].join('.');
}

describe('sealSecret and openSecret', () => {
  test('a sealed authenticator secret opens to the same bytes with the same key and device', () => {
    const sealed = sealSecret(KEY, TOTP_SECRET, DEVICE_ID);
    assert.deepEqual(openSecret(RING, sealed, DEVICE_ID), TOTP_SECRET);
  });

  test('any secret, bound to any id, round-trips', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), fc.string(), (secret, id) => {
        assert.deepEqual(openSecret(RING, sealSecret(KEY, secret, id), id), secret);
      }),
    );
  });

  test('the stored text is versioned, names its key and does not contain the secret in the clear', () => {
    const sealed = sealSecret(KEY, TOTP_SECRET, DEVICE_ID);
    assert.match(sealed, /^v2\.[0-9a-f]{16}\.[A-Za-z0-9_-]+$/);
    const raw = payloadOf(sealed);
    assert.equal(raw.length, 12 + TOTP_SECRET.length + 16);
    assert.equal(raw.includes(Buffer.from(TOTP_SECRET)), false);
    assert.equal(sealed.includes(Buffer.from(TOTP_SECRET).toString('base64url')), false);
  });

  test('the key id is the first 16 hex digits of the SHA-256 of the key, and differs between keys', () => {
    const expected = createHash('sha256').update(KEY).digest('hex').slice(0, 16);
    assert.equal(keyIdOf(KEY), expected);
    assert.equal(sealSecret(KEY, TOTP_SECRET, DEVICE_ID).split('.')[1], expected);
    assert.equal(sealSecret(OTHER_KEY, TOTP_SECRET, DEVICE_ID).split('.')[1], keyIdOf(OTHER_KEY));
    assert.notEqual(keyIdOf(KEY), keyIdOf(OTHER_KEY));
    assert.equal(KEY.toString('hex').includes(keyIdOf(KEY)), false, 'the id is not a piece of the key');
  });

  test('isSealedWith tells whether the text names a key', () => {
    const sealed = sealSecret(KEY, TOTP_SECRET, DEVICE_ID);
    assert.equal(isSealedWith(KEY, sealed), true);
    assert.equal(isSealedWith(OTHER_KEY, sealed), false);
    assert.equal(isSealedWith(KEY, sealedAsV1(KEY, TOTP_SECRET, DEVICE_ID)), false);
  });

  test('sealing the same secret twice gives different texts (a fresh nonce each time)', () => {
    assert.notEqual(sealSecret(KEY, TOTP_SECRET, DEVICE_ID), sealSecret(KEY, TOTP_SECRET, DEVICE_ID));
  });

  test('opening with another key throws WrongSecretKeyError instead of returning garbage', () => {
    const sealed = sealSecret(KEY, TOTP_SECRET, DEVICE_ID);
    assert.throws(() => openSecret(keyringOf(OTHER_KEY), sealed, DEVICE_ID), WrongSecretKeyError);
  });

  test('the wrong-key error names the setting to check', () => {
    const sealed = sealSecret(KEY, TOTP_SECRET, DEVICE_ID);
    assert.throws(
      () => openSecret(keyringOf(OTHER_KEY), sealed, DEVICE_ID),
      (error: unknown) =>
        error instanceof WrongSecretKeyError &&
        error.name === 'WrongSecretKeyError' &&
        error.message.includes('TWOFOLD_SECRET_KEY'),
    );
  });

  test('a secret copied onto another device row does not open', () => {
    const sealed = sealSecret(KEY, TOTP_SECRET, DEVICE_ID);
    assert.throws(() => openSecret(RING, sealed, 'device-9a0b'), WrongSecretKeyError);
    assert.throws(() => openSecret(RING, sealed, ''), WrongSecretKeyError);
  });

  test('changing any single byte of the stored secret, nonce or tag makes it fail to open', () => {
    const sealed = sealSecret(KEY, TOTP_SECRET, DEVICE_ID);
    const length = payloadOf(sealed).length;
    for (let index = 0; index < length; index++) {
      assert.throws(
        () => openSecret(RING, withByteFlipped(sealed, index), DEVICE_ID),
        WrongSecretKeyError,
        `byte ${index}`,
      );
    }
  });

  test('a stored text in an unknown format is refused, not decrypted', () => {
    const sealed = sealSecret(KEY, TOTP_SECRET, DEVICE_ID);
    const [, keyId, payload] = sealed.split('.');
    for (const text of [
      sealed.replace(/^v2\./, 'v3.'),
      sealed.slice(3),
      `v2.${payload}`,
      `v2.${keyId?.slice(1)}.${payload}`,
      `v2.${keyId?.toUpperCase()}.${payload}`,
      `v1.${keyId}.${payload}`,
      `v2.${keyId}.`,
      '',
    ]) {
      assert.throws(() => openSecret(RING, text, DEVICE_ID), /unknown sealed secret format/, text);
    }
  });

  test('a random wrong key never opens a sealed secret', () => {
    const sealed = sealSecret(KEY, TOTP_SECRET, DEVICE_ID);
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (bytes) => {
        fc.pre(!KEY.equals(Buffer.from(bytes)));
        assert.throws(() => openSecret(keyringOf(Buffer.from(bytes)), sealed, DEVICE_ID), WrongSecretKeyError);
      }),
      { numRuns: 50 },
    );
  });
});

describe('a key ring during a rotation', () => {
  const rotating = keyringOf(OTHER_KEY, [THIRD_KEY, KEY]);

  test('a secret sealed with a previous key opens', () => {
    assert.deepEqual(openSecret(rotating, sealSecret(KEY, TOTP_SECRET, DEVICE_ID), DEVICE_ID), TOTP_SECRET);
    assert.deepEqual(openSecret(rotating, sealSecret(THIRD_KEY, TOTP_SECRET, DEVICE_ID), DEVICE_ID), TOTP_SECRET);
    assert.deepEqual(openSecret(rotating, sealSecret(OTHER_KEY, TOTP_SECRET, DEVICE_ID), DEVICE_ID), TOTP_SECRET);
  });

  test('a text of the first version (no key id) opens with whichever key of the ring sealed it', () => {
    for (const key of [KEY, OTHER_KEY, THIRD_KEY]) {
      assert.deepEqual(openSecret(rotating, sealedAsV1(key, TOTP_SECRET, DEVICE_ID), DEVICE_ID), TOTP_SECRET);
    }
    assert.deepEqual(openSecret(RING, sealedAsV1(KEY, TOTP_SECRET, DEVICE_ID), DEVICE_ID), TOTP_SECRET);
  });

  test('a text of the first version is still bound to its device and refuses a ring without its key', () => {
    const v1 = sealedAsV1(KEY, TOTP_SECRET, DEVICE_ID);
    assert.throws(() => openSecret(rotating, v1, 'device-9a0b'), WrongSecretKeyError);
    assert.throws(() => openSecret(keyringOf(OTHER_KEY, [THIRD_KEY]), v1, DEVICE_ID), WrongSecretKeyError);
    const length = payloadOf(v1).length;
    for (let index = 0; index < length; index++) {
      assert.throws(() => openSecret(rotating, withByteFlipped(v1, index), DEVICE_ID), WrongSecretKeyError);
    }
  });

  test('a ring without the sealing key throws WrongSecretKeyError, with the key current or previous', () => {
    const sealed = sealSecret(KEY, TOTP_SECRET, DEVICE_ID);
    assert.throws(() => openSecret(keyringOf(OTHER_KEY, [THIRD_KEY]), sealed, DEVICE_ID), WrongSecretKeyError);
    assert.throws(() => openSecret(keyringOf(THIRD_KEY, [OTHER_KEY]), sealed, DEVICE_ID), WrongSecretKeyError);
  });

  test('a text made to name another key of the ring does not open with that key', () => {
    const sealed = sealSecret(KEY, TOTP_SECRET, DEVICE_ID);
    const renamed = sealed.replace(keyIdOf(KEY), keyIdOf(OTHER_KEY));
    assert.throws(() => openSecret(rotating, renamed, DEVICE_ID), WrongSecretKeyError);
  });

  test('any secret sealed with any key of the ring opens to the same bytes; with no key of it, never', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 40 }),
        fc.uniqueArray(fc.uint8Array({ minLength: 32, maxLength: 32 }), {
          minLength: 2,
          maxLength: 4,
          selector: (bytes) => Buffer.from(bytes).toString('hex'),
        }),
        fc.nat(),
        (secret, rawKeys, pick) => {
          const keys = rawKeys.map((bytes) => Buffer.from(bytes));
          const [outsider, current, ...previous] = keys;
          if (outsider === undefined || current === undefined) return;
          const ring = keyringOf(current, previous);
          const sealer = [current, ...previous][pick % (previous.length + 1)] ?? current;
          assert.deepEqual(openSecret(ring, sealSecret(sealer, secret, DEVICE_ID), DEVICE_ID), secret);
          assert.deepEqual(openSecret(ring, sealedAsV1(sealer, secret, DEVICE_ID), DEVICE_ID), secret);
          assert.throws(
            () => openSecret(ring, sealSecret(outsider, secret, DEVICE_ID), DEVICE_ID),
            WrongSecretKeyError,
          );
          assert.throws(
            () => openSecret(ring, sealedAsV1(outsider, secret, DEVICE_ID), DEVICE_ID),
            WrongSecretKeyError,
          );
        },
      ),
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
