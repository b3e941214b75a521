// Each second factor through the plug-in interface (services/factors/factor.ts), with no
// store: parse reads its own input and nothing else's, match says matched (with a proof) or
// why not, methodOf names the RFC 8176 method. An authenticator app's codes, recovery codes,
// and security keys (answers made by a software authenticator).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { relyingPartyOf } from '../../src/domain/devices.js';
import { newRecoveryCode, storedFormOf } from '../../src/domain/recovery-codes.js';
import { codeAt, newTotpSecret } from '../../src/domain/totp.js';
import { BACKUP_FACTORS, REGISTERED_FACTORS } from '../../src/services/factors/index.js';

const FACTORS = [...REGISTERED_FACTORS, ...BACKUP_FACTORS];
import { recoveryCodeFactor } from '../../src/services/factors/recovery-code.js';
import { securityKeyFactor, type SecurityKeyCredential } from '../../src/services/factors/security-key.js';
import { totpFactor } from '../../src/services/factors/totp.js';
import { SoftAuthenticator } from '../helpers/soft-authenticator.js';

const NOW = new Date('2026-12-03T10:00:00.000Z');
const RP = relyingPartyOf('https://2fa.example.com');
const STEP_MS = 30_000;

describe('the registry', () => {
  test('every factor has a kind of its own; only recovery codes are a backup, and they are no device', () => {
    const kinds = FACTORS.map((factor) => factor.kind);
    assert.equal(new Set(kinds).size, kinds.length);
    for (const factor of FACTORS) assert.equal(factor.backup, factor.deviceKind === null, factor.kind);
    assert.deepEqual(
      FACTORS.filter((factor) => factor.backup).map((factor) => factor.kind),
      ['recovery_code'],
    );
  });

  test("no factor reads another's input", () => {
    const code = codeAt(newTotpSecret(), NOW);
    const recovery = newRecoveryCode();
    const key = new SoftAuthenticator();
    const answer = JSON.stringify(key.get({ challenge: 'abc', rpId: RP.id }, { origin: RP.origin }));
    const readers = (given: string) => FACTORS.filter((factor) => factor.parse(given) !== null).map((f) => f.kind);
    assert.deepEqual(readers(code), ['totp']);
    assert.deepEqual(readers(recovery), ['recovery_code']);
    assert.deepEqual(readers(answer), ['security_key']);
    for (const junk of ['', '12345', '1234567', 'hello', '{"type":"public-key"}', '{'.repeat(20_000)]) {
      assert.deepEqual(readers(junk), [], junk.slice(0, 20));
    }
  });
});

describe('an authenticator app (totp)', () => {
  const secret = newTotpSecret();
  const credentials = [
    { id: 'other', name: 'Old phone', secret: newTotpSecret() },
    { id: 'phone', name: 'Phone', secret },
  ];

  test("the code of any of the person's apps matches, with the device and time step as proof", () => {
    const code = totpFactor.parse(codeAt(secret, NOW));
    assert.ok(code !== null);
    const match = totpFactor.match(credentials, code, NOW, RP);
    assert.ok(!(match instanceof Promise) && match.matched);
    assert.equal(match.proof.deviceId, 'phone');
    assert.equal(match.proof.timeStep, Math.floor(NOW.getTime() / STEP_MS));
    assert.equal(totpFactor.methodOf(match.proof), 'otp');
  });

  test('spaces in a typed code are fine; a wrong code is wrong, an old one expired', () => {
    const typed = codeAt(secret, NOW).replace(/^(\d{3})/, '$1 ');
    assert.equal(totpFactor.parse(typed), codeAt(secret, NOW));
    const wrong = totpFactor.match(credentials, codeAt(secret, NOW) === '000000' ? '000001' : '000000', NOW, RP);
    assert.deepEqual(wrong, { matched: false, reason: 'wrong' });
    const old = codeAt(secret, new Date(NOW.getTime() - 5 * 60_000));
    const expired = totpFactor.match(credentials, old, NOW, RP);
    assert.ok(!(expired instanceof Promise) && !expired.matched);
    assert.equal(expired.reason, 'expired');
  });
});

