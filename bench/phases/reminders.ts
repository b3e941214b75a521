// The reminder run of an organisation of 100,000 people without a device, all due the
// "scheduled" reminder, inside a freshly started `twofold serve` (which runs it at start):
// how long until every reminder is recorded, the server's peak memory, and the code step's
// latency meanwhile, probed one request at a time as figure 2 probes it.
import { sql } from 'kysely';
import { codeAt } from '../../src/domain/totp.js';
import type { Db } from '../../src/store/db.js';
import { tenantFor } from '../../src/store/tenant.js';
import { cookieNamesFor } from '../../src/web/respond.js';
import { clientFor, csrfTokenIn } from '../http.js';
import type { ServerProcess } from '../processes.js';
import { createOrganisation, seedUsers, type BenchUser } from '../seed.js';
import { SECRET_KEY } from '../settings.js';
import { sleep } from '../stats.js';
import { pendingLogins } from './code-step.js';

const DAY_MS = 24 * 60 * 60_000;

export interface ReminderOrganisation {
  organisationId: string;
  people: number;
}

/**
 * `count` active people without a device, in an organisation that requires 2FA from
 * `daysAhead` days on, announced now: each is in grace and due the "scheduled" reminder.
 */
export async function seedReminderOrganisation(
  db: Db,
  passwordHash: string,
  count: number,
  daysAhead: number,
): Promise<ReminderOrganisation> {
  const now = new Date();
  const organisationId = await createOrganisation(db, 'Bench reminders', now);
  await seedUsers(
    db,
    SECRET_KEY,
    passwordHash,
    { organisationId, count, prefix: 'remind', withDevice: () => false },
    now,
  );
  const set = await tenantFor(db, organisationId).organisation.setRequireAllFrom(
    new Date(now.getTime() + daysAhead * DAY_MS),
    now,
  );
  if (!set) throw new Error('the reminder organisation did not take its start date');
  return { organisationId, people: count };
}

/** Reminders recorded for the organisation, and when its run began (the `now` the run recorded them with). */
export async function remindersRecorded(
  db: Db,
  organisationId: string,
): Promise<{ count: number; runAt: Date | null }> {
  const row = await db
    .selectFrom('reminders_sent')
    .select((eb) => [eb.fn.countAll<number>().as('count'), eb.fn.min('sent_at').as('runAt')])
    .where('organisation_id', '=', organisationId)
    .executeTakeFirstOrThrow();
  return { count: Number(row.count), runAt: row.runAt === null ? null : new Date(row.runAt) };
}

/**
 * The reminders the run queued and how many of them are sent, and the messages of any kind
 * sent since `since`: the sender takes the oldest first, so it may be busy with those the
 * earlier phases queued.
 */
export async function remindersMailed(
  db: Db,
  organisationId: string,
  since: Date,
): Promise<{ queued: number; sent: number; sentOfAnyKind: number }> {
  const row = await db
    .selectFrom('mail_outbox')
    .select([
      sql<number>`sum(case when organisation_id = ${organisationId} and kind = 'reminder' then 1 else 0 end)`.as(
        'queued',
      ),
      sql<number>`sum(case when organisation_id = ${organisationId} and kind = 'reminder' and state = 'sent' then 1 else 0 end)`.as(
        'sent',
      ),
      sql<number>`sum(case when sent_at >= ${since.toISOString()} then 1 else 0 end)`.as('sentOfAnyKind'),
    ])
    .executeTakeFirstOrThrow();
  return {
    queued: Number(row.queued ?? 0),
    sent: Number(row.sent ?? 0),
    sentOfAnyKind: Number(row.sentOfAnyKind ?? 0),
  };
}

export interface CodeStepProbe {
  latencies: number[];
  failures: number;
  firstFailure: string | null;
  /** The probe ran out of pending logins before it was told to stop. */
  ranOut: boolean;
}

/**
 * POST /login/code on pending logins of `users` (made first, before `server` starts taking
 * load), one at a time every `everyMs`, until `done()` says stop. `between()` runs after an
 * answer and before the next request, so that its own work (a query in this process) never
 * delays the reading of an answer.
 */
export async function probeCodeStep(
  server: ServerProcess,
  tokens: string[],
  users: (BenchUser & { secret: Uint8Array })[],
  everyMs: number,
  done: () => boolean,
  between: () => Promise<void>,
): Promise<CodeStepProbe> {
  const client = clientFor(server.url);
  const result: CodeStepProbe = { latencies: [], failures: 0, firstFailure: null, ranOut: false };
  try {
    const browser = client.browser();
    const csrf = csrfTokenIn((await browser.get('/login')).body);
    const csrfCookies = [...browser.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    const sessionCookie = cookieNamesFor(false).session;
    for (let at = 0; !done(); at += 1) {
      const next = performance.now() + everyMs;
      const user = users[at];
      const token = tokens[at];
      if (user === undefined || token === undefined) {
        result.ranOut = true;
        break;
      }
      const answer = await client.send(
        'POST',
        '/login/code',
        { cookie: `${csrfCookies}; ${sessionCookie}=${token}` },
        { _csrf: csrf, code: codeAt(user.secret, new Date()) },
      );
      if (answer.status === 303 && answer.location === '/account') result.latencies.push(answer.ms);
      else {
        result.failures += 1;
        result.firstFailure ??= `${answer.status} ${answer.location ?? ''}`;
      }
      await between();
      await sleep(Math.max(0, next - performance.now()));
    }
  } finally {
    client.close();
  }
  return result;
}

/** People with an app, in an organisation of their own that requires nothing, and their pending logins. */
export async function seedProbeLogins(
  db: Db,
  passwordHash: string,
  count: number,
): Promise<{ users: (BenchUser & { secret: Uint8Array })[]; tokens: string[] }> {
  const now = new Date();
  const organisationId = await createOrganisation(db, 'Bench reminder-run sign-ins', now);
  const seeded = await seedUsers(
    db,
    SECRET_KEY,
    passwordHash,
    { organisationId, count, prefix: 'probe', withDevice: () => true },
    now,
  );
  const users = seeded.filter((user): user is BenchUser & { secret: Uint8Array } => user.secret !== null);
  return { users, tokens: await pendingLogins(db, organisationId, users) };
}
