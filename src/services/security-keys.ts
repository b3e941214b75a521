// Security keys and passkeys: the options a browser needs to make one or to use one (each
// with a challenge handed out to this person, single-use, valid a few minutes), and the
// use case that links a new key.
import { randomUUID } from 'node:crypto';
import type {
  AuthenticatorTransportFuture,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from '@simplewebauthn/server';
import type { ClientInfo } from '../domain/audit.js';
import { deviceNameProblem, methodOfKey, type DeviceNameProblem } from '../domain/devices.js';
import { sealSecret } from '../domain/secret-box.js';
import type { User } from '../domain/users.js';
import type { Session } from '../store/sessions.js';
import { inOneCommitOf, type Tenant } from '../store/tenant.js';
import { webAuthn } from './webauthn.js';
import { addMinutes, type Deps } from './deps.js';
import type { DeviceLinked } from './devices.js';
import { signInPendingSession } from './login.js';
import { recoveryCodesWithFirstDevice } from './recovery-codes.js';
import { auditAndNotify } from './security-notices.js';

/** How long a browser has to answer a challenge: time to find the key and touch it. */
export const CHALLENGE_MINUTES = 5;
const TIMEOUT_MS = CHALLENGE_MINUTES * 60_000;
/** The longest answer a browser sends when making a key: far more than any real one. */
const MAX_REGISTRATION_LENGTH = 64 * 1024;

/** The transports the WebAuthn specification names; anything else a browser says is dropped. */
const TRANSPORTS: readonly string[] = ['ble', 'cable', 'hybrid', 'internal', 'nfc', 'smart-card', 'usb'];
const transportsOf = (values: readonly string[]) =>
  values.filter((t) => TRANSPORTS.includes(t)) as AuthenticatorTransportFuture[];

/**
 * What the browser needs to ask the person for one of their keys, and the challenge handed
 * out for it; null for a person without a key.
 */
export async function securityKeyRequest(
  deps: Deps,
  tenant: Tenant,
  userId: string,
): Promise<PublicKeyCredentialRequestOptionsJSON | null> {
  const keys = await tenant.devices.securityKeys(userId);
  if (keys.length === 0) return null;
  const { generateAuthenticationOptions } = await webAuthn();
  const options = await generateAuthenticationOptions({
    rpID: deps.relyingParty.id,
    allowCredentials: keys.map((key) => ({ id: key.credentialId, transports: transportsOf(key.transports) })),
    userVerification: 'preferred',
    timeout: TIMEOUT_MS,
  });
  await tenant.webauthnChallenges.issue(
    options.challenge,
    userId,
    'authentication',
    addMinutes(deps.now(), CHALLENGE_MINUTES),
  );
  return options;
}

/** What the browser needs to make a new key for the person (not one they already have here). */
export async function securityKeyCreation(
  deps: Deps,
  tenant: Tenant,
  user: User,
  organisationName: string,
): Promise<PublicKeyCredentialCreationOptionsJSON> {
  const existing = await tenant.devices.securityKeys(user.id);
  const { generateRegistrationOptions } = await webAuthn();
  const options = await generateRegistrationOptions({
    rpName: `Twofold (${organisationName})`,
    rpID: deps.relyingParty.id,
    userName: user.email,
    userID: new TextEncoder().encode(user.id),
    userDisplayName: user.name || user.email,
    attestationType: 'none',
    excludeCredentials: existing.map((key) => ({ id: key.credentialId, transports: transportsOf(key.transports) })),
    authenticatorSelection: { residentKey: 'preferred', userVerification: 'preferred' },
    timeout: TIMEOUT_MS,
  });
  await tenant.webauthnChallenges.issue(
    options.challenge,
    user.id,
    'registration',
    addMinutes(deps.now(), CHALLENGE_MINUTES),
  );
  return options;
}

/** The browser's answer when making a key (navigator.credentials.create, as JSON), or null. */
export function registrationAnswerOf(given: string): RegistrationResponseJSON | null {
  if (given.length > MAX_REGISTRATION_LENGTH) return null;
  try {
    const parsed = JSON.parse(given) as Partial<RegistrationResponseJSON> | null;
    const response = parsed?.response;
    if (
      parsed?.type !== 'public-key' ||
      typeof parsed.id !== 'string' ||
      typeof response?.clientDataJSON !== 'string' ||
      typeof response.attestationObject !== 'string'
    ) {
      return null;
    }
    return {
      id: parsed.id,
      rawId: typeof parsed.rawId === 'string' ? parsed.rawId : parsed.id,
      type: 'public-key',
      response: {
        clientDataJSON: response.clientDataJSON,
        attestationObject: response.attestationObject,
        transports: Array.isArray(response.transports)
          ? transportsOf((response.transports as unknown[]).filter((t): t is string => typeof t === 'string'))
          : [],
      },
      clientExtensionResults: {},
    };
  } catch {
    return null;
  }
}

export type AddSecurityKey =
  DeviceLinked | { ok: false; problem: DeviceNameProblem | 'key_not_made' | 'key_refused' | 'key_already_linked' };

/**
 * Links a key the person just made, named `name`: its answer must be to a challenge handed
 * out to them for this, unused, for Twofold's host name and origin. In one commit: the
 * challenge used up, the key linked, the end of a set-up at next sign-in, the audit entry,
 * and either the sign-in it completes (`completesSignIn`, at the setup screen) or the
 * second factor it gives this session.
 */
export async function addSecurityKey(
  deps: Deps,
  tenant: Tenant,
  user: User,
  session: Session,
  input: { name: string; answer: string },
  client: ClientInfo,
  completesSignIn: boolean,
): Promise<AddSecurityKey> {
  const nameProblem = deviceNameProblem(input.name);
  if (nameProblem !== null) return { ok: false, problem: nameProblem };
  const answer = registrationAnswerOf(input.answer);
  if (answer === null) return { ok: false, problem: 'key_not_made' };
  const now = deps.now();
  const open = await tenant.webauthnChallenges.open(user.id, 'registration', now);
  const { verifyRegistrationResponse } = await webAuthn();
  let verified;
  try {
    verified = await verifyRegistrationResponse({
      response: answer,
      expectedChallenge: (challenge) => open.includes(challenge),
      expectedOrigin: deps.relyingParty.origin,
      expectedRPID: deps.relyingParty.id,
      requireUserVerification: false,
    });
  } catch {
    return { ok: false, problem: 'key_refused' };
  }
  const { registrationInfo } = verified;
  if (!verified.verified || registrationInfo === undefined) return { ok: false, problem: 'key_refused' };
  const challenge = JSON.parse(Buffer.from(answer.response.clientDataJSON, 'base64url').toString('utf8')) as {
    challenge: string;
  };
  const { credential, credentialBackedUp } = registrationInfo;
  const name = input.name.trim();
  const deviceId = randomUUID();
  const method = methodOfKey(credentialBackedUp);
  const added = await inOneCommitOf(deps.db, tenant.organisationId, async (trx) => {
    if (!(await trx.webauthnChallenges.consume(challenge.challenge, user.id, 'registration', now))) return 'refused';
    const inserted = await trx.devices.insertSecurityKey({
      id: deviceId,
      userId: user.id,
      name,
      sealedPublicKey: sealSecret(deps.secretKey.current, credential.publicKey, deviceId),
      credentialId: credential.id,
      signCount: credential.counter,
      transports: answer.response.transports ?? [],
      backedUp: credentialBackedUp,
      now,
    });
    if (!inserted) return 'taken';
    await trx.users.setSetUpAtNextLogin(user.id, false, now);
    await auditAndNotify(deps, trx, now, { actor: user, client }, 'device_added', user, {
      device: name,
      kind: 'security_key',
    });
    const recoveryCodes = await recoveryCodesWithFirstDevice(trx, user, client, now);
    if (completesSignIn) {
      const token = await signInPendingSession(
        deps,
        trx,
        session,
        user,
        client,
        now,
        'password_and_new_device',
        method,
      );
      return { token, recoveryCodes };
    }
    // Making the key took the key itself: a second factor given in this session.
    await trx.sessions.markSecondFactor(session.id, now, method);
    return { token: null, recoveryCodes };
  });
  if (added === 'refused') return { ok: false, problem: 'key_refused' };
  if (added === 'taken') return { ok: false, problem: 'key_already_linked' };
  if (completesSignIn) deps.events?.loginOutcome('completed_with_new_device');
  deps.mailQueued?.();
  return { ok: true, deviceName: name, signedInToken: added.token, recoveryCodes: added.recoveryCodes };
}
