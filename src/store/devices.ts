// The second-factor devices of one organisation's users: authenticator apps (kind 'totp')
// and security keys and passkeys (kind 'webauthn').
import type { Device } from '../domain/devices.js';
import { compiledOnce } from './compiled.js';
import type { Executor } from './db.js';
import { deviceFromRow, iso } from './rows.js';

/**
 * A confirmed device as stored: an app's sealed secret, or a key's sealed public key and
 * its WebAuthn credential (empty for an app).
 */
export interface StoredDevice {
  device: Device;
  sealedSecret: string;
  /** base64url, as the browser gives it. */
  credentialId: string;
  signCount: number;
  transports: string[];
  backedUp: boolean;
}

export interface NewSecurityKey {
  id: string;
  userId: string;
  name: string;
  sealedPublicKey: string;
  credentialId: string;
  signCount: number;
  transports: string[];
  backedUp: boolean;
  now: Date;
}

/** What checking a second factor reads, at every sign-in. */
const confirmedOfUser = compiledOnce(['organisationId', 'userId'], (db, { organisationId, userId }) =>
  db
    .selectFrom('devices')
    .selectAll()
    .where('organisation_id', '=', organisationId)
    .where('user_id', '=', userId)
    .where('confirmed_at', 'is not', null)
    .orderBy('created_at'),
);

