// The first second factor: 6-digit codes from an authenticator app (TOTP, RFC 6238), one
// secret per linked device, sealed at rest. A time step is accepted once per device.
import { openSecret } from '../../domain/secret-box.js';
import { isExpiredCode, matchingTimeStep, parseCode } from '../../domain/totp.js';
import type { FactorCredential, SecondFactor } from './factor.js';

export interface TotpCredential extends FactorCredential {
  secret: Uint8Array;
}

export interface TotpProof {
  deviceId: string;
  timeStep: number;
}

export const totpFactor: SecondFactor<string, TotpCredential, TotpProof> = {
  kind: 'totp',
  deviceKind: 'totp',
  backup: false,

  parse(given) {
    const parsed = parseCode(given);
    return parsed.ok ? parsed.code : null;
  },

  credentialsOf({ secretKey }, _tenant, _userId, devices) {
    const apps = devices.filter(({ device }) => device.kind === 'totp');
    return Promise.resolve(
      apps.map(({ device, sealedSecret }) => ({
        id: device.id,
        name: device.name,
        secret: openSecret(secretKey, sealedSecret, device.id),
      })),
    );
  },

  async enrollingCredential({ secretKey }, tenant, userId, credentialId) {
    const found = await tenant.devices.findForUser(userId, credentialId);
    if (found === null || found.device.confirmedAt !== null) return null;
    const { device, sealedSecret } = found;
    return { id: device.id, name: device.name, secret: openSecret(secretKey, sealedSecret, device.id) };
  },

  match(credentials, code, now) {
    let expired = false;
    for (const { id, secret } of credentials) {
      const timeStep = matchingTimeStep(secret, code, now);
      if (timeStep !== null) return { matched: true, proof: { deviceId: id, timeStep } };
      expired ||= isExpiredCode(secret, code, now);
    }
    return { matched: false, reason: expired ? 'expired' : 'wrong' };
  },

  methodOf: () => 'otp',

  accept(trx, userId, { deviceId, timeStep }, now, acceptedFor) {
    return trx.devices.acceptTimeStep(userId, deviceId, timeStep, now, acceptedFor);
  },
};
