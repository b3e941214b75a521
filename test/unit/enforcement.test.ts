import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  afterPasswordStep,
  changeRequirement,
  daysLeft,
  effectiveDeadlineFor,
  isOverdue,
  isTwoFactorRequired,
  mayRemoveDevice,
  policyPhase,
  twoFactorStatusOf,
} from '../../src/domain/enforcement.js';
import type {
  AfterDeadline,
  OrganisationPolicy,
  RequirementChange,
  TwoFactorStatus,
  UserTwoFactorFacts,
} from '../../src/domain/enforcement.js';

// A frozen calendar: every test reads the clock from these values, never from Date.now().
const JOINED = new Date('2026-01-05T08:00:00.000Z');
const START = new Date('2026-03-01T09:00:00.000Z');
const PERSONAL = new Date('2026-04-15T17:00:00.000Z');
const DAY = 24 * 60 * 60 * 1000;

function at(base: Date, deltaMs: number): Date {
  return new Date(base.getTime() + deltaMs);
}

/** A start is announced well before it, unless a test says otherwise. */
const LONG_AGO = new Date('2020-01-01T00:00:00Z');

function policy(overrides: Partial<OrganisationPolicy> = {}): OrganisationPolicy {
  const requireAllFrom = overrides.requireAllFrom ?? null;
  return {
    requireAllFrom,
    requireAllAnnouncedAt: requireAllFrom === null ? null : LONG_AGO,
    afterDeadline: 'set_up_at_login',
    ...overrides,
  };
}

