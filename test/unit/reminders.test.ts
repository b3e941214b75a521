import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { twoFactorStatusOf, type OrganisationPolicy, type UserTwoFactorFacts } from '../../src/domain/enforcement.js';
import {
  DEFAULT_REMINDER_SCHEDULE,
  dueReminder,
  dueSummary,
  parseReminderDays,
  reminderScheduleOf,
  reminderScheduleText,
  type ReminderSchedule,
} from '../../src/domain/reminders.js';

const DAY = 24 * 60 * 60 * 1000;
const START = new Date('2027-03-01T08:00:00.000Z');
const ANNOUNCED = new Date('2027-01-10T12:00:00.000Z');
const JOINED = new Date('2026-06-01T08:00:00.000Z');

const at = (base: Date, ms: number) => new Date(base.getTime() + ms);

function policy(overrides: Partial<OrganisationPolicy> = {}): OrganisationPolicy {
  return { requireAllFrom: START, requireAllAnnouncedAt: ANNOUNCED, afterDeadline: 'set_up_at_login', ...overrides };
}

function user(overrides: Partial<UserTwoFactorFacts> = {}): UserTwoFactorFacts {
  return {
    createdAt: JOINED,
    requiredIndividually: false,
    personalDeadline: null,
    setUpAtNextLogin: false,
    ...overrides,
  };
}

/** The reminder due for a person with `devices` devices at `now`. */
function due(
  now: Date,
  options: { p?: OrganisationPolicy; u?: UserTwoFactorFacts; devices?: number; schedule?: ReminderSchedule } = {},
) {
  const p = options.p ?? policy();
  const u = options.u ?? user();
  const status = twoFactorStatusOf(p, u, options.devices ?? 0, now);
  return dueReminder(options.schedule ?? DEFAULT_REMINDER_SCHEDULE, { policy: p, user: u, status }, now);
}

describe('dueReminder', () => {
  test('the default schedule: when scheduled, 14, 7 and 1 days before, and on the day', () => {
    assert.equal(due(at(ANNOUNCED, -1)), null, 'nothing before the start is announced');
    assert.equal(due(ANNOUNCED)?.slot, 'scheduled');
    assert.equal(due(at(START, -14 * DAY - 1))?.slot, 'scheduled');
    assert.equal(due(at(START, -14 * DAY))?.slot, 'before-14');
    assert.equal(due(at(START, -7 * DAY + 1))?.slot, 'before-7');
    assert.equal(due(at(START, -1 * DAY))?.slot, 'before-1');
    assert.equal(due(at(START, -1))?.slot, 'before-1');
    const onTheDay = due(START);
    assert.deepEqual(onTheDay, { slot: 'on-the-day', deadline: START, passed: true });
    assert.equal(due(at(START, DAY - 1))?.slot, 'on-the-day');
    assert.equal(due(at(START, DAY)), null, 'nothing after the day');
  });

  test('a person with a device, or not required, gets none', () => {
    assert.equal(due(at(START, -7 * DAY), { devices: 1 }), null);
    assert.equal(due(START, { devices: 1 }), null);
    assert.equal(due(at(START, -7 * DAY), { p: policy({ requireAllFrom: null, requireAllAnnouncedAt: null }) }), null);
  });

  test('on the day also in "cannot sign in" mode; not for someone who never had the date', () => {
    assert.equal(due(at(START, 3600_000), { p: policy({ afterDeadline: 'block' }) })?.slot, 'on-the-day');
    // Joined after the start: never had a date to miss.
    assert.equal(due(at(START, 3600_000), { u: user({ createdAt: at(START, 1000) }) }), null);
  });

  test('a personal deadline has its own reminders, its "scheduled" one due at once', () => {
    const personal = at(START, 30 * DAY);
    const u = user({ personalDeadline: personal });
    const early = due(at(START, -60 * DAY), { u });
    assert.deepEqual(early, { slot: 'scheduled', deadline: personal, passed: false });
    assert.equal(due(at(personal, -7 * DAY), { u })?.slot, 'before-7');
    assert.equal(due(at(personal, 10), { u })?.slot, 'on-the-day');
    // Required individually with a deadline, no organisation-wide start at all.
    const alone = user({ requiredIndividually: true, personalDeadline: personal });
    const none = policy({ requireAllFrom: null, requireAllAnnouncedAt: null });
    assert.equal(due(at(personal, -DAY), { u: alone, p: none })?.slot, 'before-1');
  });

  test('a start announced late skips the slots that came before it', () => {
    const late = policy({ requireAllAnnouncedAt: at(START, -5 * DAY) });
    assert.equal(due(at(START, -5 * DAY), { p: late })?.slot, 'scheduled');
    assert.equal(due(at(START, -DAY), { p: late })?.slot, 'before-1');
    const noScheduled = { ...DEFAULT_REMINDER_SCHEDULE, whenScheduled: false };
    assert.equal(due(at(START, -5 * DAY), { p: late, schedule: noScheduled })?.slot, 'before-7');
  });

  test('an empty schedule sends nothing; without "on the day" nothing after the deadline', () => {
    const none: ReminderSchedule = { whenScheduled: false, daysBefore: [], onTheDay: false };
    for (const offset of [-20 * DAY, -7 * DAY, -1, 0, 10])
      assert.equal(due(at(START, offset), { schedule: none }), null);
    assert.equal(due(START, { schedule: { ...DEFAULT_REMINDER_SCHEDULE, onTheDay: false } }), null);
  });

  test('the slot due never goes back in time as the clock moves on (so each is sent at most once, in order)', () => {
    const order = ['scheduled', 'before-14', 'before-7', 'before-1', 'on-the-day'];
    fc.assert(
      fc.property(
        fc.integer({ min: -40 * DAY, max: 2 * DAY }),
        fc.integer({ min: 0, max: 10 * DAY }),
        (offset, step) => {
          const first = due(at(START, offset));
          const later = due(at(START, offset + step));
          if (first === null || later === null) return;
          assert.ok(order.indexOf(later.slot) >= order.indexOf(first.slot));
        },
      ),
    );
  });
});

