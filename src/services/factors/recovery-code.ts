// Recovery codes as a second factor: any code of the person's set, once. They are
// not a device: holding codes never makes a person "enrolled" (see domain/enforcement.ts,
// which counts devices), and they cannot be enrolled, only issued.
import { matchingRecoveryCode, normaliseRecoveryCode } from '../../domain/recovery-codes.js';
import type { FactorCredential, SecondFactor } from './factor.js';

export interface RecoveryCodeCredential extends FactorCredential {
  salt: string;
  hash: string;
}

export interface RecoveryCodeProof {
  codeId: string;
}

export const recoveryCodeFactor: SecondFactor<string, RecoveryCodeCredential, RecoveryCodeProof> = {
  kind: 'recovery_code',
  deviceKind: null,
  backup: true,

  parse: normaliseRecoveryCode,

  async credentialsOf(_context, tenant, userId) {
    const codes = await tenant.recoveryCodes.setOf(userId);
    return codes.map((code) => ({ ...code, name: 'Recovery code' }));
  },

  enrollingCredential() {
    return Promise.resolve(null);
  },

  match(credentials, normalised) {
    const found = matchingRecoveryCode(credentials, normalised);
    return found === null ? { matched: false, reason: 'wrong' } : { matched: true, proof: { codeId: found.id } };
  },

  /** A used code fails here, in the conditional write, and is answered as a replay. */
  // A one-time password, in RFC 8176's words.
  methodOf: () => 'otp',

  accept(trx, userId, { codeId }, now, acceptedFor) {
    if (acceptedFor === 'enrolment') return Promise.resolve(false);
    return trx.recoveryCodes.use(userId, codeId, now);
  },
};
