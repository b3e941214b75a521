import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { emailProblem, nameProblem } from '../../src/domain/users.js';
import { deviceNameProblem } from '../../src/domain/devices.js';
import { passwordProblem } from '../../src/domain/passwords.js';
import { message, secondFactorProblemMessage, sentencesOf, setupReasonMessage } from '../../src/web/messages.js';

describe('messages', () => {
  test('a code the domain returns reads as a whole sentence, never as the code', () => {
    const codes = [
      emailProblem(''),
      emailProblem('no-at-sign'),
      emailProblem(`${'a'.repeat(250)}@example.com`),
      nameProblem(' '),
      nameProblem('n'.repeat(101)),
      deviceNameProblem(''),
      deviceNameProblem('d'.repeat(61)),
      passwordProblem('short', 'short'),
      passwordProblem('p'.repeat(257), 'p'.repeat(257)),
      passwordProblem('long enough password', 'another one'),
    ];
    for (const code of codes) {
      assert.notEqual(code, null);
      if (code === null) continue;
      const sentence = message(code);
      assert.match(sentence, /^[A-Z].*\.$/, `${code}: ${sentence}`);
      assert.ok(!sentence.includes(code), `${code} shows itself`);
    }
    assert.equal(message('name_too_long'), 'The name must have at most 100 characters.');
    assert.equal(message('device_name_too_long'), 'The name must have at most 60 characters.');
  });

  test('a message with values names each value where the sentence needs it', () => {
    assert.equal(
      message('user_device_removed', { device: 'Pixel 8', name: 'Ada' }),
      "Pixel 8 is removed and Ada's sessions are ended.",
    );
    assert.equal(
      message('sign_in_throttled', { seconds: 1 }),
      'Too many failed sign-ins. Wait 1 second and try again.',
    );
    assert.equal(
      message('sign_in_throttled', { seconds: 30 }),
      'Too many failed sign-ins. Wait 30 seconds and try again.',
    );
    assert.equal(
      message('time_zone_unknown', { typed: 'Mars/Olympus' }),
      '"Mars/Olympus" is not a time zone name. Choose one from the list, such as Europe/Amsterdam or UTC.',
    );
  });

  test("a form's problems become the sentences beside its fields, and only those fields", () => {
    assert.deepEqual(sentencesOf({ email: 'email_taken', role: 'refused_role_above_own' }), {
      email: 'Another account already uses this email address.',
      role: 'Only a super admin can make someone a super admin.',
    });
    assert.deepEqual(sentencesOf({}), {});
  });

  test('each reason to set up now, and each refused second factor, has its own sentence', () => {
    const reasons = ['reset', 'due_now', 'deadline_passed', 'joined_after_start'] as const;
    const setUp = reasons.map(setupReasonMessage);
    assert.equal(new Set(setUp).size, reasons.length);
    for (const sentence of setUp) assert.match(sentence, /Link an authenticator app/);
    const until = new Date('2026-12-02T10:00:00Z');
    const when = (at: Date) => `at ${at.toISOString()}`;
    const problems = (['malformed', 'wrong', 'expired', 'replayed'] as const).map((reason) =>
      secondFactorProblemMessage({ reason }, when),
    );
    assert.equal(new Set(problems).size, 4);
    assert.match(secondFactorProblemMessage({ reason: 'locked', until }, when), /locked until at 2026-12-02T10:00/);
    assert.match(secondFactorProblemMessage({ reason: 'slow_down', until }, when), /Wait until at 2026-12-02T10:00/);
  });
});
