// Organisations. Creating and finding one is instance-wide; changing one is per tenant.
import type { AfterDeadline } from '../domain/enforcement.js';
import type { AllowedFactors, DevicesByKind } from '../domain/factor-policy.js';
import { organisationNameKey, type Organisation } from '../domain/organisations.js';
import { reminderScheduleText, type ReminderSchedule } from '../domain/reminders.js';
import type { Executor } from './db.js';
import { iso, isoOrNull, organisationFromRow } from './rows.js';

export async function insertOrganisation(
  db: Executor,
  organisation: { id: string; name: string; timeZone: string; now: Date },
): Promise<void> {
  await db
    .insertInto('organisations')
    .values({
      id: organisation.id,
      name: organisation.name.trim(),
      name_key: organisationNameKey(organisation.name),
      time_zone: organisation.timeZone,
      require_all_from: null,
      require_all_announced_at: null,
      after_deadline: 'set_up_at_login',
      created_at: iso(organisation.now),
    })
    .execute();
}

/** By id, or by name whatever its case. */
export async function findOrganisation(db: Executor, idOrName: string): Promise<Organisation | null> {
  const row = await db
    .selectFrom('organisations')
    .selectAll()
    .where((eb) => eb.or([eb('id', '=', idOrName), eb('name_key', '=', organisationNameKey(idOrName))]))
    .executeTakeFirst();
  return row ? organisationFromRow(row) : null;
}

/** Every organisation of the instance, by id: for the runs that go through them all (reminders). */
export async function allOrganisations(db: Executor): Promise<Organisation[]> {
  const rows = await db.selectFrom('organisations').selectAll().orderBy('id').execute();
  return rows.map(organisationFromRow);
}

export function organisationRepository(db: Executor, organisationId: string) {
  const update = () => db.updateTable('organisations').where('id', '=', organisationId);
  return {
    async get(): Promise<Organisation> {
      const row = await db
        .selectFrom('organisations')
        .selectAll()
        .where('id', '=', organisationId)
        .executeTakeFirstOrThrow();
      return organisationFromRow(row);
    },

    /**
     * Writes the requirement's start only while the stored one is not yet active, so a
     * change racing the start moment cannot turn an active requirement off.
     */
    async setRequireAllFrom(start: Date | null, now: Date): Promise<boolean> {
      const result = await update()
        .set({ require_all_from: isoOrNull(start), require_all_announced_at: start === null ? null : iso(now) })
        .where((eb) => eb.or([eb('require_all_from', 'is', null), eb('require_all_from', '>', iso(now))]))
        .executeTakeFirst();
      return result.numUpdatedRows === 1n;
    },

    async setAfterDeadline(choice: AfterDeadline): Promise<void> {
      await update().set({ after_deadline: choice }).execute();
    },

    async setReminderSchedule(schedule: ReminderSchedule): Promise<void> {
      await update()
        .set({ reminder_schedule: reminderScheduleText(schedule) })
        .execute();
    },

    async setAllowedFactors(allowed: AllowedFactors): Promise<void> {
      await update().set({ allowed_factors: allowed }).execute();
    },

    /** The confirmed devices by kind of each active person of the organisation, for a change's preview. */
    async activePeoplesDevices(): Promise<DevicesByKind[]> {
      const rows = await db
        .selectFrom('users')
        .leftJoin('devices', (join) =>
          join
            .onRef('devices.user_id', '=', 'users.id')
            .onRef('devices.organisation_id', '=', 'users.organisation_id')
            .on('devices.confirmed_at', 'is not', null),
        )
        .select(['users.id as user_id', 'devices.kind as kind'])
        .where('users.organisation_id', '=', organisationId)
        .where('users.status', '=', 'active')
        .execute();
      const byPerson = new Map<string, DevicesByKind>();
      for (const row of rows) {
        const devices = byPerson.get(row.user_id) ?? { apps: 0, keys: 0 };
        if (row.kind === 'webauthn') devices.keys += 1;
        else if (row.kind !== null) devices.apps += 1;
        byPerson.set(row.user_id, devices);
      }
      return [...byPerson.values()];
    },

    async setTimeZone(timeZone: string): Promise<void> {
      await update().set({ time_zone: timeZone }).execute();
    },
  };
}

export type OrganisationRepository = ReturnType<typeof organisationRepository>;