function requiredFrom(start: Date, afterDeadline: AfterDeadline = 'set_up_at_login'): OrganisationPolicy {
  return policy({ requireAllFrom: start, afterDeadline });
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

const MODES: readonly AfterDeadline[] = ['set_up_at_login', 'block'];

describe('policyPhase', () => {
  test('an organisation that never asked for 2FA is off, whatever the time', () => {
    assert.equal(policyPhase(policy(), START), 'off');
    assert.equal(policyPhase(policy(), at(START, 1000 * DAY)), 'off');
  });

  test('a requirement is scheduled until its start, active from the very millisecond it starts', () => {
    const p = requiredFrom(START);
    assert.equal(policyPhase(p, at(START, -1)), 'scheduled');
    assert.equal(policyPhase(p, START), 'active');
    assert.equal(policyPhase(p, at(START, 1)), 'active');
  });

  test('as the clock moves past the start a scheduled requirement becomes active and stays active', () => {
    const p = requiredFrom(START);
    const phases = [-DAY, -1, 0, 1, DAY, 365 * DAY].map((delta) => policyPhase(p, at(START, delta)));
    assert.deepEqual(phases, ['scheduled', 'scheduled', 'active', 'active', 'active', 'active']);
  });
});

describe('isTwoFactorRequired', () => {
  test('nobody has to use 2FA when the organisation does not ask and nobody was singled out', () => {
    assert.equal(isTwoFactorRequired(policy(), user()), false);
  });

  test('a personal deadline alone does not make 2FA required', () => {
    assert.equal(isTwoFactorRequired(policy(), user({ personalDeadline: PERSONAL })), false);
  });

  test('a scheduled organisation-wide requirement already counts as required', () => {
    assert.equal(isTwoFactorRequired(requiredFrom(PERSONAL), user()), true);
  });

  test('an active organisation-wide requirement applies to everyone', () => {
    assert.equal(isTwoFactorRequired(requiredFrom(START), user()), true);
  });

  test('a user required individually must use 2FA even when the organisation does not ask', () => {
    assert.equal(isTwoFactorRequired(policy(), user({ requiredIndividually: true })), true);
  });
});

describe('effectiveDeadlineFor', () => {
  test('without a personal deadline the organisation start is the deadline', () => {
    assert.deepEqual(effectiveDeadlineFor(requiredFrom(START), user()), START);
  });

  test('a personal deadline later than the organisation start wins', () => {
    assert.deepEqual(effectiveDeadlineFor(requiredFrom(START), user({ personalDeadline: PERSONAL })), PERSONAL);
  });

  test('a personal deadline earlier than the organisation start also wins', () => {
    const earlier = at(START, -10 * DAY);
    assert.deepEqual(effectiveDeadlineFor(requiredFrom(START), user({ personalDeadline: earlier })), earlier);
  });

  test('an individual requirement without a personal deadline is due at once, even if the organisation starts later', () => {
    assert.equal(effectiveDeadlineFor(requiredFrom(START), user({ requiredIndividually: true })), null);
    assert.equal(effectiveDeadlineFor(policy(), user({ requiredIndividually: true })), null);
  });

  test('an individual requirement with a personal deadline is due by that deadline', () => {
    const u = user({ requiredIndividually: true, personalDeadline: PERSONAL });
    assert.deepEqual(effectiveDeadlineFor(policy(), u), PERSONAL);
  });

  test('there is no deadline when nothing is required', () => {
    assert.equal(effectiveDeadlineFor(policy(), user()), null);
  });
});

describe('twoFactorStatusOf: enrolled', () => {
  test('a user with a confirmed device who is not required is enrolled, and told it is optional', () => {
    assert.deepEqual(twoFactorStatusOf(policy(), user(), 1, START), { kind: 'enrolled', required: false });
  });

  test('a user with a confirmed device under an organisation requirement is enrolled and required', () => {
    assert.deepEqual(twoFactorStatusOf(requiredFrom(START), user(), 2, at(START, DAY)), {
      kind: 'enrolled',
      required: true,
    });
  });

  test('a user required individually with a device is enrolled and required', () => {
    assert.deepEqual(twoFactorStatusOf(policy(), user({ requiredIndividually: true }), 1, START), {
      kind: 'enrolled',
      required: true,
    });
  });

  test('a confirmed device wins over a reset flag', () => {
    const status = twoFactorStatusOf(policy(), user({ setUpAtNextLogin: true }), 1, START);
    assert.deepEqual(status, { kind: 'enrolled', required: false });
  });

  test('a confirmed device wins over a passed deadline in block mode', () => {
    const status = twoFactorStatusOf(requiredFrom(START, 'block'), user(), 1, at(START, 30 * DAY));
    assert.deepEqual(status, { kind: 'enrolled', required: true });
  });
});

describe('twoFactorStatusOf: not required', () => {
  test('a user without a device signs in without 2FA when nobody asks for it', () => {
    assert.deepEqual(twoFactorStatusOf(policy(), user(), 0, START), { kind: 'not_required' });
  });

  test('a personal deadline without any requirement does not make a user set up 2FA', () => {
    const status = twoFactorStatusOf(policy(), user({ personalDeadline: START }), 0, at(START, DAY));
    assert.deepEqual(status, { kind: 'not_required' });
  });
});

describe('twoFactorStatusOf: reset', () => {
  for (const mode of MODES) {
    test(`a user whose device an admin reset must set up a new one at login (${mode} mode)`, () => {
      const status = twoFactorStatusOf(requiredFrom(START, mode), user({ setUpAtNextLogin: true }), 0, at(START, DAY));
      assert.deepEqual(status, { kind: 'must_set_up', reason: 'reset' });
    });
  }

  test('a reset user is asked to set up even before the organisation requirement starts', () => {
    const status = twoFactorStatusOf(requiredFrom(START), user({ setUpAtNextLogin: true }), 0, at(START, -DAY));
    assert.deepEqual(status, { kind: 'must_set_up', reason: 'reset' });
  });

  test('a reset user is asked to set up even when nothing requires 2FA', () => {
    const status = twoFactorStatusOf(policy(), user({ setUpAtNextLogin: true }), 0, START);
    assert.deepEqual(status, { kind: 'must_set_up', reason: 'reset' });
  });

  test('a reset user in block mode is never blocked, even with a personal deadline long gone', () => {
    const u = user({ setUpAtNextLogin: true, personalDeadline: at(START, -30 * DAY) });
    const status = twoFactorStatusOf(requiredFrom(START, 'block'), u, 0, at(START, 30 * DAY));
    assert.deepEqual(status, { kind: 'must_set_up', reason: 'reset' });
  });
});

describe('twoFactorStatusOf: due now', () => {
  for (const mode of MODES) {
    test(`a user required individually without a deadline must set up at once (${mode} mode)`, () => {
      const status = twoFactorStatusOf(policy({ afterDeadline: mode }), user({ requiredIndividually: true }), 0, START);
      assert.deepEqual(status, { kind: 'must_set_up', reason: 'due_now' });
    });
  }

  test('an individual requirement without a deadline does not wait for a later organisation start', () => {
    const status = twoFactorStatusOf(requiredFrom(PERSONAL), user({ requiredIndividually: true }), 0, START);
    assert.deepEqual(status, { kind: 'must_set_up', reason: 'due_now' });
  });
});

describe('twoFactorStatusOf: grace', () => {
  test('before a scheduled organisation start a user without a device is reminded of the start date', () => {
    const status = twoFactorStatusOf(requiredFrom(START, 'block'), user(), 0, at(START, -DAY));
    assert.deepEqual(status, { kind: 'grace', deadline: START });
  });

  test('one millisecond before the deadline the user is still in grace', () => {
    const status = twoFactorStatusOf(requiredFrom(START, 'block'), user(), 0, at(START, -1));
    assert.deepEqual(status, { kind: 'grace', deadline: START });
  });

  test('a personal deadline gives more time after the organisation requirement is active', () => {
    const u = user({ personalDeadline: PERSONAL });
    const status = twoFactorStatusOf(requiredFrom(START, 'block'), u, 0, at(START, DAY));
    assert.deepEqual(status, { kind: 'grace', deadline: PERSONAL });
  });

  test('an individual requirement with a personal deadline gives time until that deadline', () => {
    const u = user({ requiredIndividually: true, personalDeadline: PERSONAL });
    const status = twoFactorStatusOf(policy(), u, 0, at(PERSONAL, -1));
    assert.deepEqual(status, { kind: 'grace', deadline: PERSONAL });
  });

  test('a user who joins before a scheduled start gets the same grace as everyone else', () => {
    const joinedLate = user({ createdAt: at(START, -1) });
    const status = twoFactorStatusOf(requiredFrom(START), joinedLate, 0, at(START, -1));
    assert.deepEqual(status, { kind: 'grace', deadline: START });
  });
});

describe('twoFactorStatusOf: the deadline passes', () => {
  test('at exactly the organisation start a user in block mode is blocked', () => {
    const status = twoFactorStatusOf(requiredFrom(START, 'block'), user(), 0, START);
    assert.deepEqual(status, { kind: 'blocked', deadline: START });
  });

  test('at exactly the organisation start a user in set-up mode must set up because the date passed', () => {
    const status = twoFactorStatusOf(requiredFrom(START, 'set_up_at_login'), user(), 0, START);
    assert.deepEqual(status, { kind: 'must_set_up', reason: 'deadline_passed' });
  });

  test('one millisecond after the start a user in block mode is blocked', () => {
    const status = twoFactorStatusOf(requiredFrom(START, 'block'), user(), 0, at(START, 1));
    assert.deepEqual(status, { kind: 'blocked', deadline: START });
  });

  test('one millisecond after the start a user in set-up mode must set up', () => {
    const status = twoFactorStatusOf(requiredFrom(START, 'set_up_at_login'), user(), 0, at(START, 1));
    assert.deepEqual(status, { kind: 'must_set_up', reason: 'deadline_passed' });
  });

  test('at exactly a personal deadline a user in block mode is blocked, and told which date they missed', () => {
    const u = user({ personalDeadline: PERSONAL });
    const status = twoFactorStatusOf(requiredFrom(START, 'block'), u, 0, PERSONAL);
    assert.deepEqual(status, { kind: 'blocked', deadline: PERSONAL });
  });

  test('a personal deadline passed in set-up mode makes the user set up', () => {
    const u = user({ personalDeadline: PERSONAL });
    const status = twoFactorStatusOf(requiredFrom(START), u, 0, at(PERSONAL, 1));
    assert.deepEqual(status, { kind: 'must_set_up', reason: 'deadline_passed' });
  });

  test('a user required individually who let a personal deadline pass is blocked in block mode', () => {
    const u = user({ requiredIndividually: true, personalDeadline: PERSONAL });
    const status = twoFactorStatusOf(policy({ afterDeadline: 'block' }), u, 0, at(PERSONAL, 1));
    assert.deepEqual(status, { kind: 'blocked', deadline: PERSONAL });
  });

  test('a user created one millisecond before the start had the date and is blocked in block mode', () => {
    const u = user({ createdAt: at(START, -1) });
    const status = twoFactorStatusOf(requiredFrom(START, 'block'), u, 0, at(START, DAY));
    assert.deepEqual(status, { kind: 'blocked', deadline: START });
  });
});

describe('twoFactorStatusOf: joined after the start', () => {
  for (const mode of MODES) {
    test(`a user created at the very moment of the start never had the date and must set up (${mode} mode)`, () => {
      const u = user({ createdAt: START });
      const status = twoFactorStatusOf(requiredFrom(START, mode), u, 0, at(START, DAY));
      assert.deepEqual(status, { kind: 'must_set_up', reason: 'joined_after_start' });
    });

    test(`a user created after the start is asked to set up, not blocked (${mode} mode)`, () => {
      const u = user({ createdAt: at(START, 1) });
      const status = twoFactorStatusOf(requiredFrom(START, mode), u, 0, at(START, DAY));
      assert.deepEqual(status, { kind: 'must_set_up', reason: 'joined_after_start' });
    });
  }

  test('a user created after the start who was given a personal deadline is blocked once it passes', () => {
    const u = user({ createdAt: at(START, DAY), personalDeadline: at(START, 2 * DAY) });
    const status = twoFactorStatusOf(requiredFrom(START, 'block'), u, 0, at(START, 3 * DAY));
    assert.deepEqual(status, { kind: 'blocked', deadline: at(START, 2 * DAY) });
  });

  test('a personal deadline counts as a date the user had, even one set at the moment the account was made', () => {
    const u = user({ createdAt: at(START, DAY), personalDeadline: at(START, DAY) });
    const status = twoFactorStatusOf(requiredFrom(START, 'block'), u, 0, at(START, 2 * DAY));
    assert.deepEqual(status, { kind: 'blocked', deadline: at(START, DAY) });
  });
});

describe('twoFactorStatusOf: transitions', () => {
  test('as the clock passes the start a user without a device goes from grace to blocked in block mode', () => {
    const p = requiredFrom(START, 'block');
    assert.equal(twoFactorStatusOf(p, user(), 0, at(START, -1)).kind, 'grace');
    assert.equal(twoFactorStatusOf(p, user(), 0, START).kind, 'blocked');
  });

  test('as the clock passes the start a user without a device goes from grace to set-up in set-up mode', () => {
    const p = requiredFrom(START, 'set_up_at_login');
    assert.deepEqual(twoFactorStatusOf(p, user(), 0, at(START, -1)), { kind: 'grace', deadline: START });
    assert.deepEqual(twoFactorStatusOf(p, user(), 0, START), { kind: 'must_set_up', reason: 'deadline_passed' });
  });

  test('a blocked user is let back in with a reminder once a super admin gives a personal deadline', () => {
    const p = requiredFrom(START, 'block');
    const now = at(START, 5 * DAY);
    assert.equal(twoFactorStatusOf(p, user(), 0, now).kind, 'blocked');
    const extended = user({ personalDeadline: at(now, 7 * DAY) });
    assert.deepEqual(twoFactorStatusOf(p, extended, 0, now), { kind: 'grace', deadline: at(now, 7 * DAY) });
  });

  test('a blocked user who is reset must set up instead of being refused', () => {
    const p = requiredFrom(START, 'block');
    const now = at(START, 5 * DAY);
    assert.equal(twoFactorStatusOf(p, user(), 0, now).kind, 'blocked');
    assert.deepEqual(twoFactorStatusOf(p, user({ setUpAtNextLogin: true }), 0, now), {
      kind: 'must_set_up',
      reason: 'reset',
    });
  });

  test('switching the organisation from block to set-up lets blocked users set up at login', () => {
    const now = at(START, DAY);
    assert.equal(twoFactorStatusOf(requiredFrom(START, 'block'), user(), 0, now).kind, 'blocked');
    assert.deepEqual(twoFactorStatusOf(requiredFrom(START, 'set_up_at_login'), user(), 0, now), {
      kind: 'must_set_up',
      reason: 'deadline_passed',
    });
  });

  test('a blocked user who confirms a device is enrolled', () => {
    const p = requiredFrom(START, 'block');
    const now = at(START, DAY);
    assert.equal(twoFactorStatusOf(p, user(), 0, now).kind, 'blocked');
    assert.deepEqual(twoFactorStatusOf(p, user(), 1, now), { kind: 'enrolled', required: true });
  });

  test('cancelling a scheduled requirement turns a reminder into no requirement', () => {
    const now = at(START, -DAY);
    assert.equal(twoFactorStatusOf(requiredFrom(START), user(), 0, now).kind, 'grace');
    const cancelled = changeRequirement(requiredFrom(START), { kind: 'cancel' }, now);
    assert.ok(cancelled.ok);
    const after = policy({ requireAllFrom: cancelled.requireAllFrom });
    assert.deepEqual(twoFactorStatusOf(after, user(), 0, now), { kind: 'not_required' });
  });

  test('a personal deadline that runs out sends the user from grace to blocked at that exact moment', () => {
    const p = requiredFrom(START, 'block');
    const u = user({ personalDeadline: PERSONAL });
    assert.equal(twoFactorStatusOf(p, u, 0, at(PERSONAL, -1)).kind, 'grace');
    assert.equal(twoFactorStatusOf(p, u, 0, PERSONAL).kind, 'blocked');
    assert.equal(twoFactorStatusOf(p, u, 0, at(PERSONAL, 1)).kind, 'blocked');
  });
});

describe('isOverdue', () => {
  test('blocked users and users who must set up because of a date are overdue', () => {
    assert.equal(isOverdue({ kind: 'blocked', deadline: START }), true);
    assert.equal(isOverdue({ kind: 'must_set_up', reason: 'deadline_passed' }), true);
  });

  test('someone who never had a date is due, not overdue', () => {
    assert.equal(isOverdue({ kind: 'must_set_up', reason: 'due_now' }), false);
    assert.equal(isOverdue({ kind: 'must_set_up', reason: 'joined_after_start' }), false);
  });

  test('a reset user is not overdue: an admin asked for the new device', () => {
    assert.equal(isOverdue({ kind: 'must_set_up', reason: 'reset' }), false);
  });

  test('enrolled users, users in grace and users not required are not overdue', () => {
    assert.equal(isOverdue({ kind: 'enrolled', required: true }), false);
    assert.equal(isOverdue({ kind: 'enrolled', required: false }), false);
    assert.equal(isOverdue({ kind: 'grace', deadline: START }), false);
    assert.equal(isOverdue({ kind: 'not_required' }), false);
  });
});

describe('afterPasswordStep', () => {
  test('an enrolled user is asked for a code after the password', () => {
    assert.equal(afterPasswordStep({ kind: 'enrolled', required: false }), 'ask_for_code');
    assert.equal(afterPasswordStep({ kind: 'enrolled', required: true }), 'ask_for_code');
  });

  test('a user not required to use 2FA is signed in straight away', () => {
    assert.equal(afterPasswordStep({ kind: 'not_required' }), 'sign_in');
  });

  test('a user in grace is signed in with a reminder', () => {
    assert.equal(afterPasswordStep({ kind: 'grace', deadline: START }), 'sign_in_with_reminder');
  });

  test('a user who must set up is taken to the set-up page, whatever the reason', () => {
    for (const reason of ['due_now', 'deadline_passed', 'reset', 'joined_after_start'] as const) {
      assert.equal(afterPasswordStep({ kind: 'must_set_up', reason }), 'require_setup', reason);
    }
  });

  test('a blocked user is refused even with the right password', () => {
    assert.equal(afterPasswordStep({ kind: 'blocked', deadline: START }), 'refuse');
  });
});

describe('daysLeft', () => {
  test('exactly one day before the deadline one day is left', () => {
    assert.equal(daysLeft(START, at(START, -DAY)), 1);
  });

  test('a part day counts as a whole day', () => {
    assert.equal(daysLeft(START, at(START, -1)), 1);
    assert.equal(daysLeft(START, at(START, -DAY - 1)), 2);
    assert.equal(daysLeft(START, at(START, -6.5 * DAY)), 7);
  });

  test('at the deadline and after it no days are left, never a negative number', () => {
    assert.equal(daysLeft(START, START), 0);
    assert.equal(daysLeft(START, at(START, 1)), 0);
    assert.equal(daysLeft(START, at(START, 10 * DAY)), 0);
  });
});

describe('changeRequirement', () => {
  const now = START;

  test('an admin can require 2FA from now, which starts at the current instant', () => {
    assert.deepEqual(changeRequirement(policy(), { kind: 'require_now' }, now), { ok: true, requireAllFrom: now });
  });

  test('an admin can schedule a requirement one millisecond or more in the future', () => {
    assert.deepEqual(changeRequirement(policy(), { kind: 'require_from', start: at(now, 1) }, now), {
      ok: true,
      requireAllFrom: at(now, 1),
    });
    assert.deepEqual(changeRequirement(policy(), { kind: 'require_from', start: PERSONAL }, now), {
      ok: true,
      requireAllFrom: PERSONAL,
    });
  });

  test('a start equal to now or earlier is refused as in the past', () => {
    assert.deepEqual(changeRequirement(policy(), { kind: 'require_from', start: now }, now), {
      ok: false,
      reason: 'start_in_past',
    });
    assert.deepEqual(changeRequirement(policy(), { kind: 'require_from', start: at(now, -1) }, now), {
      ok: false,
      reason: 'start_in_past',
    });
  });

  test('cancelling when nothing is scheduled leaves no requirement', () => {
    assert.deepEqual(changeRequirement(policy(), { kind: 'cancel' }, now), { ok: true, requireAllFrom: null });
  });

  test('a scheduled requirement can be moved, brought forward to now, or cancelled', () => {
    const scheduled = requiredFrom(PERSONAL);
    const later = at(PERSONAL, 10 * DAY);
    assert.deepEqual(changeRequirement(scheduled, { kind: 'require_from', start: later }, now), {
      ok: true,
      requireAllFrom: later,
    });
    assert.deepEqual(changeRequirement(scheduled, { kind: 'require_now' }, now), { ok: true, requireAllFrom: now });
    assert.deepEqual(changeRequirement(scheduled, { kind: 'cancel' }, now), { ok: true, requireAllFrom: null });
  });

  test('one millisecond before its start a requirement can still be cancelled', () => {
    assert.deepEqual(changeRequirement(requiredFrom(START), { kind: 'cancel' }, at(START, -1)), {
      ok: true,
      requireAllFrom: null,
    });
  });

  test('from the moment it starts a requirement is locked against every change', () => {
    const changes: RequirementChange[] = [
      { kind: 'cancel' },
      { kind: 'require_now' },
      { kind: 'require_from', start: at(START, 30 * DAY) },
    ];
    for (const change of changes) {
      for (const when of [START, at(START, 1), at(START, 365 * DAY)]) {
        assert.deepEqual(changeRequirement(requiredFrom(START), change, when), { ok: false, reason: 'locked' });
      }
    }
  });

  test('a requirement made to start now cannot be cancelled a moment later', () => {
    const made = changeRequirement(policy(), { kind: 'require_now' }, now);
    assert.ok(made.ok);
    const active = policy({ requireAllFrom: made.requireAllFrom });
    assert.deepEqual(changeRequirement(active, { kind: 'cancel' }, now), { ok: false, reason: 'locked' });
  });
});

describe('mayRemoveDevice', () => {
  test('removing one of two confirmed devices is allowed and keeps 2FA on, even when required', () => {
    assert.deepEqual(mayRemoveDevice(requiredFrom(START), user(), 2, true), { ok: true, turnsOffTwoFactor: false });
  });

  test('removing an unconfirmed device is always allowed and changes nothing', () => {
    assert.deepEqual(mayRemoveDevice(requiredFrom(START), user(), 1, false), { ok: true, turnsOffTwoFactor: false });
    assert.deepEqual(mayRemoveDevice(requiredFrom(START), user(), 0, false), { ok: true, turnsOffTwoFactor: false });
  });

  test('the last device cannot be removed while the organisation requires 2FA', () => {
    assert.deepEqual(mayRemoveDevice(requiredFrom(START), user(), 1, true), {
      ok: false,
      reason: 'last_device_required',
    });
  });

  test('the last device cannot be removed while a requirement is only scheduled', () => {
    assert.deepEqual(mayRemoveDevice(requiredFrom(PERSONAL), user(), 1, true), {
      ok: false,
      reason: 'last_device_required',
    });
  });

  test('the last device cannot be removed by a user required individually', () => {
    assert.deepEqual(mayRemoveDevice(policy(), user({ requiredIndividually: true }), 1, true), {
      ok: false,
      reason: 'last_device_required',
    });
  });

  test('removing the last device of a user not required turns 2FA off for them', () => {
    assert.deepEqual(mayRemoveDevice(policy(), user(), 1, true), { ok: true, turnsOffTwoFactor: true });
  });
});

// Properties. Instants are drawn mostly from a few milliseconds around one moment so that
// equal dates (the boundaries) come up often, and sometimes from a wide range.
const BASE = START.getTime();
const instant = fc.oneof(
  fc.integer({ min: -3, max: 3 }).map((k) => new Date(BASE + k)),
  fc.integer({ min: -3, max: 3 }).map((k) => new Date(BASE + k * DAY)),
  fc.date({ min: new Date('2020-01-01T00:00:00Z'), max: new Date('2035-01-01T00:00:00Z'), noInvalidDate: true }),
);
const policyArb = fc.record(
  {
    requireAllFrom: fc.option(instant, { nil: null }),
    requireAllAnnouncedAt: fc.option(instant, { nil: null }),
    afterDeadline: fc.constantFrom<AfterDeadline>('set_up_at_login', 'block'),
  },
  { noNullPrototype: true },
);
const userArb = fc.record(
  {
    createdAt: instant,
    requiredIndividually: fc.boolean(),
    personalDeadline: fc.option(instant, { nil: null }),
    setUpAtNextLogin: fc.boolean(),
  },
  { noNullPrototype: true },
);
const devicesArb = fc.integer({ min: 0, max: 4 });
const changeArb = fc.oneof(
  fc.constant<RequirementChange>({ kind: 'cancel' }),
  fc.constant<RequirementChange>({ kind: 'require_now' }),
  instant.map((start): RequirementChange => ({ kind: 'require_from', start })),
);

function clone<T>(value: T): T {
  return structuredClone(value);
}

describe('properties', () => {
  test('a user with at least one confirmed device is always enrolled', () => {
    fc.assert(
      fc.property(policyArb, userArb, fc.integer({ min: 1, max: 10 }), instant, (p, u, devices, now) => {
        assert.deepEqual(twoFactorStatusOf(p, u, devices, now), {
          kind: 'enrolled',
          required: isTwoFactorRequired(p, u),
        });
      }),
    );
  });

  test('a user is blocked only in block mode, only after a date they had, and never when reset', () => {
    fc.assert(
      fc.property(policyArb, userArb, devicesArb, instant, (p, u, devices, now) => {
        const status = twoFactorStatusOf(p, u, devices, now);
        if (status.kind !== 'blocked') return;
        assert.equal(p.afterDeadline, 'block');
        assert.equal(u.setUpAtNextLogin, false);
        assert.equal(devices, 0);
        const hadTheDate =
          u.personalDeadline !== null ||
          (p.requireAllFrom !== null &&
            u.createdAt.getTime() < p.requireAllFrom.getTime() &&
            p.requireAllAnnouncedAt !== null &&
            p.requireAllAnnouncedAt.getTime() < p.requireAllFrom.getTime());
        assert.ok(hadTheDate, 'blocked a user who never had a date');
        assert.ok(status.deadline.getTime() <= now.getTime(), 'blocked before the deadline');
      }),
    );
  });

  test('a grace deadline is always in the future and is the user’s effective deadline', () => {
    fc.assert(
      fc.property(policyArb, userArb, devicesArb, instant, (p, u, devices, now) => {
        const status = twoFactorStatusOf(p, u, devices, now);
        if (status.kind !== 'grace') return;
        assert.ok(status.deadline.getTime() > now.getTime());
        assert.deepEqual(status.deadline, effectiveDeadlineFor(p, u));
      }),
    );
  });

  test('set-up-at-login organisations never block anyone', () => {
    fc.assert(
      fc.property(policyArb, userArb, devicesArb, instant, (p, u, devices, now) => {
        const status = twoFactorStatusOf({ ...p, afterDeadline: 'set_up_at_login' }, u, devices, now);
        assert.notEqual(status.kind, 'blocked');
      }),
    );
  });

  test('a user is told 2FA is not required exactly when nothing requires it, no reset is pending and no device is linked', () => {
    fc.assert(
      fc.property(policyArb, userArb, devicesArb, instant, (p, u, devices, now) => {
        const status = twoFactorStatusOf(p, u, devices, now);
        const expected = devices === 0 && !u.setUpAtNextLogin && !isTwoFactorRequired(p, u);
        assert.equal(status.kind === 'not_required', expected);
      }),
    );
  });

  test('a user who must use 2FA and has no device is never signed in as if it were optional', () => {
    fc.assert(
      fc.property(policyArb, userArb, instant, (p, u, now) => {
        fc.pre(isTwoFactorRequired(p, u));
        const step = afterPasswordStep(twoFactorStatusOf(p, u, 0, now));
        assert.notEqual(step, 'sign_in');
      }),
    );
  });

  test('once a user without a device is overdue, later clocks never bring back the grace period', () => {
    fc.assert(
      fc.property(policyArb, userArb, instant, fc.integer({ min: 0, max: 400 * DAY }), (p, u, now, later) => {
        fc.pre(isOverdue(twoFactorStatusOf(p, u, 0, now)));
        const laterStatus = twoFactorStatusOf(p, u, 0, at(now, later));
        assert.ok(isOverdue(laterStatus), `overdue at ${now.toISOString()} but ${laterStatus.kind} later`);
      }),
    );
  });

  test('the status depends only on its inputs: the same inputs give the same answer and stay untouched', () => {
    fc.assert(
      fc.property(policyArb, userArb, devicesArb, instant, (p, u, devices, now) => {
        const [p0, u0, now0] = [clone(p), clone(u), clone(now)];
        const first: TwoFactorStatus = twoFactorStatusOf(p, u, devices, now);
        const second = twoFactorStatusOf(clone(p), clone(u), devices, clone(now));
        assert.deepEqual(second, first);
        assert.deepEqual([p, u, now], [p0, u0, now0]);
      }),
    );
  });

  test('changeRequirement never succeeds once the requirement is active', () => {
    fc.assert(
      fc.property(instant, instant, changeArb, (start, now, change) => {
        const p = requiredFrom(start);
        fc.pre(policyPhase(p, now) === 'active');
        assert.deepEqual(changeRequirement(p, change, now), { ok: false, reason: 'locked' });
      }),
    );
  });

  test('a successful change leaves a requirement that is off, active from now, or scheduled in the future', () => {
    fc.assert(
      fc.property(policyArb, changeArb, instant, (p, change, now) => {
        const result = changeRequirement(p, change, now);
        if (!result.ok) return;
        const phase = policyPhase({ ...p, requireAllFrom: result.requireAllFrom }, now);
        const expected = { cancel: 'off', require_now: 'active', require_from: 'scheduled' } as const;
        assert.equal(phase, expected[change.kind]);
      }),
    );
  });

  test('removing a device never leaves a required user without a confirmed device', () => {
    fc.assert(
      fc.property(policyArb, userArb, fc.integer({ min: 0, max: 4 }), fc.boolean(), (p, u, devices, confirmed) => {
        const result = mayRemoveDevice(p, u, devices, confirmed);
        const leftWithNone = confirmed && devices <= 1;
        if (isTwoFactorRequired(p, u) && leftWithNone) assert.equal(result.ok, false);
        else assert.deepEqual(result, { ok: true, turnsOffTwoFactor: leftWithNone });
      }),
    );
  });

  test('daysLeft is never negative and counts every started day', () => {
    fc.assert(
      fc.property(instant, instant, (deadline, now) => {
        const days = daysLeft(deadline, now);
        assert.ok(Number.isInteger(days) && days >= 0);
        if (deadline.getTime() > now.getTime()) {
          assert.ok(days >= 1);
          assert.ok(now.getTime() + days * DAY >= deadline.getTime());
          assert.ok(now.getTime() + (days - 1) * DAY < deadline.getTime());
        } else {
          assert.equal(days, 0);
        }
      }),
    );
  });
});

describe('a requirement that starts "now"', () => {
  const now = new Date('2026-11-22T12:00:00Z');
  const startedNow: OrganisationPolicy = { requireAllFrom: now, requireAllAnnouncedAt: now, afterDeadline: 'block' };
  const longStanding = {
    createdAt: new Date('2026-01-01T00:00:00Z'),
    requiredIndividually: false,
    personalDeadline: null,
    setUpAtNextLogin: false,
  };

  test('gives nobody a date to miss: in block mode existing users set up instead of being refused', () => {
    assert.deepEqual(twoFactorStatusOf(startedNow, longStanding, 0, new Date(now.getTime() + 60_000)), {
      kind: 'must_set_up',
      reason: 'due_now',
    });
  });

  test('announced a moment before its start, it is a date that can be missed', () => {
    const announced: OrganisationPolicy = { ...startedNow, requireAllAnnouncedAt: new Date(now.getTime() - 1) };
    assert.equal(twoFactorStatusOf(announced, longStanding, 0, now).kind, 'blocked');
  });

  test('a personal deadline given afterwards is a date like any other', () => {
    const deadline = new Date(now.getTime() + 3 * 24 * 3600_000);
    const user = { ...longStanding, personalDeadline: deadline };
    assert.deepEqual(twoFactorStatusOf(startedNow, user, 0, now), { kind: 'grace', deadline });
    assert.equal(twoFactorStatusOf(startedNow, user, 0, deadline).kind, 'blocked');
  });
});
