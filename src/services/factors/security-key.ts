// Security keys and passkeys (WebAuthn), checked with @simplewebauthn/server: the browser
// signs a challenge Twofold handed out for this person, with a key bound to Twofold's host
// name; the signature is checked with the key's public key (sealed at rest, see migration
// 009). An answer is accepted once: its challenge is consumed in the use case's commit, and
// the key's signature counter must have stayed as the check read it. A counter that goes
// backwards from a non-zero value is refused as a possible copy of the key; a counter that
// stays at 0 (passkeys that keep none) and backed-up flags that change (synced passkeys)
// are accepted.
import type { AuthenticationResponseJSON } from '@simplewebauthn/server';
import { webAuthn } from '../webauthn.js';
import { methodOfKey } from '../../domain/devices.js';
import { openSecret } from '../../domain/secret-box.js';
import type { FactorCredential, FactorMatch, SecondFactor } from './factor.js';

/** The longest answer a browser sends for one key: far more than any real one. */
const MAX_ANSWER_LENGTH = 16 * 1024;

export interface SecurityKeyCredential extends FactorCredential {
  credentialId: string;
  publicKey: Uint8Array;
  signCount: number;
  transports: string[];
  /** The challenges handed out to this person for signing in that are still open. */
  openChallenges: readonly string[];
}

export interface SecurityKeyProof {
  deviceId: string;
  challenge: string;
  previousCount: number;
  newCount: number;
  backedUp: boolean;
}

const isText = (value: unknown): value is string => typeof value === 'string' && value.length > 0;

/** The browser's answer (navigator.credentials.get, as JSON), or null when `given` cannot be one. */
export function securityKeyAnswerOf(given: string): AuthenticationResponseJSON | null {
  if (given.length > MAX_ANSWER_LENGTH || !given.trimStart().startsWith('{')) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(given);
  } catch {
    return null;
  }
  if (typeof parsed !== 'object' || parsed === null) return null;
  const answer = parsed as Partial<AuthenticationResponseJSON>;
  const response = answer.response as Partial<AuthenticationResponseJSON['response']> | undefined;
  if (
    answer.type !== 'public-key' ||
    !isText(answer.id) ||
    answer.rawId !== answer.id ||
    typeof response !== 'object' ||
    response === null ||
    !isText(response.clientDataJSON) ||
    !isText(response.authenticatorData) ||
    !isText(response.signature)
  ) {
    return null;
  }
  return {
    id: answer.id,
    rawId: answer.id,
    type: 'public-key',
    response: {
      clientDataJSON: response.clientDataJSON,
      authenticatorData: response.authenticatorData,
      signature: response.signature,
      ...(isText(response.userHandle) ? { userHandle: response.userHandle } : {}),
    },
    clientExtensionResults: {},
  };
}

/** The challenge the browser says it signed, read from its client data (checked again by the verification). */
function challengeOf(answer: AuthenticationResponseJSON): string | null {
  try {
    const data = JSON.parse(Buffer.from(answer.response.clientDataJSON, 'base64url').toString('utf8')) as unknown;
    const challenge = (data as { challenge?: unknown } | null)?.challenge;
    return typeof challenge === 'string' ? challenge : null;
  } catch {
    return null;
  }
}

export const securityKeyFactor: SecondFactor<AuthenticationResponseJSON, SecurityKeyCredential, SecurityKeyProof> = {
  kind: 'security_key',
  deviceKind: 'webauthn',
  backup: false,

  parse: securityKeyAnswerOf,

  async credentialsOf({ secretKey, now }, tenant, userId, devices) {
    const keys = devices.filter(({ device }) => device.kind === 'webauthn');
    if (keys.length === 0) return [];
    // Read with the keys only for a person who has some: nobody else is asked for one.
    const openChallenges = await tenant.webauthnChallenges.open(userId, 'authentication', now());
    return keys.map((key) => ({
      id: key.device.id,
      name: key.device.name,
      credentialId: key.credentialId,
      publicKey: openSecret(secretKey, key.sealedSecret, key.device.id),
      signCount: key.signCount,
      transports: key.transports,
      openChallenges,
    }));
  },

  // A key is linked by its own use case (services/security-keys.ts), made and checked at once.
  enrollingCredential: () => Promise.resolve(null),

  async match(credentials, answer, _now, relyingParty): Promise<FactorMatch<SecurityKeyProof>> {
    const credential = credentials.find((c) => c.credentialId === answer.id);
    const challenge = challengeOf(answer);
    if (credential === undefined || challenge === null || !credential.openChallenges.includes(challenge)) {
      return { matched: false, reason: 'wrong' };
    }
    try {
      const { verifyAuthenticationResponse } = await webAuthn();
      const { verified, authenticationInfo } = await verifyAuthenticationResponse({
        response: answer,
        expectedChallenge: challenge,
        expectedOrigin: relyingParty.origin,
        expectedRPID: relyingParty.id,
        credential: {
          id: credential.credentialId,
          publicKey: new Uint8Array(credential.publicKey),
          counter: credential.signCount,
        },
        // A second factor after the password: the key's presence is what is asked.
        requireUserVerification: false,
      });
      if (!verified) return { matched: false, reason: 'wrong' };
      return {
        matched: true,
        proof: {
          deviceId: credential.id,
          challenge,
          previousCount: credential.signCount,
          newCount: authenticationInfo.newCounter,
          backedUp: authenticationInfo.credentialBackedUp,
        },
      };
    } catch (error) {
      if (error instanceof Error && /counter value/i.test(error.message)) {
        return { matched: false, reason: 'possible_clone' };
      }
      return { matched: false, reason: 'wrong' };
    }
  },

  methodOf: (proof) => methodOfKey(proof.backedUp),

  async accept(trx, userId, proof, now, acceptedFor) {
    if (acceptedFor === 'enrolment') return false;
    if (!(await trx.webauthnChallenges.consume(proof.challenge, userId, 'authentication', now))) return false;
    return trx.devices.acceptSecurityKeyUse(userId, proof.deviceId, {
      previousCount: proof.previousCount,
      newCount: proof.newCount,
      backedUp: proof.backedUp,
      now,
    });
  },
};
