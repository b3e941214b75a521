// The registered second factors. Adding a kind of factor is one file implementing
// SecondFactor (factor.ts) and one line here.
import type { AnyFactor } from './factor.js';
import { recoveryCodeFactor } from './recovery-code.js';
import { securityKeyFactor } from './security-key.js';
import { totpFactor } from './totp.js';

const FACTORS = {
  totp: totpFactor,
  security_key: securityKeyFactor,
  recovery_code: recoveryCodeFactor,
} as const satisfies Record<string, AnyFactor>;

export type FactorKind = keyof typeof FACTORS;

export function factorOf(kind: FactorKind): AnyFactor {
  return FACTORS[kind];
}

/** Every factor kind that is not a backup, in the order a person is offered them. */
export const REGISTERED_FACTORS: readonly AnyFactor[] = Object.values(FACTORS).filter((factor) => !factor.backup);

/** The backups (recovery codes), tried when none of the others reads what was given. */
export const BACKUP_FACTORS: readonly AnyFactor[] = Object.values(FACTORS).filter((factor) => factor.backup);
