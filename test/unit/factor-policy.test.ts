import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  ALLOWED_FACTORS_CHOICES,
  allowsKind,
  holdsAllowedDevice,
  impactOfAllowedFactors,
  isAllowedFactors,
  kindsToSignInWith,
  mustAddAllowedDevice,
  type AllowedFactors,
} from '../../src/domain/factor-policy.js';
import type { SecondFactorMethod } from '../../src/domain/devices.js';

const APP_ONLY = { apps: 1, keys: 0 };
const KEY_ONLY = { apps: 0, keys: 1 };
const BOTH = { apps: 2, keys: 1 };
const NONE = { apps: 0, keys: 0 };

describe('allowed second factors', () => {
  test('the default allows both kinds; "keys only" and "apps only" one each; anything else is not a choice', () => {
    assert.ok(allowsKind('apps_and_keys', 'totp') && allowsKind('apps_and_keys', 'webauthn'));
    assert.ok(allowsKind('keys_only', 'webauthn') && !allowsKind('keys_only', 'totp'));
    assert.ok(allowsKind('apps_only', 'totp') && !allowsKind('apps_only', 'webauthn'));
    assert.ok(ALLOWED_FACTORS_CHOICES.every(isAllowedFactors));
    assert.ok(!isAllowedFactors('nothing') && !isAllowedFactors(''));
  });

  test('a person who holds an allowed kind signs in with it only; one who holds none, with what they have', () => {
    assert.deepEqual(kindsToSignInWith('keys_only', BOTH), ['webauthn']);
    assert.deepEqual(kindsToSignInWith('apps_only', BOTH), ['totp']);
    assert.deepEqual(kindsToSignInWith('apps_and_keys', BOTH), ['webauthn', 'totp']);
    assert.deepEqual(kindsToSignInWith('keys_only', APP_ONLY), ['totp'], 'never dead-ended');
    assert.deepEqual(kindsToSignInWith('apps_only', KEY_ONLY), ['webauthn'], 'never dead-ended');
    assert.deepEqual(kindsToSignInWith('keys_only', NONE), []);
  });

  test('a session is held until an allowed device is linked and used: by what is held, and how it signed in', () => {
    assert.equal(mustAddAllowedDevice('apps_and_keys', APP_ONLY, 'otp'), false);
    assert.equal(mustAddAllowedDevice('keys_only', APP_ONLY, 'otp'), true, 'only an app: add a key');
    assert.equal(mustAddAllowedDevice('keys_only', KEY_ONLY, 'hwk'), false);
    assert.equal(mustAddAllowedDevice('keys_only', KEY_ONLY, 'swk'), false);
    assert.equal(mustAddAllowedDevice('keys_only', BOTH, 'otp'), true, 'a recovery code (otp) under keys only');
    assert.equal(mustAddAllowedDevice('keys_only', BOTH, null), true, 'a session from before: not a key');
    assert.equal(mustAddAllowedDevice('apps_only', KEY_ONLY, 'hwk'), true);
    assert.equal(mustAddAllowedDevice('apps_only', BOTH, 'otp'), false);
    assert.equal(mustAddAllowedDevice('keys_only', NONE, null), false, 'no device: the enforcement rules decide');
  });

  test('nobody holding devices is ever left without a way to sign in, whatever the policy', () => {
    const devices = fc.record({ apps: fc.nat(3), keys: fc.nat(3) });
    fc.assert(
      fc.property(fc.constantFrom(...ALLOWED_FACTORS_CHOICES), devices, (allowed: AllowedFactors, held) => {
        const kinds = kindsToSignInWith(allowed, held);
        if (held.apps + held.keys > 0) assert.ok(kinds.length > 0);
        // Whoever may sign in only with allowed kinds is not held once they used one.
        if (holdsAllowedDevice(allowed, held)) {
          assert.ok(kinds.every((kind) => allowsKind(allowed, kind)));
          const method: SecondFactorMethod = kinds[0] === 'webauthn' ? 'hwk' : 'otp';
          assert.equal(mustAddAllowedDevice(allowed, held, method), false);
        }
      }),
    );
  });

  test("a change's impact counts those left with no allowed device, those who lose a kind, and those without any", () => {
    const people = [APP_ONLY, APP_ONLY, KEY_ONLY, BOTH, NONE, NONE, NONE];
    assert.deepEqual(impactOfAllowedFactors('keys_only', people), { mustAddDevice: 2, loseAKind: 1, withoutDevice: 3 });
    assert.deepEqual(impactOfAllowedFactors('apps_only', people), { mustAddDevice: 1, loseAKind: 1, withoutDevice: 3 });
    assert.deepEqual(impactOfAllowedFactors('apps_and_keys', people), {
      mustAddDevice: 0,
      loseAKind: 0,
      withoutDevice: 3,
    });
  });
});
