import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { HOTP, Secret, TOTP, URI } from 'otpauth';
import {
  base32Of,
  codeAt,
  isExpiredCode,
  matchingTimeStep,
  newTotpSecret,
  otpauthUri,
  parseCode,
  secretForTyping,
  timeStepAt,
} from '../../src/domain/totp.js';

interface RfcVectors {
  hotp: { algorithm: string; digits: number; secret_ascii: string; secret_base32: string; codes_by_counter: string[] };
  totp: {
    period: number;
    t0: number;
    digits: number;
    secrets: Record<string, { ascii: string; base32: string }>;
    vectors: { algorithm: string; time: number; code: string }[];
  };
}

const RFC = JSON.parse(
  readFileSync(new URL('../fixtures/otp-rfc-vectors.json', import.meta.url), 'utf8'),
) as RfcVectors;

function rfcSecret(algorithm: string): { ascii: string; base32: string } {
  const secret = RFC.totp.secrets[algorithm];
  assert.ok(secret, `no RFC secret for ${algorithm}`);
  return secret;
}

const RFC_SHA1_KEY = new Uint8Array(Buffer.from(RFC.hotp.secret_ascii, 'latin1'));
const PERIOD_MS = 30_000;
// 10 seconds into a 30-second step, so that ± whole steps stay well inside their steps.
const NOW = new Date('2026-05-04T12:00:10.000Z');

function stepsFrom(now: Date, steps: number): Date {
  return new Date(now.getTime() + steps * PERIOD_MS);
}

describe('RFC 4226 HOTP vectors, through otpauth', () => {
  test('the fixture key is the RFC ASCII key, in base32', () => {
    assert.equal(Secret.fromLatin1(RFC.hotp.secret_ascii).base32, RFC.hotp.secret_base32);
  });

  RFC.hotp.codes_by_counter.forEach((code, counter) => {
    test(`counter ${counter} gives ${code}`, () => {
      const generated = HOTP.generate({
        secret: Secret.fromBase32(RFC.hotp.secret_base32),
        algorithm: RFC.hotp.algorithm,
        digits: RFC.hotp.digits,
        counter,
      });
      assert.equal(generated, code);
    });
  });

  test('a HOTP code is accepted only at its own counter when no window is allowed', () => {
    const secret = Secret.fromBase32(RFC.hotp.secret_base32);
    assert.equal(HOTP.validate({ token: '969429', secret, counter: 3, window: 0 }), 0);
    assert.equal(HOTP.validate({ token: '969429', secret, counter: 4, window: 0 }), null);
  });
});

describe('RFC 6238 TOTP vectors, through otpauth', () => {
  for (const [algorithm, secret] of Object.entries(RFC.totp.secrets)) {
    test(`the ${algorithm} fixture key is its RFC ASCII key (${secret.ascii.length} bytes)`, () => {
      assert.equal(Secret.fromLatin1(secret.ascii).base32, secret.base32);
    });
  }

  test('the fixture covers SHA1, SHA256 and SHA512 with six times each', () => {
    for (const algorithm of ['SHA1', 'SHA256', 'SHA512']) {
      assert.equal(RFC.totp.vectors.filter((v) => v.algorithm === algorithm).length, 6, algorithm);
    }
  });

  for (const vector of RFC.totp.vectors) {
    test(`${vector.algorithm} at T=${vector.time}s gives ${vector.code}`, () => {
      const secret = Secret.fromBase32(rfcSecret(vector.algorithm).base32);
      const options = {
        secret,
        algorithm: vector.algorithm,
        digits: RFC.totp.digits,
        period: RFC.totp.period,
      };
      const timestamp = (RFC.totp.t0 + vector.time) * 1000;
      assert.equal(TOTP.generate({ ...options, timestamp }), vector.code);
      assert.equal(TOTP.validate({ ...options, token: vector.code, timestamp, window: 0 }), 0);
    });
  }

  test('the SHA256 and SHA512 vectors need their own longer keys, not the SHA1 key', () => {
    const sha1Key = Secret.fromBase32(rfcSecret('SHA1').base32);
    for (const vector of RFC.totp.vectors.filter((v) => v.algorithm !== 'SHA1')) {
      const withSha1Key = TOTP.generate({
        secret: sha1Key,
        algorithm: vector.algorithm,
        digits: RFC.totp.digits,
        timestamp: vector.time * 1000,
      });
      assert.notEqual(withSha1Key, vector.code, `${vector.algorithm} at ${vector.time}`);
    }
  });
});

