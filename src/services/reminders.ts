// The reminder run: every organisation's people without a device, a page at a time, each
// sent the reminder due for them now (domain/reminders.ts) unless it was sent before; and
// its super admins' summary a week and a day before the start. Each page's reminders are
// recorded and queued in one commit, so a reminder is queued exactly once whatever the
// number of instances running this at once, and after any restart.
import { setImmediate as yieldToOthers } from 'node:timers/promises';
import { twoFactorStatusOf } from '../domain/enforcement.js';
import type { Organisation } from '../domain/organisations.js';
import { reminderMailOf, summaryMailOf } from '../domain/reminder-mail.js';
import { dueReminder, dueSummary, type DueReminder } from '../domain/reminders.js';
import type { User } from '../domain/users.js';
import { allOrganisations } from '../store/organisations.js';
import { inOneCommitOf, tenantFor } from '../store/tenant.js';
import type { Deps } from './deps.js';
import { queueMail, queueMails } from './mail.js';

/**
 * People read and written per commit: one page in memory at a time. A page's work (its
 * messages rendered, sealed and inserted) holds the event loop and the SQLite connection,
 * roughly 0.1 to 0.3 ms a person; sign-ins wait for the page under way. At 500 they waited
 * over 100 ms; 50 keeps it to milliseconds on a quiet machine (npm run bench, figure 13).
 */
export const REMINDER_PAGE_SIZE = 50;

export interface ReminderRun {
  reminders: number;
  summaries: number;
  /** People without a device looked at. */
  looked: number;
}

/** Sends what is due now in every organisation. */
export async function sendDueReminders(deps: Deps): Promise<ReminderRun> {
  const run: ReminderRun = { reminders: 0, summaries: 0, looked: 0 };
  for (const organisation of await allOrganisations(deps.db)) {
    const now = deps.now();
    const { reminders, looked, withoutDeviceByStart } = await remindOrganisation(deps, organisation, now);
    run.reminders += reminders;
    run.looked += looked;
    run.summaries += await sendSummary(deps, organisation, withoutDeviceByStart, now);
  }
  return run;
}

async function remindOrganisation(
  deps: Deps,
  organisation: Organisation,
  now: Date,
): Promise<{ reminders: number; looked: number; withoutDeviceByStart: number }> {
  const tenant = tenantFor(deps.db, organisation.id);
  const policy = organisation.policy;
  const organisationRequires = policy.requireAllFrom !== null;
  let reminders = 0;
  let looked = 0;
  let withoutDeviceByStart = 0;
  let after = '';
  for (;;) {
    const page = await tenant.reminders.peopleWithoutDevice(organisationRequires, after, REMINDER_PAGE_SIZE);
    const people = page.people;
    if (people.length === 0) break;
    after = page.next;
    looked += people.length;
    const due: { person: User; reminder: DueReminder }[] = [];
    for (const person of people) {
      const status = twoFactorStatusOf(policy, person.twoFactor, 0, now);
      if (status.kind === 'grace' && status.deadline.getTime() === policy.requireAllFrom?.getTime()) {
        withoutDeviceByStart += 1;
      }
      const reminder = dueReminder(organisation.reminderSchedule, { policy, user: person.twoFactor, status }, now);
      if (reminder !== null) due.push({ person, reminder });
    }
    if (due.length > 0) {
      reminders += await inOneCommitOf(deps.db, organisation.id, async (trx) => {
        const recorded = await trx.reminders.recordSent(
          due.map(({ person, reminder }) => ({ userId: person.id, deadline: reminder.deadline, slot: reminder.slot })),
          now,
        );
        const fresh = new Set(recorded.map((key) => key.userId));
        await queueMails(
          deps,
          trx,
          due
            .filter(({ person }) => fresh.has(person.id))
            .map(({ person, reminder }) =>
              reminderMailOf({ organisation, person, reminder, now, publicUrl: deps.publicUrl }),
            ),
        );
        return fresh.size;
      });
      deps.mailQueued?.();
    }
    // A page at a time, and others' requests between pages: sign-ins go on during a long run.
    await yieldToOthers();
  }
  return { reminders, looked, withoutDeviceByStart };
}

async function sendSummary(deps: Deps, organisation: Organisation, withoutDevice: number, now: Date): Promise<number> {
  const due = dueSummary(organisation.policy, now);
  if (due === null) return 0;
  const sent = await inOneCommitOf(deps.db, organisation.id, async (trx) => {
    const admins = await trx.reminders.activeSuperAdmins();
    const recorded = await trx.reminders.recordSent(
      admins.map((admin) => ({ userId: admin.id, deadline: due.start, slot: `summary-${due.daysBefore}` })),
      now,
    );
    const fresh = new Set(recorded.map((key) => key.userId));
    for (const admin of admins) {
      if (!fresh.has(admin.id)) continue;
      await queueMail(
        deps,
        trx,
        summaryMailOf({ organisation, admin, start: due.start, withoutDevice, now, publicUrl: deps.publicUrl }),
      );
    }
    return fresh.size;
  });
  if (sent > 0) deps.mailQueued?.();
  return sent;
}
