// Signing a person in to one of their organisation's applications (OpenID Connect, or a
// site behind a proxy that asks Twofold): who may, what they must have given first, and
// what an OpenID Connect application is told about them.
import type { Application } from './applications.js';
import type { SecondFactorMethod } from './devices.js';
import type { Organisation } from './organisations.js';
import type { Role, User } from './users.js';

/**
 * The `acr` values, weakest first: a password alone; a password and a second factor; and,
 * in the OpenID Connect Extended Authentication Profile's words, phishing-resistant (a
 * security key or passkey, bound to Twofold's address) and phishing-resistant
 * hardware-protected (a key that stays on one device: not a passkey synced between devices).
 */
export const ACR_PASSWORD = 'urn:twofold:acr:password';
export const ACR_TWO_FACTOR = 'urn:twofold:acr:2fa';
export const ACR_PHISHING_RESISTANT = 'phr';
export const ACR_PHISHING_RESISTANT_HARDWARE = 'phrh';
export const ACR_VALUES = [
  ACR_PASSWORD,
  ACR_TWO_FACTOR,
  ACR_PHISHING_RESISTANT,
  ACR_PHISHING_RESISTANT_HARDWARE,
] as const;

export type Acr = (typeof ACR_VALUES)[number];

const isAcr = (value: string): value is Acr => (ACR_VALUES as readonly string[]).includes(value);

/** What a Twofold session shows of how the person proved who they are. */
export interface SessionProof {
  createdAt: Date;
  verifiedAt: Date | null;
  secondFactorAt: Date | null;
  /** How the second factor was given; null without one (or from before keys, when it was a code). */
  secondFactorMethod: SecondFactorMethod | null;
}

/** The RFC 8176 method of the session's second factor, or null without one. */
function methodOf(session: SessionProof): SecondFactorMethod | null {
  if (session.secondFactorAt === null) return null;
  return session.secondFactorMethod ?? 'otp';
}

/** Whether the session's sign-in meets `acr`. */
export function meetsAcr(session: SessionProof, acr: Acr): boolean {
  const method = methodOf(session);
  switch (acr) {
    case ACR_PASSWORD:
      return true;
    case ACR_TWO_FACTOR:
      return method !== null;
    case ACR_PHISHING_RESISTANT:
      return method === 'hwk' || method === 'swk';
    case ACR_PHISHING_RESISTANT_HARDWARE:
      return method === 'hwk';
  }
}

/** The Twofold values among an application's `acr_values`, in its order of preference. */
function requestedAcrs(acrValues: string | undefined): Acr[] {
  return (acrValues ?? '').split(' ').filter(isAcr);
}

/**
 * What an application's `acr_values` ask for at the least, beyond a password: the weakest
 * value it names above a password (it accepts any of them), or null when it names none.
 */
export function leastAcrAskedFor(acrValues: string | undefined): Acr | null {
  const asked = requestedAcrs(acrValues).filter((acr) => acr !== ACR_PASSWORD);
  if (asked.length === 0) return null;
  return asked.reduce((least, acr) => (rankOf(acr) < rankOf(least) ? acr : least));
}

/** Weakest first, as ACR_VALUES lists them. */
function rankOf(acr: Acr): number {
  return ACR_VALUES.indexOf(acr);
}

export interface Authentication {
  acr: string;
  /** RFC 8176 methods. */
  amr: string[];
  /** When the person last gave their password. */
  authTime: Date;
}

/**
 * What the application is told: `amr` names the second factor's method (an app's or a
 * recovery code: otp; a key: hwk or swk); `acr` is the first of the values it asked for
 * that the session meets, and without any, 2fa or password as before.
 */
export function authenticationOf(session: SessionProof, acrValues?: string): Authentication {
  const method = methodOf(session);
  const met = requestedAcrs(acrValues).find((acr) => meetsAcr(session, acr));
  return {
    acr: met ?? (method !== null ? ACR_TWO_FACTOR : ACR_PASSWORD),
    amr: method !== null ? ['pwd', method, 'mfa'] : ['pwd'],
    authTime: session.verifiedAt ?? session.createdAt,
  };
}

/** The person's confirmed devices, as an application's demands need them. */
export interface HeldDevices {
  devices: number;
  keys: number;
  /** Keys that stay on one device (not synced passkeys). */
  hardwareKeys: number;
}

export type ApplicationAccess =
  | { kind: 'no_access' }
  | { kind: 'needs_second_factor'; hasDevice: boolean }
  /** Asked for phishing-resistant sign-in: a key used again, or none they could use (`hasKey` false). */
  | { kind: 'needs_key'; hasKey: boolean; acr: Acr }
  | { kind: 'allowed'; authentication: Authentication };

/** What Twofold guards: an application, or a site behind a proxy. */
export type Guarded = Pick<Application, 'organisationId' | 'requireTwoFactor'> &
  Partial<Pick<Application, 'requirePhishingResistant'>>;

/**
 * A signed-in person (past the organisation's own rules: the guard holds anyone else at
 * the setup screen or refuses them) and an application or site: only active members of its
 * organisation get in; one that requires a second factor, or asks for one, gets a person
 * who gave one in this session; one that asks for phishing-resistant sign-in gets a person
 * who used a key (a hardware-bound one for phrh) in this session, never less.
 */
export function applicationAccessOf(
  application: Guarded,
  user: User,
  session: SessionProof,
  held: HeldDevices,
  acrValues: string | undefined,
): ApplicationAccess {
  if (user.organisationId !== application.organisationId || user.status !== 'active') return { kind: 'no_access' };
  const asked = leastAcrAskedFor(acrValues);
  // An application that requires phishing-resistant sign-in gets at least phr, whatever it asks.
  const raised = application.requirePhishingResistant === true && (asked === null || rankOf(asked) < rankOf('phr'));
  const least = raised ? ACR_PHISHING_RESISTANT : asked;
  if (least === ACR_PHISHING_RESISTANT || least === ACR_PHISHING_RESISTANT_HARDWARE) {
    if (!meetsAcr(session, least)) {
      const usable = least === ACR_PHISHING_RESISTANT ? held.keys : held.hardwareKeys;
      return { kind: 'needs_key', hasKey: usable > 0, acr: least };
    }
  } else if ((application.requireTwoFactor || least === ACR_TWO_FACTOR) && session.secondFactorAt === null) {
    return { kind: 'needs_second_factor', hasDevice: held.devices > 0 };
  }
  return { kind: 'allowed', authentication: authenticationOf(session, raised ? ACR_PHISHING_RESISTANT : acrValues) };
}

/** The claims each scope releases. */
export const CLAIMS_BY_SCOPE = {
  openid: ['sub', 'acr', 'amr', 'auth_time'],
  email: ['email', 'email_verified'],
  profile: ['name', 'organisation_id', 'organisation_name', 'role'],
} as const;

export interface Claims {
  sub: string;
  email: string;
  /** Twofold never proves that a person receives mail at their address: an administrator typed it. */
  email_verified: false;
  name: string;
  organisation_id: string;
  organisation_name: string;
  role: Role;
}

/** `sub` is the person's id: stable, and never given to anyone else. */
export function claimsOf(user: User, organisation: Organisation): Claims {
  return {
    sub: user.id,
    email: user.email,
    email_verified: false,
    name: user.name,
    organisation_id: organisation.id,
    organisation_name: organisation.name,
    role: user.role,
  };
}
