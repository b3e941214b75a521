// Linking, confirming and removing a user's authenticator devices.
import { randomUUID } from 'node:crypto';
import { deviceNameProblem, type Device, type DeviceNameProblem } from '../domain/devices.js';
import { mayRemoveDevice } from '../domain/enforcement.js';
import type { Organisation } from '../domain/organisations.js';
import { openSecret, sealSecret } from '../domain/secret-box.js';
import { newTotpSecret, otpauthUri, secretForTyping } from '../domain/totp.js';
import type { User } from '../domain/users.js';
import type { Session } from '../store/sessions.js';
import { atomically, inOneCommitOf, type Tenant } from '../store/tenant.js';
import type { ClientInfo } from '../domain/audit.js';
import type { AuditContext } from './audit.js';
import { addMinutes, type Deps } from './deps.js';
import { factorOf } from './factors/index.js';
import { signInPendingSession } from './login.js';
import { recoveryCodesWithFirstDevice } from './recovery-codes.js';
import {
  acceptSecondFactor,
  checkSecondFactor,
  recordWrongSecondFactor,
  reportWrongSecondFactor,
  secondFactorReplayed,
  type SecondFactorProblem,
} from './second-factor.js';
import { auditAndNotify } from './security-notices.js';

/** A set-up left unconfirmed this long is abandoned and cleared on the next one. */
const ABANDONED_AFTER_MINUTES = 24 * 60;

export type StartDevice = { ok: true; deviceId: string } | { ok: false; problem: DeviceNameProblem };

export async function startLinkingDevice(deps: Deps, tenant: Tenant, user: User, name: string): Promise<StartDevice> {
  const problem = deviceNameProblem(name);
  if (problem !== null) return { ok: false, problem };
  const now = deps.now();
  await tenant.devices.removeAbandoned(user.id, addMinutes(now, -ABANDONED_AFTER_MINUTES));
  const deviceId = randomUUID();
  await tenant.devices.insertUnconfirmed({
    id: deviceId,
    userId: user.id,
    name: name.trim(),
    sealedSecret: sealSecret(deps.secretKey.current, newTotpSecret(), deviceId),
    now,
  });
  return { ok: true, deviceId };
}

export interface PendingDevice {
  device: Device;
  secretForTyping: string;
  otpauthUri: string;
  qrSvgDataUri: string;
}

/** What the confirmation step shows; null once confirmed, so the secret is never shown again. */
export async function pendingDevice(
  deps: Deps,
  tenant: Tenant,
  organisation: Organisation,
  user: User,
  deviceId: string,
): Promise<PendingDevice | null> {
  const found = await tenant.devices.findForUser(user.id, deviceId);
  if (!found || found.device.confirmedAt !== null) return null;
  const secret = openSecret(deps.secretKey, found.sealedSecret, deviceId);
  const uri = otpauthUri(secret, organisation.name, user.email);
  // qrcode is loaded when a device is first linked: about 10 MiB an instance need not hold from the start.
  const { default: QRCode } = await import('qrcode');
  const svg = await QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 4 });
  return {
    device: found.device,
    secretForTyping: secretForTyping(secret),
    otpauthUri: uri,
    qrSvgDataUri: `data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}`,
  };
}

/** A device just linked; `recoveryCodes`: the set handed out with a first device, to be shown once; null for none. */
export interface DeviceLinked {
  ok: true;
  deviceName: string;
  signedInToken: string | null;
  recoveryCodes: string[] | null;
}

export type ConfirmDevice =
  DeviceLinked | { ok: false; reason: 'gone' } | { ok: false; reason: 'problem'; problem: SecondFactorProblem };

/**
 * Enrolment: the person confirms a device they are linking with a code from it. In the
 * commit that confirms it go the end of a reset, the audit entry, the recovery codes that
 * come with a first device and, for a sign-in held at the setup screen (`completesSignIn`),
 * the sign-in itself: a crash or a failing database between them must not leave a device
 * that signs in with no entry in the audit log, a first device without its codes, or a
 * person still asked to set one up. A device is confirmed once (a second try finds it
 * confirmed, or its code already taken), so a form sent again hands out no second set.
 */
