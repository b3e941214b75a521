// Authenticator devices of one organisation's users.
import type { Device } from '../domain/devices.js';
import type { Executor } from './db.js';
import { deviceFromRow, iso } from './rows.js';

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

    /** Confirmed devices with their sealed secrets, for checking a login code. */
    async confirmedWithSecrets(userId: string): Promise<{ device: Device; sealedSecret: string }[]> {
      const rows = await ofUser(userId)
        .selectAll()
        .where('confirmed_at', 'is not', null)
        .orderBy('created_at')
        .execute();
      return rows.map((row) => ({ device: deviceFromRow(row), sealedSecret: row.sealed_secret }));
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