export function devicesRepository(db: Executor, organisationId: string) {
  const ofUser = (userId: string) =>
    db.selectFrom('devices').where('organisation_id', '=', organisationId).where('user_id', '=', userId);

  return {
    async listForUser(userId: string): Promise<Device[]> {
      const rows = await ofUser(userId).selectAll().orderBy('created_at').orderBy('id').execute();
      return rows.map(deviceFromRow);
    },

    async countConfirmed(userId: string): Promise<number> {
      const row = await ofUser(userId)
        .where('confirmed_at', 'is not', null)
        .select((eb) => eb.fn.countAll<number | string>().as('n'))
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },

    async findForUser(userId: string, deviceId: string): Promise<{ device: Device; sealedSecret: string } | null> {
      const row = await ofUser(userId).selectAll().where('id', '=', deviceId).executeTakeFirst();
      return row ? { device: deviceFromRow(row), sealedSecret: row.sealed_secret } : null;
    },

    /** Every confirmed device of the person, of every kind, as stored: what checking a second factor reads, in one query. */
    async confirmedAsStored(userId: string): Promise<StoredDevice[]> {
      const { rows } = await confirmedOfUser(db, { organisationId, userId });
      return rows.map((row) => ({
        device: deviceFromRow(row),
        sealedSecret: row.sealed_secret,
        credentialId: row.credential_id ?? '',
        signCount: Number(row.sign_count ?? 0),
        transports: (row.transports ?? '').split(',').filter((t) => t !== ''),
        backedUp: row.backed_up === 1,
      }));
    },

    async insertUnconfirmed(device: {
      id: string;
      userId: string;
      name: string;
      sealedSecret: string;
      now: Date;
    }): Promise<void> {
      await db
        .insertInto('devices')
        .values({
          id: device.id,
          organisation_id: organisationId,
          user_id: device.userId,
          name: device.name,
          sealed_secret: device.sealedSecret,
          created_at: iso(device.now),
          confirmed_at: null,
          last_used_at: null,
          last_used_step: null,
        })
        .execute();
    },

    /**
     * Accepts a code's time step only if it is later than the last one this device
     * accepted: one conditional UPDATE, so of two simultaneous requests with the same code
     * exactly one succeeds. Enrolment confirms the device (which is not a use of it);
     * a use needs a confirmed device and is its "last used".
     */
    async acceptTimeStep(
      userId: string,
      deviceId: string,
      step: number,
      now: Date,
      acceptedFor: 'enrolment' | 'use',
    ): Promise<boolean> {
      const result = await db
        .updateTable('devices')
        .set(
          acceptedFor === 'enrolment'
            ? { last_used_step: step, confirmed_at: iso(now) }
            : { last_used_step: step, last_used_at: iso(now) },
        )
        .where('organisation_id', '=', organisationId)
        .where('user_id', '=', userId)
        .where('id', '=', deviceId)
        .where('confirmed_at', acceptedFor === 'enrolment' ? 'is' : 'is not', null)
        .where((eb) => eb.or([eb('last_used_step', 'is', null), eb('last_used_step', '<', step)]))
        .executeTakeFirst();
      return result.numUpdatedRows === 1n;
    },

    /** The person's security keys and passkeys. */
    async securityKeys(userId: string): Promise<StoredDevice[]> {
      return (await this.confirmedAsStored(userId)).filter(({ device }) => device.kind === 'webauthn');
    },

    /** The credential ids of all the person's keys: a key registered once is not registered again. */
    async securityKeyCredentialIds(userId: string): Promise<string[]> {
      const rows = await ofUser(userId).select('credential_id').where('kind', '=', 'webauthn').execute();
      return rows.flatMap((row) => (row.credential_id === null ? [] : [row.credential_id]));
    },

    /** A key made and checked in one go, so linked at once; false when its credential is already registered. */
    async insertSecurityKey(key: NewSecurityKey): Promise<boolean> {
      const now = iso(key.now);
      const result = await db
        .insertInto('devices')
        .values({
          id: key.id,
          organisation_id: organisationId,
          user_id: key.userId,
          kind: 'webauthn',
          name: key.name,
          sealed_secret: key.sealedPublicKey,
          credential_id: key.credentialId,
          sign_count: key.signCount,
          transports: key.transports.join(','),
          backed_up: key.backedUp ? 1 : 0,
          created_at: now,
          confirmed_at: now,
          last_used_at: null,
          last_used_step: null,
        })
        .onConflict((conflict) => conflict.column('credential_id').doNothing())
        .executeTakeFirst();
      return (result.numInsertedOrUpdatedRows ?? 0n) > 0n;
    },

    /**
     * A use of a key: its new signature counter, backed-up flag and last use, only if the
     * counter is still the one the check read (a counter that moved meanwhile is another
     * use of the same key, and this one is refused as a replay).
     */
    async acceptSecurityKeyUse(
      userId: string,
      deviceId: string,
      use: { previousCount: number; newCount: number; backedUp: boolean; now: Date },
    ): Promise<boolean> {
      const result = await db
        .updateTable('devices')
        .set({ sign_count: use.newCount, backed_up: use.backedUp ? 1 : 0, last_used_at: iso(use.now) })
        .where('organisation_id', '=', organisationId)
        .where('user_id', '=', userId)
        .where('id', '=', deviceId)
        .where('kind', '=', 'webauthn')
        .where('confirmed_at', 'is not', null)
        .where('sign_count', '=', use.previousCount)
        .executeTakeFirst();
      return result.numUpdatedRows === 1n;
    },

    async remove(userId: string, deviceId: string): Promise<boolean> {
      const result = await db
        .deleteFrom('devices')
        .where('organisation_id', '=', organisationId)
        .where('user_id', '=', userId)
        .where('id', '=', deviceId)
        .executeTakeFirst();
      return result.numDeletedRows === 1n;
    },

    async removeAllForUser(userId: string): Promise<number> {
      const result = await db
        .deleteFrom('devices')
        .where('organisation_id', '=', organisationId)
        .where('user_id', '=', userId)
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },

    /** Unconfirmed devices older than `before` are abandoned set-ups. */
    async removeAbandoned(userId: string, before: Date): Promise<void> {
      await db
        .deleteFrom('devices')
        .where('organisation_id', '=', organisationId)
        .where('user_id', '=', userId)
        .where('confirmed_at', 'is', null)
        .where('created_at', '<', iso(before))
        .execute();
    },
  };
}

export type DevicesRepository = ReturnType<typeof devicesRepository>;
