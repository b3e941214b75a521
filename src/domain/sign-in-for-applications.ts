// Signing a person in to one of their organisation's applications (OpenID Connect, or a
// site behind a proxy that asks Twofold): who may, what they must have given first, and
// what an OpenID Connect application is told about them.
import type { Application } from './applications.js';
import type { Organisation } from './organisations.js';
import type { Role, User } from './users.js';

/** The `acr` values: a password alone, or a password and a second factor. */
export const ACR_PASSWORD = 'urn:twofold:acr:password';
export const ACR_TWO_FACTOR = 'urn:twofold:acr:2fa';
export const ACR_VALUES = [ACR_PASSWORD, ACR_TWO_FACTOR] as const;

/** What a Twofold session shows of how the person proved who they are. */
export interface SessionProof {
  createdAt: Date;
  verifiedAt: Date | null;
  secondFactorAt: Date | null;
}

export interface Authentication {
  acr: string;
  /** RFC 8176 methods. */
  amr: string[];
  /** When the person last gave their password. */
  authTime: Date;
}

export function authenticationOf(session: SessionProof): Authentication {
  const twoFactor = session.secondFactorAt !== null;
  return {
    acr: twoFactor ? ACR_TWO_FACTOR : ACR_PASSWORD,
    amr: twoFactor ? ['pwd', 'otp', 'mfa'] : ['pwd'],
    authTime: session.verifiedAt ?? session.createdAt,
  };
}

/** Whether an application's `acr_values` ask for a second factor (the only value above a password). */
export function asksForSecondFactor(acrValues: string | undefined): boolean {
  return (acrValues ?? '').split(' ').includes(ACR_TWO_FACTOR);
}

export type ApplicationAccess =
  | { kind: 'no_access' }
  | { kind: 'needs_second_factor'; hasDevice: boolean }
  | { kind: 'allowed'; authentication: Authentication };

/** What Twofold guards: an application, or a site behind a proxy. */
export type Guarded = Pick<Application, 'organisationId' | 'requireTwoFactor'>;

/**
 * A signed-in person (past the organisation's own rules: the guard holds anyone else at
 * the setup screen or refuses them) and an application or site: only active members of its
 * organisation get in; one that requires a second factor, or asks for one, gets a person
 * who gave one in this session.
 */
export function applicationAccessOf(
  application: Guarded,
  user: User,
  session: SessionProof,
  confirmedDevices: number,
  acrValues: string | undefined,
): ApplicationAccess {
  if (user.organisationId !== application.organisationId || user.status !== 'active') return { kind: 'no_access' };
  const authentication = authenticationOf(session);
  const wantsSecondFactor = application.requireTwoFactor || asksForSecondFactor(acrValues);
  if (wantsSecondFactor && session.secondFactorAt === null) {
    return { kind: 'needs_second_factor', hasDevice: confirmedDevices > 0 };
  }
  return { kind: 'allowed', authentication };
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