describe('codeAt', () => {
  for (const vector of RFC.totp.vectors.filter((v) => v.algorithm === 'SHA1')) {
    test(`shows the last six digits of the RFC SHA1 code at T=${vector.time}s`, () => {
      assert.equal(codeAt(RFC_SHA1_KEY, new Date(vector.time * 1000)), vector.code.slice(-6));
    });
  }

  test('the code stays the same for the whole 30-second step and changes at the next one', () => {
    const stepStart = new Date(timeStepAt(NOW) * PERIOD_MS);
    const code = codeAt(RFC_SHA1_KEY, stepStart);
    assert.equal(codeAt(RFC_SHA1_KEY, new Date(stepStart.getTime() + PERIOD_MS - 1)), code);
    assert.notEqual(codeAt(RFC_SHA1_KEY, new Date(stepStart.getTime() + PERIOD_MS)), code);
  });

  test('a code keeps its leading zeros', () => {
    // RFC SHA1 at T=1111111109 is 07081804: its last six digits start with a zero.
    assert.equal(codeAt(RFC_SHA1_KEY, new Date(1111111109 * 1000)), '081804');
    const codes = fc.sample(fc.integer({ min: 0, max: 2 ** 40 }), 200).map((s) => codeAt(RFC_SHA1_KEY, new Date(s)));
    for (const code of codes) assert.match(code, /^[0-9]{6}$/);
  });

  test('different secrets show different codes at the same moment', () => {
    const other = new Uint8Array(RFC_SHA1_KEY);
    other[0] = (other[0] ?? 0) ^ 1;
    assert.notEqual(codeAt(other, NOW), codeAt(RFC_SHA1_KEY, NOW));
  });
});

describe('timeStepAt', () => {
  test('counts 30-second steps since the Unix epoch', () => {
    assert.equal(timeStepAt(new Date(0)), 0);
    assert.equal(timeStepAt(new Date(29_999)), 0);
    assert.equal(timeStepAt(new Date(30_000)), 1);
    assert.equal(timeStepAt(new Date(59_000)), 1);
    assert.equal(timeStepAt(new Date(1111111109_000)), 37037036);
  });
});

describe('matchingTimeStep', () => {
  const current = timeStepAt(NOW);

  test('the code on the app right now is accepted as the current step', () => {
    assert.equal(matchingTimeStep(RFC_SHA1_KEY, codeAt(RFC_SHA1_KEY, NOW), NOW), current);
  });

  test('the code of the previous step is still accepted, as the previous step', () => {
    assert.equal(matchingTimeStep(RFC_SHA1_KEY, codeAt(RFC_SHA1_KEY, stepsFrom(NOW, -1)), NOW), current - 1);
  });

  test('the code of the next step is accepted for a phone whose clock runs ahead, as the next step', () => {
    assert.equal(matchingTimeStep(RFC_SHA1_KEY, codeAt(RFC_SHA1_KEY, stepsFrom(NOW, 1)), NOW), current + 1);
  });

  test('codes two steps away in either direction are refused', () => {
    assert.equal(matchingTimeStep(RFC_SHA1_KEY, codeAt(RFC_SHA1_KEY, stepsFrom(NOW, -2)), NOW), null);
    assert.equal(matchingTimeStep(RFC_SHA1_KEY, codeAt(RFC_SHA1_KEY, stepsFrom(NOW, 2)), NOW), null);
  });

  test('at the first millisecond of a step the code shown a millisecond earlier is the previous step', () => {
    const stepStart = new Date(current * PERIOD_MS);
    const justBefore = new Date(stepStart.getTime() - 1);
    assert.equal(matchingTimeStep(RFC_SHA1_KEY, codeAt(RFC_SHA1_KEY, justBefore), stepStart), current - 1);
  });

  test('a wrong code, a code for another secret or a code of the wrong length is refused', () => {
    const code = codeAt(RFC_SHA1_KEY, NOW);
    const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
    assert.equal(matchingTimeStep(RFC_SHA1_KEY, wrong, NOW), null);
    assert.equal(matchingTimeStep(new Uint8Array(20).fill(7), code, NOW), null);
    assert.equal(matchingTimeStep(RFC_SHA1_KEY, code.slice(1), NOW), null);
    assert.equal(matchingTimeStep(RFC_SHA1_KEY, `${code}0`, NOW), null);
  });

  test('the code of a random secret is always accepted as the current step', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 20, maxLength: 20 }),
        fc.integer({ min: 0, max: 4_102_444_800_000 }),
        (secret, ms) => {
          const now = new Date(ms);
          assert.equal(matchingTimeStep(secret, codeAt(secret, now), now), timeStepAt(now));
        },
      ),
    );
  });

  test('any accepted code is the code of the step it names, within one step of now', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 20, maxLength: 20 }),
        fc.integer({ min: 0, max: 4_102_444_800_000 }),
        fc.integer({ min: -3, max: 3 }),
        (secret, ms, offset) => {
          const now = new Date(ms);
          const code = codeAt(secret, stepsFrom(now, offset));
          const step = matchingTimeStep(secret, code, now);
          if (Math.abs(offset) <= 1) assert.notEqual(step, null);
          if (step === null) return;
          assert.ok(Math.abs(step - timeStepAt(now)) <= 1);
          assert.equal(codeAt(secret, new Date(step * PERIOD_MS)), code);
        },
      ),
    );
  });
});

