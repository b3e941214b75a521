// One outbox, several senders on PostgreSQL: every message goes out exactly once, whether
// two senders in this process race for the same rows or two real `twofold serve`
// processes start with the same backlog. PostgreSQL-only (named postgres-*, so `npm test`
// runs it in the PostgreSQL pass); skipped without TWOFOLD_TEST_POSTGRES_URL.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { linkMailOf, setPasswordLinkOf } from '../../src/domain/mail.js';
import { depsOn } from '../../src/instance.js';
import type { Deps } from '../../src/services/deps.js';
import { queueMail } from '../../src/services/mail.js';
import { mailSenderOf } from '../../src/services/mail-sender.js';
import { openDatabase } from '../../src/store/db.js';
import { atomically } from '../../src/store/tenant.js';
import { makeOrganisation, settingsOf, testInstance } from '../helpers/app.js';
import { postgresTestUrl } from '../helpers/databases.js';
import { severalInstances } from '../helpers/several-instances.js';
import { smtpMailSettings, startSmtpServer, type TestSmtpServer } from '../helpers/smtp.js';

const SERVER = postgresTestUrl();
const skip = SERVER === null ? 'SKIPPED: one outbox on PostgreSQL: TWOFOLD_TEST_POSTGRES_URL is not set' : false;
if (skip !== false) console.log(skip);

const MESSAGES = 60;

async function queueMany(deps: Deps, organisationId: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    await atomically(deps.db, organisationId, (trx) =>
      queueMail(
        deps,
        trx,
        linkMailOf('invitation', {
          organisationName: 'One Outbox',
          recipientName: `Person ${i}`,
          recipientEmail: `person-${i}@example.com`,
          link: setPasswordLinkOf(deps.publicUrl, `token-${i}`),
          validFor: '7 days',
        }),
      ),
    );
  }
}

function assertEachOnce(smtp: TestSmtpServer): void {
  const ids = smtp.received.map((mail) => mail.parsed.messageId);
  assert.equal(ids.length, MESSAGES);
  assert.equal(new Set(ids).size, MESSAGES, 'no Message-ID twice');
  const recipients = new Set(smtp.received.map((mail) => mail.to[0]));
  assert.equal(recipients.size, MESSAGES, 'every recipient once');
}

test('two senders racing for one outbox send each message once, and both send', { skip }, async (t) => {
  const smtp = await startSmtpServer(t);
  // A server that takes 20 ms a message: one sender alone would need over a second for the
  // backlog, so the other is at it too (without it, one sometimes took all 60 first).
  smtp.behave({ kind: 'accept', delayMs: 20 });
  const instance = await testInstance(t);
  assert.equal(instance.location.kind, 'postgres');
  const org = await makeOrganisation({ db: instance.db, clock: instance.clock });
  await queueMany(instance.deps, org, MESSAGES);
  // A second instance: connections of its own to the same schema.
  const otherDb = openDatabase(instance.location);
  t.after(() => otherDb.destroy());
  const one = mailSenderOf(instance.deps, smtpMailSettings(smtp));
  const two = mailSenderOf(depsOn(otherDb, settingsOf({}, instance.clock)), smtpMailSettings(smtp));
  t.after(() => Promise.all([one.stop(), two.stop()]));
  const [a, b] = await Promise.all([one.sendDue(), two.sendDue()]);
  t.diagnostic(`one sender sent ${a.sent}, the other ${b.sent}`);
  assert.equal(a.sent + b.sent, MESSAGES);
  assert.ok(a.sent > 0 && b.sent > 0, 'both took part');
  await smtp.waitFor(MESSAGES);
  assertEachOnce(smtp);
  const states = await instance.db.selectFrom('mail_outbox').select('state').distinct().execute();
  assert.deepEqual(states, [{ state: 'sent' }]);
});

test(
  'two `twofold serve` starting with the same backlog send each message once',
  { skip, timeout: 120_000 },
  async (t) => {
    const smtp = await startSmtpServer(t);
    const instances = await severalInstances(t, SERVER ?? '', {
      env: { TWOFOLD_SMTP_URL: smtp.url },
      beforeStart: async ({ db, deps, clock }) => {
        const org = await makeOrganisation({ db, clock });
        await queueMany(deps, org, MESSAGES);
      },
    });
    await smtp.waitFor(MESSAGES, 60_000);
    // A moment more, for a message sent twice to show.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    assertEachOnce(smtp);
    const unsent = await instances.db.selectFrom('mail_outbox').select('id').where('state', '!=', 'sent').execute();
    assert.equal(unsent.length, 0);
  },
);
