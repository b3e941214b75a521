// What signing in and every signed-in request need to know of a user, in one query: the
// user, their organisation and how many devices they have confirmed, which is all the 2FA
// rules look at. Instance-wide, as a login starts from an email alone.
import type { ExpressionBuilder } from 'kysely';
import type { Organisation } from '../domain/organisations.js';
import type { User } from '../domain/users.js';
import { compiledOnce } from './compiled.js';
import type { Executor } from './db.js';
import { organisationFromRow, userFromRow } from './rows.js';
import type { Database, UserRow } from './schema.js';

export interface Account {
  user: User;
  organisation: Organisation;
  confirmedDevices: number;
}

/** The organisation's columns beside the user's, renamed where both tables have one. */
export const ORGANISATION_COLUMNS = [
  'organisations.name as organisation_name',
  'organisations.name_key as organisation_name_key',
  'organisations.time_zone as organisation_time_zone',
  'organisations.require_all_from as organisation_require_all_from',
  'organisations.require_all_announced_at as organisation_require_all_announced_at',
  'organisations.after_deadline as organisation_after_deadline',
  'organisations.reminder_schedule as organisation_reminder_schedule',
  'organisations.allowed_factors as organisation_allowed_factors',
  'organisations.created_at as organisation_created_at',
] as const;

export interface AccountRow extends UserRow {
  organisation_name: string;
  organisation_name_key: string;
  organisation_time_zone: string;
  organisation_require_all_from: string | null;
  organisation_require_all_announced_at: string | null;
  organisation_after_deadline: string;
  organisation_reminder_schedule: string | null;
  organisation_allowed_factors: string;
  organisation_created_at: string;
  /** A count: PostgreSQL returns it as text. */
  confirmed_devices: number | string | null;
}

/** Users joined to their organisations; select `users.*`, ORGANISATION_COLUMNS and confirmedDevicesOfUser. */
export function usersWithOrganisation(db: Executor) {
  return db.selectFrom('users').innerJoin('organisations', 'organisations.id', 'users.organisation_id');
}

/** The number of confirmed devices of the row's user, as `confirmed_devices`. */
export function confirmedDevicesOfUser(eb: ExpressionBuilder<Database, 'users'>) {
  return eb
    .selectFrom('devices')
    .whereRef('devices.organisation_id', '=', 'users.organisation_id')
    .whereRef('devices.user_id', '=', 'users.id')
    .where('devices.confirmed_at', 'is not', null)
    .select((inner) => inner.fn.countAll<number | string>().as('n'))
    .as('confirmed_devices');
}

/** The number of confirmed security keys and passkeys of the row's user, as `confirmed_keys`. */
export function confirmedKeysOfUser(eb: ExpressionBuilder<Database, 'users'>) {
  return eb
    .selectFrom('devices')
    .whereRef('devices.organisation_id', '=', 'users.organisation_id')
    .whereRef('devices.user_id', '=', 'users.id')
    .where('devices.confirmed_at', 'is not', null)
    .where('devices.kind', '=', 'webauthn')
    .select((inner) => inner.fn.countAll<number | string>().as('n'))
    .as('confirmed_keys');
}

export function accountFromRow(row: AccountRow): Account {
  return {
    user: userFromRow(row),
    organisation: organisationFromRow({
      id: row.organisation_id,
      name: row.organisation_name,
      name_key: row.organisation_name_key,
      time_zone: row.organisation_time_zone,
      require_all_from: row.organisation_require_all_from,
      require_all_announced_at: row.organisation_require_all_announced_at,
      after_deadline: row.organisation_after_deadline,
      reminder_schedule: row.organisation_reminder_schedule,
      allowed_factors: row.organisation_allowed_factors,
      created_at: row.organisation_created_at,
    }),
    confirmedDevices: Number(row.confirmed_devices ?? 0),
  };
}

/**
 * The password step's one lookup. An unknown email runs the same query and finds nothing,
 * so it costs the same.
 */
const accountByEmail = compiledOnce(['emailKey'], (db, { emailKey }) =>
  usersWithOrganisation(db)
    .selectAll('users')
    .select(ORGANISATION_COLUMNS)
    .select(confirmedDevicesOfUser)
    .where('users.email_key', '=', emailKey),
);

export async function findAccountByEmail(
  db: Executor,
  emailKey: string,
): Promise<(Account & { passwordHash: string | null }) | null> {
  const [row] = (await accountByEmail(db, { emailKey })).rows;
  return row ? { ...accountFromRow(row), passwordHash: row.password_hash } : null;
}

/** A person by their id, in any organisation: who an application's token speaks for. */
export async function findAccountById(db: Executor, userId: string): Promise<Account | null> {
  const row = await usersWithOrganisation(db)
    .selectAll('users')
    .select(ORGANISATION_COLUMNS)
    .select(confirmedDevicesOfUser)
    .where('users.id', '=', userId)
    .executeTakeFirst();
  return row ? accountFromRow(row) : null;
}
