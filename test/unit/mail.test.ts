import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  afterFailure,
  isPermanentRefusal,
  linkMailOf,
  LINK_MAIL_KINDS,
  messageIdOf,
  retryDelayMinutes,
  RETRY_FOR_MINUTES,
  setPasswordLinkOf,
} from '../../src/domain/mail.js';

const NOW = new Date('2026-11-22T12:00:00.000Z');
const minutes = (n: number) => new Date(NOW.getTime() + n * 60_000);

const mail = {
  organisationName: 'Acme <Ltd> & "Sons"',
  recipientName: '<script>alert(1)</script>',
  recipientEmail: 'ada@example.com',
  link: setPasswordLinkOf('https://2fa.example.com/', 'tok"en'),
  validFor: '7 days',
};

describe('the messages', () => {
  for (const kind of LINK_MAIL_KINDS) {
    test(`${kind}: both parts carry the link, say why, and escape every value in HTML`, () => {
      const rendered = linkMailOf(kind, mail);
      assert.equal(rendered.to, 'ada@example.com');
      assert.equal(rendered.fromName, 'Acme <Ltd> & "Sons"');
      assert.match(rendered.subject, /Acme <Ltd>/);
      assert.ok(rendered.text.includes(mail.link));
      assert.match(rendered.text, /You receive this email because/);
      assert.match(rendered.text, /works once, for 7 days/);
      assert.match(rendered.text, /does not change your two-factor authentication/);
      assert.ok(!rendered.html.includes('<script>'), 'a name is escaped');
      assert.ok(rendered.html.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
      assert.ok(rendered.html.includes('Acme &lt;Ltd&gt; &amp; &quot;Sons&quot;'));
      assert.ok(rendered.html.includes('href="https://2fa.example.com/set-password/tok%22en"'));
      assert.match(rendered.html, /You receive this email because/);
    });
  }

  test('the three kinds read differently', () => {
    const subjects = new Set(LINK_MAIL_KINDS.map((kind) => linkMailOf(kind, mail).subject));
    assert.equal(subjects.size, LINK_MAIL_KINDS.length);
  });

  test('links and Message-IDs are built from the public URL', () => {
    assert.equal(setPasswordLinkOf('https://2fa.example.com//', 'abc'), 'https://2fa.example.com/set-password/abc');
    assert.equal(messageIdOf('m-1', 'https://2fa.example.com:8443'), '<m-1@2fa.example.com>');
  });
});

describe('retrying', () => {
  test('waits 1, 2, 4, 8 … minutes, never more than 2 hours', () => {
    assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 50].map(retryDelayMinutes), [1, 2, 4, 8, 16, 32, 64, 120, 120, 120]);
  });

  test('5xx refusals are permanent except 535; 4xx and failed connections are not', () => {
    assert.equal(isPermanentRefusal(550), true);
    assert.equal(isPermanentRefusal(554), true);
    assert.equal(isPermanentRefusal(535), false);
    assert.equal(isPermanentRefusal(421), false);
    assert.equal(isPermanentRefusal(451), false);
    assert.equal(isPermanentRefusal(null), false);
  });

  test('a temporary failure is tried again at the next delay; a permanent one fails at once', () => {
    const temporary = { permanent: false, detail: '451 try later' };
    assert.deepEqual(afterFailure(temporary, 3, NOW, minutes(10)), { state: 'pending', nextAttemptAt: minutes(14) });
    assert.deepEqual(afterFailure({ permanent: true, detail: '550' }, 1, NOW, NOW), { state: 'failed' });
  });

  test('tries for at least a day, then fails', () => {
    const temporary = { permanent: false, detail: 'connection refused' };
    let at = NOW;
    let attempts = 0;
    for (;;) {
      attempts++;
      const next = afterFailure(temporary, attempts, NOW, at);
      if (next.state === 'failed') break;
      at = next.nextAttemptAt;
    }
    const triedFor = (at.getTime() - NOW.getTime()) / 60_000;
    assert.ok(triedFor >= RETRY_FOR_MINUTES, `tried for ${triedFor} minutes`);
    assert.ok(triedFor < RETRY_FOR_MINUTES + 120, `gave up within 2 hours of a day, after ${triedFor}`);
    assert.ok(attempts > 10 && attempts < 30, `${attempts} attempts`);
  });
});
