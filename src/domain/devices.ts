// The devices a user links to their account as a second factor: authenticator apps, and
// security keys and passkeys.

/** An authenticator app (6-digit codes, TOTP) or a security key or passkey (WebAuthn). */
export type DeviceKind = 'totp' | 'webauthn';

/**
 * How a second factor was given, in RFC 8176's words, as applications are told (`amr`): a
 * one-time code (an app's code or a recovery code), a hardware-bound key (a security key,
 * a passkey kept on one device) or a software key (a passkey synced between devices).
 */
export type SecondFactorMethod = 'otp' | 'hwk' | 'swk';

export function isSecondFactorMethod(value: string | null): value is SecondFactorMethod {
  return value === 'otp' || value === 'hwk' || value === 'swk';
}

/** A key's method: a passkey its authenticator says is backed up (synced) is a software key. */
export function methodOfKey(backedUp: boolean): SecondFactorMethod {
  return backedUp ? 'swk' : 'hwk';
}

/** Where Twofold is, for WebAuthn: its host name (the relying party id) and its origin. */
export interface RelyingParty {
  id: string;
  origin: string;
}

/** The relying party of Twofold's public address: keys are bound to its host name. */
export function relyingPartyOf(publicUrl: string): RelyingParty {
  const url = new URL(publicUrl);
  return { id: url.hostname, origin: url.origin };
}

export interface Device {
  id: string;
  userId: string;
  kind: DeviceKind;
  name: string;
  createdAt: Date;
  /** Null until the user confirms it with a code; only confirmed devices sign in. */
  confirmedAt: Date | null;
  /** The last sign-in or confirmation of identity with it; null if never used since it was linked. */
  lastUsedAt: Date | null;
}

export const DEVICE_NAME_MAX_LENGTH = 60;

export type DeviceNameProblem = 'device_name_missing' | 'device_name_too_long';

export function deviceNameProblem(name: string): DeviceNameProblem | null {
  const trimmed = name.trim();
  if (trimmed.length === 0) return 'device_name_missing';
  if ([...trimmed].length > DEVICE_NAME_MAX_LENGTH) return 'device_name_too_long';
  return null;
}