export async function confirmDevice(
  deps: Deps,
  tenant: Tenant,
  user: User,
  session: Session,
  deviceId: string,
  code: string,
  client: ClientInfo,
  completesSignIn: boolean,
): Promise<ConfirmDevice> {
  const factor = factorOf('totp');
  const credential = await factor.enrollingCredential(deps, tenant, user.id, deviceId);
  if (credential === null) return { ok: false, reason: 'gone' };
  const check = await checkSecondFactor(deps, tenant, user, [{ factor, credentials: [credential] }], code, false);
  switch (check.kind) {
    case 'refused':
      return { ok: false, reason: 'problem', problem: check.problem };
    case 'wrong': {
      const recorded = await inOneCommitOf(deps.db, tenant.organisationId, (trx) =>
        recordWrongSecondFactor(deps, trx, user, check, 'device_confirmation', client),
      );
      reportWrongSecondFactor(deps, 'device_confirmation', recorded.locked);
      return { ok: false, reason: 'problem', problem: recorded.problem };
    }
    case 'matched': {
      const { now } = check.matched;
      const confirmed = await inOneCommitOf(deps.db, tenant.organisationId, async (trx) => {
        if (!(await acceptSecondFactor(deps, trx, check.matched, 'enrolment', { actor: user, client }))) return null;
        await trx.users.setSetUpAtNextLogin(user.id, false, now);
        await auditAndNotify(deps, trx, now, { actor: user, client }, 'device_added', user, {
          device: credential.name,
        });
        // After acceptSecondFactor has written the person's row (see recoveryCodesWithFirstDevice).
        const recoveryCodes = await recoveryCodesWithFirstDevice(trx, user, client, now);
        const token = completesSignIn
          ? await signInPendingSession(deps, trx, session, user, client, now, 'password_and_new_device', 'otp')
          : null;
        // A code from the new device is a second factor given in this session.
        if (!completesSignIn) await trx.sessions.markSecondFactor(session.id, now, 'otp');
        return { token, recoveryCodes };
      });
      if (confirmed === null)
        return { ok: false, reason: 'problem', problem: await secondFactorReplayed(tenant, check.matched) };
      if (completesSignIn) deps.events?.loginOutcome('completed_with_new_device');
      deps.mailQueued?.();
      return {
        ok: true,
        deviceName: credential.name,
        signedInToken: confirmed.token,
        recoveryCodes: confirmed.recoveryCodes,
      };
    }
  }
}

export type RemoveDevice =
  | { ok: true; deviceName: string; turnedOffTwoFactor: boolean }
  | { ok: false; reason: 'not_found' | 'last_device_required' };

/**
 * The user removes one of their devices, or an admin does it for them (`context.actor`
 * is then the admin). An admin's removal ends the user's sessions.
 */
export async function removeDevice(
  deps: Deps,
  organisation: Organisation,
  user: User,
  deviceId: string,
  context: AuditContext,
): Promise<RemoveDevice> {
  const removed = await atomically(deps.db, organisation.id, async (tenant): Promise<RemoveDevice> => {
    const found = await tenant.devices.findForUser(user.id, deviceId);
    if (!found) return { ok: false, reason: 'not_found' };
    const confirmed = await tenant.devices.countConfirmed(user.id);
    const decision = mayRemoveDevice(organisation.policy, user.twoFactor, confirmed, found.device.confirmedAt !== null);
    if (!decision.ok) return decision;
    await tenant.devices.remove(user.id, deviceId);
    const byAdmin = context.actor !== null && context.actor.id !== user.id;
    if (byAdmin) await tenant.sessions.deleteAllForUser(user.id);
    if (found.device.confirmedAt !== null) {
      await auditAndNotify(deps, tenant, deps.now(), context, 'device_removed', user, {
        device: found.device.name,
        by_admin: byAdmin,
      });
    }
    return { ok: true, deviceName: found.device.name, turnedOffTwoFactor: decision.turnsOffTwoFactor };
  });
  if (removed.ok) deps.mailQueued?.();
  return removed;
}
