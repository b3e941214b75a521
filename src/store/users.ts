// Users of one organisation. Every query filters by the organisation's id.
import { sql } from 'kysely';
import type { Role, Status, User } from '../domain/users.js';
import type { Executor } from './db.js';
import { iso, isoOrNull, searchKeyOf, userFromRow } from './rows.js';

export interface NewUser {
  id: string;
  email: string;
  emailKey: string;
  name: string;
  role: Role;
  passwordHash: string | null;
  now: Date;
}

export interface UserListing {
  user: User;
  confirmedDevices: number;
}

export const USERS_PAGE_SIZE = 25;

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

export function usersRepository(db: Executor, organisationId: string) {
  const inOrganisation = () => db.selectFrom('users').where('organisation_id', '=', organisationId);

  return {
    async findById(id: string): Promise<User | null> {
      const row = await inOrganisation().selectAll().where('id', '=', id).executeTakeFirst();
      return row ? userFromRow(row) : null;
    },

    async insert(user: NewUser): Promise<void> {
      await db
        .insertInto('users')
        .values({
          id: user.id,
          organisation_id: organisationId,
          email: user.email,
          email_key: user.emailKey,
          name: user.name,
          search_key: searchKeyOf(user.name, user.email),
          role: user.role,
          status: 'active',
          password_hash: user.passwordHash,
          require_2fa: 0,
          personal_deadline: null,
          set_up_at_next_login: 0,
          created_at: iso(user.now),
          updated_at: iso(user.now),
        })
        .execute();
    },

    async updateProfile(
      id: string,
      profile: { name: string; email: string; emailKey: string; role: Role; status: Status },
      now: Date,
    ): Promise<void> {
      await db
        .updateTable('users')
        .set({
          name: profile.name,
          email: profile.email,
          email_key: profile.emailKey,
          search_key: searchKeyOf(profile.name, profile.email),
          role: profile.role,
          status: profile.status,
          updated_at: iso(now),
        })
        .where('organisation_id', '=', organisationId)
        .where('id', '=', id)
        .execute();
    },

    async setTwoFactorRequirement(
      id: string,
      required: boolean,
      personalDeadline: Date | null,
      now: Date,
    ): Promise<void> {
      await db
        .updateTable('users')
        .set({ require_2fa: required ? 1 : 0, personal_deadline: isoOrNull(personalDeadline), updated_at: iso(now) })
        .where('organisation_id', '=', organisationId)
        .where('id', '=', id)
        .execute();
    },

    async setSetUpAtNextLogin(id: string, value: boolean, now: Date): Promise<void> {
      await db
        .updateTable('users')
        .set({ set_up_at_next_login: value ? 1 : 0, updated_at: iso(now) })
        .where('organisation_id', '=', organisationId)
        .where('id', '=', id)
        .execute();
    },

    async setPasswordHash(id: string, passwordHash: string, now: Date): Promise<void> {
      await db
        .updateTable('users')
        .set({ password_hash: passwordHash, updated_at: iso(now) })
        .where('organisation_id', '=', organisationId)
        .where('id', '=', id)
        .execute();
    },

    async passwordHashOf(id: string): Promise<string | null> {
      const row = await inOrganisation().select('password_hash').where('id', '=', id).executeTakeFirst();
      return row?.password_hash ?? null;
    },

    /** One page of users matching `search` (name or email), with their confirmed device counts. */
    async list(search: string, page: number): Promise<{ rows: UserListing[]; total: number }> {
      const pattern = `%${escapeLike(search.trim().toLowerCase())}%`;
      const matching = inOrganisation().where(sql<boolean>`search_key like ${pattern} escape '\\'`);
      const counted = await matching
        .select((eb) => eb.fn.countAll<number | string>().as('total'))
        .executeTakeFirstOrThrow();
      const rows = await matching
        .selectAll('users')
        .select((eb) =>
          eb
            .selectFrom('devices')
            .whereRef('devices.user_id', '=', 'users.id')
            .where('devices.confirmed_at', 'is not', null)
            .select((inner) => inner.fn.countAll<number | string>().as('n'))
            .as('confirmed_devices'),
        )
        .orderBy('users.email_key')
        .limit(USERS_PAGE_SIZE)
        .offset((Math.max(1, page) - 1) * USERS_PAGE_SIZE)
        .execute();
      return {
        total: Number(counted.total),
        rows: rows.map((row) => ({ user: userFromRow(row), confirmedDevices: Number(row.confirmed_devices ?? 0) })),
      };
    },
  };
}

export type UsersRepository = ReturnType<typeof usersRepository>;

/** Instance-wide, because login starts from an email alone. */
export async function findLoginByEmail(
  db: Executor,
  emailKey: string,
): Promise<{ user: User; passwordHash: string | null } | null> {
  const row = await db.selectFrom('users').selectAll().where('email_key', '=', emailKey).executeTakeFirst();
  return row ? { user: userFromRow(row), passwordHash: row.password_hash } : null;
}

export async function isEmailTaken(db: Executor, emailKey: string, exceptUserId: string | null): Promise<boolean> {
  let query = db.selectFrom('users').select('id').where('email_key', '=', emailKey);
  if (exceptUserId !== null) query = query.where('id', '!=', exceptUserId);
  return (await query.executeTakeFirst()) !== undefined;
}
