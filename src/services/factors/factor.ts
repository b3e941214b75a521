// A second factor, as sign-in, step-up and enrolment see it. Each kind of factor (an
// authenticator app's codes today; recovery codes and passkeys next) is one file that
// implements this and is registered in factors/index.ts. Nothing else knows which kind it
// is: the wrong-attempt gate and lock (services/second-factor.ts) guard them all alike.
import type { DeviceKind, RelyingParty, SecondFactorMethod } from '../../domain/devices.js';
import type { SecretKeyring } from '../../domain/secret-box.js';
import type { StoredDevice } from '../../store/devices.js';
import type { Tenant, TenantInTransaction } from '../../store/tenant.js';

/** A credential of any factor: what the person named it, for the audit log and their pages. */
export interface FactorCredential {
  id: string;
  name: string;
}

/** What matching a factor's input gives: the proof to accept, or why it is not right. */
export type FactorMatch<Proof> = { matched: true; proof: Proof } | { matched: false; reason: FactorMiss };

/**
 * Why an input did not match: wrong, an expired code, or a key whose signature counter went
 * backwards (a possible copy of the key, recorded as such).
 */
export type FactorMiss = 'wrong' | 'expired' | 'possible_clone';

/** What a factor's reads and writes need besides the store. */
export interface FactorContext {
  secretKey: SecretKeyring;
  relyingParty: RelyingParty;
  /** The services' clock. */
  now: () => Date;
}

export interface SecondFactor<Input, Credential extends FactorCredential, Proof> {
  /** Its name in the registry (factors/index.ts), in the audit log and in forms. */
  readonly kind: string;
  /** The kind of device its credentials are (what an organisation allows or not); null for a backup. */
  readonly deviceKind: DeviceKind | null;
  /**
   * A backup (recovery codes): taken only from a person who has a factor that is not one,
   * never counted as enrolled, never used to enrol; its credentials are read only when
   * what the person gave reads as its input.
   */
  readonly backup: boolean;
  /** What the person gave, as the factor's own input; null when it cannot be one (never counted as a guess). */
  parse(given: string): Input | null;
  /**
   * What checking needs: the person's credentials of this kind that sign in, from their
   * confirmed devices (read once for every kind) or read by the factor itself.
   */
  credentialsOf(
    context: FactorContext,
    tenant: Tenant,
    userId: string,
    devices: readonly StoredDevice[],
  ): Promise<Credential[]>;
  /** The credential being enrolled, while it is not yet confirmed; null otherwise. */
  enrollingCredential(
    context: FactorContext,
    tenant: Tenant,
    userId: string,
    credentialId: string,
  ): Promise<Credential | null>;
  /** Pure (no reads or writes; a signature check may be asynchronous): whether the input matches one of the credentials at `now`. */
  match(
    credentials: readonly Credential[],
    input: Input,
    now: Date,
    relyingParty: RelyingParty,
  ): FactorMatch<Proof> | Promise<FactorMatch<Proof>>;
  /** How a matched proof was given, as applications are told (RFC 8176). */
  methodOf(proof: Proof): SecondFactorMethod;
  /**
   * Accepts a matched proof in the use case's commit: false when it was accepted before (a
   * replay), in one conditional write so that of simultaneous copies exactly one is
   * accepted. Enrolment confirms the credential; a use records it as the last use.
   */
  accept(
    trx: TenantInTransaction,
    userId: string,
    proof: Proof,
    now: Date,
    acceptedFor: 'enrolment' | 'use',
  ): Promise<boolean>;
}

/** A factor of any kind, as the use cases hold it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyFactor = SecondFactor<any, any, any>;
