// Reminders before a deadline: the people who may need one, read in pages, and each reminder
// recorded as sent, once (the primary key of reminders_sent).
import type { User } from '../domain/users.js';
import type { Executor } from './db.js';
import { iso, userFromRow } from './rows.js';
import { hasNoConfirmedDevice } from './users.js';

/** One reminder to one person: `slot` of the deadline `deadline`. */
export interface ReminderKey {
  userId: string;
  deadline: Date;
  slot: string;
}

export function remindersRepository(db: Executor, organisationId: string) {
  return {
    /**
     * Active people without a confirmed device who fall under a requirement (the
     * organisation's, when `organisationRequires`, or their own), `limit` of them after the
     * cursor `after` ('' for the first page), in the order of the organisation's email index:
     * a page of a scan that holds one page in memory at a time, each page a walk along that
     * index, not a sort of the whole organisation. `next` is the cursor of the page after.
     * Someone whose email changes during a run may be passed over by it, until the next.
     */
    async peopleWithoutDevice(
      organisationRequires: boolean,
      after: string,
      limit: number,
    ): Promise<{ people: User[]; next: string }> {
      const rows = await db
        .selectFrom('users')
        .selectAll()
        .where('organisation_id', '=', organisationId)
        .where('status', '=', 'active')
        .where('email_key', '>', after)
        .$if(!organisationRequires, (query) =>
          query.where((eb) => eb.or([eb('require_2fa', '=', 1), eb('personal_deadline', 'is not', null)])),
        )
        .where(hasNoConfirmedDevice)
        .orderBy('email_key')
        .limit(limit)
        .execute();
      return { people: rows.map(userFromRow), next: rows.at(-1)?.email_key ?? after };
    },

    /** The active super admins, who receive the summary before the start. */
    async activeSuperAdmins(): Promise<User[]> {
      const rows = await db
        .selectFrom('users')
        .selectAll()
        .where('organisation_id', '=', organisationId)
        .where('status', '=', 'active')
        .where('role', '=', 'super_admin')
        .orderBy('id')
        .execute();
      return rows.map(userFromRow);
    },

    /**
     * Records the reminders as sent and returns the ones this call recorded: a reminder
     * already recorded, by another instance or an earlier run, is left out.
     */
    async recordSent(keys: readonly ReminderKey[], now: Date): Promise<ReminderKey[]> {
      if (keys.length === 0) return [];
      const rows = await db
        .insertInto('reminders_sent')
        .values(
          keys.map((key) => ({
            organisation_id: organisationId,
            user_id: key.userId,
            deadline_at: iso(key.deadline),
            slot: key.slot,
            sent_at: iso(now),
          })),
        )
        .onConflict((oc) => oc.doNothing())
        .returning(['user_id', 'deadline_at', 'slot'])
        .execute();
      return rows.map((row) => ({ userId: row.user_id, deadline: new Date(row.deadline_at), slot: row.slot }));
    },
  };
}

export type RemindersRepository = ReturnType<typeof remindersRepository>;