describe('isExpiredCode', () => {
  test('a code from a minute ago is recognised as expired', () => {
    assert.equal(isExpiredCode(RFC_SHA1_KEY, codeAt(RFC_SHA1_KEY, stepsFrom(NOW, -2)), NOW), true);
  });

  test('a code from five minutes ago is still recognised as expired', () => {
    assert.equal(isExpiredCode(RFC_SHA1_KEY, codeAt(RFC_SHA1_KEY, stepsFrom(NOW, -10)), NOW), true);
  });

  test('a code older than five minutes is just wrong, not expired', () => {
    assert.equal(isExpiredCode(RFC_SHA1_KEY, codeAt(RFC_SHA1_KEY, stepsFrom(NOW, -11)), NOW), false);
  });

  test('codes that are still accepted are not called expired', () => {
    for (const steps of [-1, 0, 1]) {
      assert.equal(isExpiredCode(RFC_SHA1_KEY, codeAt(RFC_SHA1_KEY, stepsFrom(NOW, steps)), NOW), false, `${steps}`);
    }
  });

  test('a code from the future is not called expired', () => {
    assert.equal(isExpiredCode(RFC_SHA1_KEY, codeAt(RFC_SHA1_KEY, stepsFrom(NOW, 2)), NOW), false);
    assert.equal(isExpiredCode(RFC_SHA1_KEY, codeAt(RFC_SHA1_KEY, stepsFrom(NOW, 5)), NOW), false);
  });

  test('a code that never matched is not called expired', () => {
    const recent = new Set([...Array(23).keys()].map((k) => codeAt(RFC_SHA1_KEY, stepsFrom(NOW, k - 11))));
    const never = ['000000', '123456', '999999'].find((code) => !recent.has(code));
    assert.ok(never);
    assert.equal(isExpiredCode(RFC_SHA1_KEY, never, NOW), false);
  });
});

describe('parseCode', () => {
  test('six digits are accepted as they are', () => {
    assert.deepEqual(parseCode('012345'), { ok: true, code: '012345' });
  });

  test('spaces a user types between groups, or pastes around the code, are removed', () => {
    assert.deepEqual(parseCode('123 456'), { ok: true, code: '123456' });
    assert.deepEqual(parseCode(' 12 34 56 '), { ok: true, code: '123456' });
  });

  test('digits from other scripts are refused, even though they look like digits', () => {
    assert.deepEqual(parseCode('١٢٣٤٥٦'), { ok: false });
    assert.deepEqual(parseCode('１２３４５６'), { ok: false });
    assert.deepEqual(parseCode('۱۲۳۴۵۶'), { ok: false });
  });

  test('five or seven digits are refused', () => {
    assert.deepEqual(parseCode('12345'), { ok: false });
    assert.deepEqual(parseCode('1234567'), { ok: false });
  });

  test('letters, signs and other punctuation are refused', () => {
    for (const input of ['12345a', 'abcdef', '123-456', '+12345', '12345.', '1e5000']) {
      assert.deepEqual(parseCode(input), { ok: false }, input);
    }
  });

  test('an empty code or only spaces is refused', () => {
    assert.deepEqual(parseCode(''), { ok: false });
    assert.deepEqual(parseCode('      '), { ok: false });
  });

  test('any six ASCII digits with any spaces around them parse to those digits', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[0-9]{6}$/),
        fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 7, maxLength: 7 }),
        (digits, gaps) => {
          const spaced = [...digits].map((d, i) => ' '.repeat(gaps[i] ?? 0) + d).join('') + ' '.repeat(gaps[6] ?? 0);
          assert.deepEqual(parseCode(spaced), { ok: true, code: digits });
        },
      ),
    );
  });
});

