import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { SecondFactorMethod } from '../../src/domain/devices.js';
import {
  ACR_PASSWORD,
  ACR_TWO_FACTOR,
  applicationAccessOf,
  authenticationOf,
  leastAcrAskedFor,
  type SessionProof,
} from '../../src/domain/sign-in-for-applications.js';
import type { User } from '../../src/domain/users.js';

describe('phishing-resistant sign-in for applications', () => {
  const at = new Date('2026-11-22T12:00:00Z');
  const session = (method: SecondFactorMethod | null): SessionProof => ({
    createdAt: at,
    verifiedAt: at,
    secondFactorAt: method === null ? null : at,
    secondFactorMethod: method,
  });
  const user = { organisationId: 'org', status: 'active' } as User;
  const application = { organisationId: 'org', requireTwoFactor: false };
  const held = { devices: 2, keys: 1, hardwareKeys: 1 };

  test('amr names how the second factor was given; acr is the first asked-for value the session meets', () => {
    assert.deepEqual(authenticationOf(session('hwk')).amr, ['pwd', 'hwk', 'mfa']);
    assert.deepEqual(authenticationOf(session('swk')).amr, ['pwd', 'swk', 'mfa']);
    assert.deepEqual(authenticationOf(session('otp')).amr, ['pwd', 'otp', 'mfa']);
    assert.deepEqual(authenticationOf(session(null)).amr, ['pwd']);
    assert.equal(authenticationOf(session('hwk')).acr, ACR_TWO_FACTOR, 'asked nothing: as before');
    assert.equal(authenticationOf(session('hwk'), 'phr').acr, 'phr');
    assert.equal(authenticationOf(session('hwk'), 'phrh phr').acr, 'phrh');
    assert.equal(authenticationOf(session('swk'), 'phrh phr').acr, 'phr');
    assert.equal(authenticationOf(session(null), ACR_PASSWORD).acr, ACR_PASSWORD);
  });

  test('the least value asked for is what must be met; a password alone asks nothing more', () => {
    assert.equal(leastAcrAskedFor(undefined), null);
    assert.equal(leastAcrAskedFor(ACR_PASSWORD), null);
    assert.equal(leastAcrAskedFor('phr'), 'phr');
    assert.equal(leastAcrAskedFor('phrh phr'), 'phr');
    assert.equal(leastAcrAskedFor(`phr ${ACR_TWO_FACTOR}`), ACR_TWO_FACTOR);
    assert.equal(leastAcrAskedFor('something-else phrh'), 'phrh');
  });

  test('asked for phr, a code is never enough: a key is asked for, or there is none to give', () => {
    assert.equal(applicationAccessOf(application, user, session('hwk'), held, 'phr').kind, 'allowed');
    assert.equal(applicationAccessOf(application, user, session('swk'), held, 'phr').kind, 'allowed');
    assert.deepEqual(applicationAccessOf(application, user, session('otp'), held, 'phr'), {
      kind: 'needs_key',
      hasKey: true,
      acr: 'phr',
    });
    assert.deepEqual(
      applicationAccessOf(application, user, session('otp'), { ...held, keys: 0, hardwareKeys: 0 }, 'phr'),
      {
        kind: 'needs_key',
        hasKey: false,
        acr: 'phr',
      },
    );
    // phrh: a synced passkey is not enough, and only a key that stays on one device can give it.
    assert.deepEqual(applicationAccessOf(application, user, session('swk'), { ...held, hardwareKeys: 0 }, 'phrh'), {
      kind: 'needs_key',
      hasKey: false,
      acr: 'phrh',
    });
    assert.equal(applicationAccessOf(application, user, session('hwk'), held, 'phrh').kind, 'allowed');
    // As before: 2fa asked for, or required by the application.
    assert.equal(
      applicationAccessOf(application, user, session(null), held, ACR_TWO_FACTOR).kind,
      'needs_second_factor',
    );
    assert.equal(
      applicationAccessOf({ ...application, requireTwoFactor: true }, user, session('otp'), held, undefined).kind,
      'allowed',
    );
  });

  test('an application that requires phishing-resistant sign-in gets at least phr, whatever it asks for', () => {
    const strict = { ...application, requirePhishingResistant: true };
    assert.deepEqual(applicationAccessOf(strict, user, session('otp'), held, undefined), {
      kind: 'needs_key',
      hasKey: true,
      acr: 'phr',
    });
    assert.equal(applicationAccessOf(strict, user, session('otp'), held, ACR_TWO_FACTOR).kind, 'needs_key');
    const allowed = applicationAccessOf(strict, user, session('swk'), held, undefined);
    assert.equal(allowed.kind === 'allowed' ? allowed.authentication.acr : allowed.kind, 'phr');
    assert.equal(applicationAccessOf(strict, user, session('swk'), held, 'phrh').kind, 'needs_key', 'asked for more');
  });
});
