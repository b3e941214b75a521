// Time-based one-time passwords (RFC 6238) through otpauth, with the parameters every
// authenticator app supports: SHA1, 6 digits, 30-second steps.
import { randomBytes } from 'node:crypto';
import { Secret, TOTP } from 'otpauth';

export const TOTP_PERIOD_SECONDS = 30;
export const TOTP_DIGITS = 6;
export const TOTP_ALGORITHM = 'SHA1';
/** Codes of one step either side of now are accepted, for clock drift and typing time. */
export const TOTP_WINDOW = 1;
const SECRET_BYTES = 20; // 160 bits, as RFC 4226 recommends

export function newTotpSecret(): Uint8Array {
  return new Uint8Array(randomBytes(SECRET_BYTES));
}

export function base32Of(secret: Uint8Array): string {
  return new Secret({ buffer: copyToArrayBuffer(secret) }).base32;
}

/** The secret as a person types it: groups of four characters. */
export function secretForTyping(secret: Uint8Array): string {
  return (base32Of(secret).match(/.{1,4}/g) ?? []).join(' ');
}

/**
 * The Key URI format forbids a colon in the issuer, even encoded: apps would split the
 * label there. An organisation named "Acme: Labs" is shown as "Acme Labs".
 */
export function otpauthUri(secret: Uint8Array, issuer: string, accountName: string): string {
  const safeIssuer = issuer.replace(/\s*:\s*/g, ' ').trim();
  return totpFor(secret, safeIssuer, accountName).toString();
}

export function timeStepAt(now: Date): number {
  return Math.floor(now.getTime() / 1000 / TOTP_PERIOD_SECONDS);
}

/**
 * The time step whose code equals `code`, within the window around `now`, or null.
 * The caller accepts it only if it is later than the device's last used step.
 */
export function matchingTimeStep(secret: Uint8Array, code: string, now: Date, window = TOTP_WINDOW): number | null {
  const delta = TOTP.validate({
    token: code,
    secret: new Secret({ buffer: copyToArrayBuffer(secret) }),
    algorithm: TOTP_ALGORITHM,
    digits: TOTP_DIGITS,
    period: TOTP_PERIOD_SECONDS,
    timestamp: now.getTime(),
    window,
  });
  return delta === null ? null : timeStepAt(now) + delta;
}

/** How far back a code is recognised as expired rather than wrong, in steps (5 minutes). */
const EXPIRED_LOOKBACK_STEPS = 10;

/** A code the app showed a few minutes ago: worth telling the user it expired. */
export function isExpiredCode(secret: Uint8Array, code: string, now: Date): boolean {
  const step = matchingTimeStep(secret, code, now, EXPIRED_LOOKBACK_STEPS);
  return step !== null && step < timeStepAt(now) - TOTP_WINDOW;
}

/** The code an authenticator app shows at `now`; used by tests and the CLI's checks. */
export function codeAt(secret: Uint8Array, now: Date): string {
  return TOTP.generate({
    secret: new Secret({ buffer: copyToArrayBuffer(secret) }),
    algorithm: TOTP_ALGORITHM,
    digits: TOTP_DIGITS,
    period: TOTP_PERIOD_SECONDS,
    timestamp: now.getTime(),
  });
}

export type CodeInput = { ok: true; code: string } | { ok: false };

/** Exactly six ASCII digits; spaces between groups are allowed and removed. */
export function parseCode(input: string): CodeInput {
  const code = input.replace(/ /g, '');
  return /^[0-9]{6}$/.test(code) ? { ok: true, code } : { ok: false };
}

function totpFor(secret: Uint8Array, issuer: string, label: string): TOTP {
  return new TOTP({
    issuer,
    label,
    secret: new Secret({ buffer: copyToArrayBuffer(secret) }),
    algorithm: TOTP_ALGORITHM,
    digits: TOTP_DIGITS,
    period: TOTP_PERIOD_SECONDS,
  });
}

function copyToArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.slice().buffer;
}