describe('secretForTyping', () => {
  test('shows the RFC key as eight groups of four base32 characters', () => {
    assert.equal(secretForTyping(RFC_SHA1_KEY), 'GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ');
  });

  test('typed back without spaces, the groups give the original secret', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 20, maxLength: 20 }), (secret) => {
        const typed = secretForTyping(secret);
        assert.match(typed, /^[A-Z2-7]{4}( [A-Z2-7]{4}){7}$/);
        assert.deepEqual(new Uint8Array(Secret.fromBase32(typed.replace(/ /g, '')).buffer), secret);
      }),
    );
  });

  test('the typed form is the base32 of the secret, split up', () => {
    const secret = newTotpSecret();
    assert.equal(secretForTyping(secret).replace(/ /g, ''), base32Of(secret));
  });
});

describe('otpauthUri', () => {
  function parsed(uri: string): { url: URL; label: string; params: Record<string, string> } {
    const url = new URL(uri);
    return { url, label: url.pathname.slice(1), params: Object.fromEntries(url.searchParams) };
  }

  test('gives an authenticator app the issuer, the account, the secret and SHA1, 6 digits, 30 seconds', () => {
    const { url, label, params } = parsed(otpauthUri(RFC_SHA1_KEY, 'Twofold', 'ann@example.com'));
    assert.equal(url.protocol, 'otpauth:');
    assert.equal(url.host, 'totp');
    assert.equal(decodeURIComponent(label), 'Twofold:ann@example.com');
    assert.deepEqual(params, {
      issuer: 'Twofold',
      secret: RFC.hotp.secret_base32,
      algorithm: 'SHA1',
      digits: '6',
      period: '30',
    });
  });

  test('an issuer with a space is encoded in the label and in the issuer parameter', () => {
    const { label, params } = parsed(otpauthUri(RFC_SHA1_KEY, 'Acme Corp', 'ann@example.com'));
    assert.equal(label.split(':')[0], 'Acme%20Corp');
    assert.equal(params.issuer, 'Acme Corp');
  });

  test('an issuer with a colon loses it, leaving one literal colon before the account', () => {
    const { label, params } = parsed(otpauthUri(RFC_SHA1_KEY, 'Acme: Labs', 'ann+work@example.com'));
    const parts = label.split(':');
    assert.equal(parts.length, 2, label);
    assert.equal(decodeURIComponent(parts[0] ?? ''), 'Acme Labs');
    assert.equal(decodeURIComponent(parts[1] ?? ''), 'ann+work@example.com');
    assert.equal(params.issuer, 'Acme Labs');
  });

  test('an app reading the URI shows the issuer, the account and the same codes as the server checks', () => {
    const secret = newTotpSecret();
    const app = URI.parse(otpauthUri(secret, 'Acme Corp', 'ann+work@example.com'));
    assert.ok(app instanceof TOTP);
    assert.equal(app.issuer, 'Acme Corp');
    assert.equal(app.label, 'ann+work@example.com');
    assert.equal(app.generate({ timestamp: NOW.getTime() }), codeAt(secret, NOW));
  });

  test('an app reading the URI of an issuer with a colon shows the right account name', () => {
    const app = URI.parse(otpauthUri(newTotpSecret(), 'Acme: Labs', 'ann@example.com'));
    assert.equal(app.label, 'ann@example.com');
    assert.equal(app.issuer, 'Acme Labs');
  });
});

describe('newTotpSecret', () => {
  test('a new secret has 20 bytes (160 bits)', () => {
    const secret = newTotpSecret();
    assert.ok(secret instanceof Uint8Array);
    assert.equal(secret.length, 20);
    assert.equal(base32Of(secret).length, 32);
  });

  test('two new secrets differ', () => {
    const secrets = Array.from({ length: 20 }, () => Buffer.from(newTotpSecret()).toString('hex'));
    assert.equal(new Set(secrets).size, secrets.length);
  });
});