describe('recovery codes', () => {
  const codes = Array.from({ length: 10 }, newRecoveryCode);
  const credentials = codes.map((code, i) => ({ id: `c${i}`, name: 'Recovery code', ...storedFormOf(code) }));

  test('any code of the set matches, typed in capitals with spaces; the proof names the code', () => {
    const given = (codes[7] ?? '').toUpperCase().replace(/-/g, ' ');
    const input = recoveryCodeFactor.parse(given);
    assert.ok(input !== null);
    const match = recoveryCodeFactor.match(credentials, input, NOW, RP);
    assert.deepEqual(match, { matched: true, proof: { codeId: 'c7' } });
    assert.equal(recoveryCodeFactor.methodOf({ codeId: 'c7' }), 'otp');
  });

  test('a code of another set is wrong', () => {
    const input = recoveryCodeFactor.parse(newRecoveryCode());
    assert.ok(input !== null);
    assert.deepEqual(recoveryCodeFactor.match(credentials, input, NOW, RP), { matched: false, reason: 'wrong' });
  });
});

describe('a security key or passkey', () => {
  function credentialOf(
    key: SoftAuthenticator,
    signCount: number,
    openChallenges = ['challenge-1'],
  ): SecurityKeyCredential {
    return {
      id: 'device-1',
      name: 'YubiKey',
      credentialId: key.id,
      publicKey: key.coseKey(),
      signCount,
      transports: ['usb'],
      openChallenges,
    };
  }
  const answerFrom = (key: SoftAuthenticator, challenge = 'challenge-1', origin = RP.origin, rpId = RP.id) =>
    securityKeyFactor.parse(JSON.stringify(key.get({ challenge, rpId }, { origin })));

  test('an answer to an open challenge, signed by the key, matches; the counter moves on; hwk', async () => {
    const key = new SoftAuthenticator();
    const answer = answerFrom(key);
    assert.ok(answer !== null);
    const match = await securityKeyFactor.match([credentialOf(key, 0)], answer, NOW, RP);
    assert.ok(match.matched);
    assert.equal(match.proof.challenge, 'challenge-1');
    assert.equal(match.proof.newCount, 1);
    assert.equal(securityKeyFactor.methodOf(match.proof), 'hwk');
  });

  test('a synced passkey that keeps no counter matches at 0 again and again: swk', async () => {
    const key = new SoftAuthenticator({ counter: 'none', backedUp: true });
    for (let i = 0; i < 2; i += 1) {
      const answer = answerFrom(key);
      assert.ok(answer !== null);
      const match = await securityKeyFactor.match([credentialOf(key, 0)], answer, NOW, RP);
      assert.ok(match.matched);
      assert.equal(securityKeyFactor.methodOf(match.proof), 'swk');
    }
  });

  test('a counter that goes back from a non-zero value is a possible copy', async () => {
    const key = new SoftAuthenticator();
    key.signCount = 3;
    const answer = answerFrom(key); // counter 4
    assert.ok(answer !== null);
    assert.deepEqual(await securityKeyFactor.match([credentialOf(key, 9)], answer, NOW, RP), {
      matched: false,
      reason: 'possible_clone',
    });
  });

  test('a challenge not handed out, another origin, another relying party, another key: wrong', async () => {
    const key = new SoftAuthenticator();
    const cases = [
      answerFrom(key, 'not-handed-out'),
      answerFrom(key, 'challenge-1', 'https://evil.example.com'),
      answerFrom(key, 'challenge-1', RP.origin, 'evil.example.com'),
    ];
    for (const answer of cases) {
      assert.ok(answer !== null);
      assert.deepEqual(await securityKeyFactor.match([credentialOf(key, 0)], answer, NOW, RP), {
        matched: false,
        reason: 'wrong',
      });
    }
    const stranger = answerFrom(new SoftAuthenticator());
    assert.ok(stranger !== null);
    assert.deepEqual(await securityKeyFactor.match([credentialOf(key, 0)], stranger, NOW, RP), {
      matched: false,
      reason: 'wrong',
    });
  });
});
