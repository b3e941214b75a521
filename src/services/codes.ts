// Checking a 6-digit code against a user's devices, accepting each time step once.
import { openSecret } from '../domain/secret-box.js';
import { isExpiredCode, matchingTimeStep, parseCode } from '../domain/totp.js';
import type { Tenant } from '../store/tenant.js';

export type CodeCheck =
  { ok: true; deviceId: string } | { ok: false; reason: 'malformed' | 'wrong' | 'expired' | 'replayed' };

export interface CodeCandidate {
  device: { id: string };
  sealedSecret: string;
}

/**
 * Tries the code on each candidate device. A code whose step the device has already
 * accepted is "replayed"; the update that accepts a step is atomic.
 */
export async function checkCode(
  tenant: Tenant,
  key: Buffer,
  userId: string,
  candidates: CodeCandidate[],
  input: string,
  now: Date,
): Promise<CodeCheck> {
  const parsed = parseCode(input);
  if (!parsed.ok) return { ok: false, reason: 'malformed' };
  let expired = false;
  for (const { device, sealedSecret } of candidates) {
    const secret = openSecret(key, sealedSecret, device.id);
    const step = matchingTimeStep(secret, parsed.code, now);
    if (step === null) {
      expired ||= isExpiredCode(secret, parsed.code, now);
      continue;
    }
    if (await tenant.devices.acceptTimeStep(userId, device.id, step, now)) return { ok: true, deviceId: device.id };
    return { ok: false, reason: 'replayed' };
  }
  return { ok: false, reason: expired ? 'expired' : 'wrong' };
}

export function describeCodeProblem(reason: 'malformed' | 'wrong' | 'expired' | 'replayed'): string {
  switch (reason) {
    case 'malformed':
      return 'Enter the 6-digit code from your authenticator app (digits only).';
    case 'wrong':
      return 'That code is not right. Check you are reading the entry for this account and try the code your app shows now.';
    case 'expired':
      return 'That code has expired. Enter the new code your app shows now.';
    case 'replayed':
      return 'That code has already been used. Wait for your app to show the next code and enter it.';
  }
}