describe('dueSummary', () => {
  test('a week before the start and the day before it, while the start is ahead', () => {
    assert.equal(dueSummary(policy(), at(START, -8 * DAY)), null);
    assert.deepEqual(dueSummary(policy(), at(START, -7 * DAY)), { daysBefore: 7, start: START });
    assert.equal(dueSummary(policy(), at(START, -DAY))?.daysBefore, 1);
    assert.equal(dueSummary(policy(), START), null);
    assert.equal(dueSummary(policy({ requireAllFrom: null, requireAllAnnouncedAt: null }), at(START, -DAY)), null);
  });

  test('a start announced three days before it has only the day-before summary', () => {
    const late = policy({ requireAllAnnouncedAt: at(START, -3 * DAY) });
    assert.equal(dueSummary(late, at(START, -3 * DAY)), null);
    assert.equal(dueSummary(late, at(START, -DAY))?.daysBefore, 1);
  });
});

describe('the schedule as typed and stored', () => {
  test('days typed with commas or spaces, repeats dropped, largest first', () => {
    assert.deepEqual(parseReminderDays('7, 14 1,7'), [14, 7, 1]);
    assert.deepEqual(parseReminderDays(''), []);
    for (const bad of ['0', '91', 'seven', '1.5', '-3', '1,2,3,4,5,6,7,8,9,10,11', '1000']) {
      assert.equal(parseReminderDays(bad), null, bad);
    }
  });

  test('stored text round-trips; unreadable text falls back to the default', () => {
    const schedules: ReminderSchedule[] = [
      DEFAULT_REMINDER_SCHEDULE,
      { whenScheduled: false, daysBefore: [30, 2], onTheDay: true },
      { whenScheduled: false, daysBefore: [], onTheDay: false },
    ];
    for (const schedule of schedules) assert.deepEqual(reminderScheduleOf(reminderScheduleText(schedule)), schedule);
    assert.equal(reminderScheduleText(DEFAULT_REMINDER_SCHEDULE), 'scheduled,14,7,1,day');
    assert.deepEqual(reminderScheduleOf(null), DEFAULT_REMINDER_SCHEDULE);
    assert.deepEqual(reminderScheduleOf('scheduled,banana'), DEFAULT_REMINDER_SCHEDULE);
  });
});
