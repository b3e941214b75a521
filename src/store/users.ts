// Users of one organisation. Every query filters by the organisation's id.
import { sql, type ExpressionBuilder } from 'kysely';
import type { Role, Status, User } from '../domain/users.js';
import type { Executor } from './db.js';
import type { Database } from './schema.js';
import { confirmedDevicesOfUser } from './logins.js';
import type { CodeAttempts } from '../domain/code-attempts.js';
import { dateOrNull, iso, isoOrNull, searchKeyOf, userFromRow } from './rows.js';

const codesInFlightSince = (inFlightBefore: Date) =>
  sql<number>`case when code_checking_at is null or code_checking_at < ${iso(inFlightBefore)} then 0 else code_checking end`;

const ONE_LESS_CODE_IN_FLIGHT = sql<number>`case when code_checking > 0 then code_checking - 1 else 0 end`;

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

/**
 * For `like ... escape ?`: the escape character goes as a parameter, since a '\\' literal in
 * the SQL breaks on PostgreSQL when standard_conforming_strings is off.
 */
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
          code_failures: 0,
          code_failed_at: null,
          code_locked_until: null,
          code_next_try_at: null,
          notices_seen_at: null,
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

    async codeAttemptsOf(id: string): Promise<CodeAttempts> {
      const row = await inOrganisation()
        .select(['code_failures', 'code_failed_at', 'code_locked_until', 'code_next_try_at'])
        .where('id', '=', id)
        .executeTakeFirstOrThrow();
      return {
        failures: row.code_failures,
        lastFailureAt: dateOrNull(row.code_failed_at),
        lockedUntil: dateOrNull(row.code_locked_until),
        nextTryAt: dateOrNull(row.code_next_try_at),
      };
    },

    /**
     * The person's second-factor attempts: the run of wrong ones, those in flight (forgotten
     * when older than `inFlightBefore`, cut off), the wait and the lock.
     */
    async codeAttemptCountOf(
      id: string,
      inFlightBefore: Date,
    ): Promise<{ failures: number; inFlight: number; nextTryAt: Date | null; lockedUntil: Date | null }> {
      const row = await inOrganisation()
        .select(['code_failures', 'code_checking', 'code_checking_at', 'code_next_try_at', 'code_locked_until'])
        .where('id', '=', id)
        .executeTakeFirstOrThrow();
      const stale = row.code_checking_at === null || row.code_checking_at < iso(inFlightBefore);
      return {
        failures: row.code_failures,
        inFlight: stale ? 0 : row.code_checking,
        nextTryAt: dateOrNull(row.code_next_try_at),
        lockedUntil: dateOrNull(row.code_locked_until),
      };
    },

    /**
     * An attempt enters as in flight, in one conditional statement: while the second factor
     * is not locked and the run of wrong ones and the attempts in flight leave room within
     * `freeFailures`. True if it entered.
     */
    async enterCodeCheck(id: string, now: Date, freeFailures: number, inFlightBefore: Date): Promise<boolean> {
      const inFlight = codesInFlightSince(inFlightBefore);
      const result = await db
        .updateTable('users')
        .set({ code_checking: sql<number>`${inFlight} + 1`, code_checking_at: iso(now) })
        .where('organisation_id', '=', organisationId)
        .where('id', '=', id)
        .where((eb) => eb.or([eb('code_locked_until', 'is', null), eb('code_locked_until', '<=', iso(now))]))
        .where(sql<boolean>`code_failures + ${inFlight} < ${freeFailures}`)
        .executeTakeFirst();
      return result.numUpdatedRows === 1n;
    },

    /**
     * Past the free tries: claims the one try allowed once the wait is over, setting the
     * next wait, and enters as in flight. True for exactly one of simultaneous callers.
     */
    async claimCodeTry(id: string, now: Date, nextTryAt: Date, inFlightBefore: Date): Promise<boolean> {
      const result = await db
        .updateTable('users')
        .set({
          code_next_try_at: iso(nextTryAt),
          code_checking: sql<number>`${codesInFlightSince(inFlightBefore)} + 1`,
          code_checking_at: iso(now),
        })
        .where('organisation_id', '=', organisationId)
        .where('id', '=', id)
        .where((eb) => eb.or([eb('code_locked_until', 'is', null), eb('code_locked_until', '<=', iso(now))]))
        .where((eb) => eb.or([eb('code_next_try_at', 'is', null), eb('code_next_try_at', '<=', iso(now))]))
        .executeTakeFirst();
      return result.numUpdatedRows === 1n;
    },

    /** An attempt in flight leaves unchecked, or was a replay (no guess). */
    async releaseCodeAttempt(id: string): Promise<void> {
      await db
        .updateTable('users')
        .set({ code_checking: ONE_LESS_CODE_IN_FLIGHT })
        .where('organisation_id', '=', organisationId)
        .where('id', '=', id)
        .execute();
    },

    /** A wrong second factor: one more in the person's run. Returns the run's length. */
    async recordCodeFailure(id: string, now: Date): Promise<number> {
      const row = await db
        .updateTable('users')
        .set((eb) => ({
          code_failures: eb('code_failures', '+', 1),
          code_failed_at: iso(now),
          code_checking: ONE_LESS_CODE_IN_FLIGHT,
        }))
        .where('organisation_id', '=', organisationId)
        .where('id', '=', id)
        .returning('code_failures')
        .executeTakeFirstOrThrow();
      return row.code_failures;
    },

    /** A right second factor ends the person's run of wrong ones, whichever device gave it. */
    async recordCodeSuccess(id: string): Promise<void> {
      await db
        .updateTable('users')
        .set({
          code_failures: 0,
          code_failed_at: null,
          code_locked_until: null,
          code_next_try_at: null,
          code_checking: ONE_LESS_CODE_IN_FLIGHT,
        })
        .where('organisation_id', '=', organisationId)
        .where('id', '=', id)
        .execute();
    },

    async lockSecondFactor(id: string, until: Date): Promise<void> {
      await db
        .updateTable('users')
        .set({ code_locked_until: iso(until) })
        .where('organisation_id', '=', organisationId)
        .where('id', '=', id)
        .execute();
    },

    /** An admin's unlock. */
    async clearCodeFailures(id: string): Promise<void> {
      await db
        .updateTable('users')
        .set({ code_failures: 0, code_failed_at: null, code_locked_until: null, code_next_try_at: null })
        .where('organisation_id', '=', organisationId)
        .where('id', '=', id)
        .execute();
    },

    async noticesSeenAt(id: string): Promise<Date | null> {
      const row = await inOrganisation().select('notices_seen_at').where('id', '=', id).executeTakeFirst();
      return dateOrNull(row?.notices_seen_at ?? null);
    },

    async markNoticesSeen(id: string, at: Date): Promise<void> {
      await db
        .updateTable('users')
        .set({ notices_seen_at: iso(at) })
        .where('organisation_id', '=', organisationId)
        .where('id', '=', id)
        .execute();
    },

    async passwordHashOf(id: string): Promise<string | null> {
      const row = await inOrganisation().select('password_hash').where('id', '=', id).executeTakeFirst();
      return row?.password_hash ?? null;
    },

    /**
     * One page of users matching `search` (name or email), and when asked only those
     * without two-factor authentication, in email order, with their
     * confirmed device counts, and how many match in all.
     */
    async list(
      search: string,
      page: number,
      only: { withoutTwoFactor?: boolean } = {},
    ): Promise<{ rows: UserListing[]; total: number }> {
      const term = search.trim().toLowerCase();
      // search_key is never null, so an empty search, '%%', matches everyone: leaving the
      // condition out gives the same rows without testing each one.
      const matching = () =>
        (term === ''
          ? inOrganisation()
          : inOrganisation().where(sql<boolean>`search_key like ${`%${escapeLike(term)}%`} escape ${'\\'}`)
        ).$if(only.withoutTwoFactor === true, (query) =>
          // Active people with no confirmed device: whom a reminder or the summary is about.
          query.where('users.status', '=', 'active').where(hasNoConfirmedDevice),
        );
      // A deferred join: the page's ids are found first, walking users_by_organisation_email
      // in email order past the earlier pages, and only those 25 users are read in full and
      // have their devices counted.
      const pageIds = matching()
        .select(['users.id', 'users.email_key'])
        .orderBy('users.email_key')
        .limit(USERS_PAGE_SIZE)
        .offset((Math.max(1, page) - 1) * USERS_PAGE_SIZE);
      // Outside a transaction, PostgreSQL runs the count and the page on two connections at once.
      const [counted, rows] = await Promise.all([
        matching()
          .select((eb) => eb.fn.countAll<number | string>().as('total'))
          .executeTakeFirstOrThrow(),
        db
          .selectFrom(pageIds.as('listed'))
          .innerJoin('users', 'users.id', 'listed.id')
          .where('users.organisation_id', '=', organisationId)
          .selectAll('users')
          .select(confirmedDevicesOfUser)
          // By the page's own order: ordered by users.email_key, SQLite would walk the organisation's users instead.
          .orderBy('listed.email_key')
          .execute(),
      ]);
      return {
        total: Number(counted.total),
        rows: rows.map((row) => ({ user: userFromRow(row), confirmedDevices: Number(row.confirmed_devices ?? 0) })),
      };
    },
  };
}

export type UsersRepository = ReturnType<typeof usersRepository>;

/** The row's user has no confirmed device (an app, a key or a passkey). */
export function hasNoConfirmedDevice({ not, exists, selectFrom }: ExpressionBuilder<Database, 'users'>) {
  return not(
    exists(
      selectFrom('devices')
        .select('devices.id')
        .whereRef('devices.organisation_id', '=', 'users.organisation_id')
        .whereRef('devices.user_id', '=', 'users.id')
        .where('devices.confirmed_at', 'is not', null),
    ),
  );
}

export async function isEmailTaken(db: Executor, emailKey: string, exceptUserId: string | null): Promise<boolean> {
  let query = db.selectFrom('users').select('id').where('email_key', '=', emailKey);
  if (exceptUserId !== null) query = query.where('id', '!=', exceptUserId);
  return (await query.executeTakeFirst()) !== undefined;
}
