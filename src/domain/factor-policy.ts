// Which kinds of second factor an organisation allows, and what that means for a person:
// what they may link, what they may sign in with, and when a sign-in is not yet complete.
// Pure functions of (the organisation's choice, the person's confirmed devices by kind, the
// session's second factor): no HTTP, no SQL. "Enrolled" (any confirmed device, see
// enforcement.ts) is unchanged by this choice: a person whose devices are all of a kind no
// longer allowed is still enrolled, signs in with them, and is then held until they link an
// allowed one; so nobody is locked out by a change of policy.
import type { DeviceKind, SecondFactorMethod } from './devices.js';

/** Authenticator apps and security keys (the default, migration 011), keys only (phishing-resistant), or apps only. */
export type AllowedFactors = 'apps_and_keys' | 'keys_only' | 'apps_only';

export const ALLOWED_FACTORS_CHOICES: readonly AllowedFactors[] = ['apps_and_keys', 'keys_only', 'apps_only'];

export function isAllowedFactors(value: string): value is AllowedFactors {
  return (ALLOWED_FACTORS_CHOICES as readonly string[]).includes(value);
}

export function allowsKind(allowed: AllowedFactors, kind: DeviceKind): boolean {
  switch (allowed) {
    case 'apps_and_keys':
      return true;
    case 'keys_only':
      return kind === 'webauthn';
    case 'apps_only':
      return kind === 'totp';
  }
}

/** A person's confirmed devices, by kind. */
export interface DevicesByKind {
  apps: number;
  keys: number;
}

function heldKinds(devices: DevicesByKind): DeviceKind[] {
  const kinds: DeviceKind[] = [];
  if (devices.keys > 0) kinds.push('webauthn');
  if (devices.apps > 0) kinds.push('totp');
  return kinds;
}

/** Whether the person holds a device of an allowed kind. */
export function holdsAllowedDevice(allowed: AllowedFactors, devices: DevicesByKind): boolean {
  return heldKinds(devices).some((kind) => allowsKind(allowed, kind));
}

/**
 * The kinds of device the person may sign in (or confirm who they are) with: those of
 * theirs that are allowed; when none is, every kind they hold, so that they can sign in
 * once more and link an allowed one. Recovery codes stay usable beside these either way.
 */
export function kindsToSignInWith(allowed: AllowedFactors, devices: DevicesByKind): DeviceKind[] {
  const held = heldKinds(devices);
  const permitted = held.filter((kind) => allowsKind(allowed, kind));
  return permitted.length > 0 ? permitted : held;
}

/** The kind of device a session's second factor was given with: a key, else a code (an app's or a recovery code). */
export function kindOfMethod(method: SecondFactorMethod | null): DeviceKind {
  return method === 'hwk' || method === 'swk' ? 'webauthn' : 'totp';
}

/**
 * Whether a session of a person with devices must link an allowed device before it counts
 * as signed in: they hold none of an allowed kind, or the session's second factor was not
 * of an allowed kind (a recovery code, or an app's code, under "keys only"). A person
 * without a device is left to the enforcement rules.
 */
export function mustAddAllowedDevice(
  allowed: AllowedFactors,
  devices: DevicesByKind,
  sessionMethod: SecondFactorMethod | null,
): boolean {
  if (devices.apps + devices.keys === 0) return false;
  if (!holdsAllowedDevice(allowed, devices)) return true;
  return !allowsKind(allowed, kindOfMethod(sessionMethod));
}

/** What a change of the allowed factors does to the organisation's active people. */
export interface FactorPolicyImpact {
  /** Their devices are all of a kind no longer allowed: they sign in once more with one, then must link an allowed one. */
  mustAddDevice: number;
  /** They hold an allowed kind and another: the other is no longer offered at sign-in. */
  loseAKind: number;
  /** No device yet: when they link one, it must be of an allowed kind. */
  withoutDevice: number;
}

export function impactOfAllowedFactors(to: AllowedFactors, people: readonly DevicesByKind[]): FactorPolicyImpact {
  const impact: FactorPolicyImpact = { mustAddDevice: 0, loseAKind: 0, withoutDevice: 0 };
  for (const devices of people) {
    const held = heldKinds(devices);
    if (held.length === 0) impact.withoutDevice += 1;
    else if (!holdsAllowedDevice(to, devices)) impact.mustAddDevice += 1;
    else if (held.some((kind) => !allowsKind(to, kind))) impact.loseAKind += 1;
  }
  return impact;
}
