// The administrators' audit log: who may read it, what each row tells, the filters and
// pages, the CSV export, and that no password, code or secret is ever written down.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test, type TestContext } from 'node:test';
import { base32Of, codeAt, timeStepAt } from '../../src/domain/totp.js';
import type { Role } from '../../src/domain/users.js';
import { AUDIT_PAGE_SIZE } from '../../src/store/audit.js';
import { csvField } from '../../src/web/views/audit.js';
import { buildWorld, linkDevice, makeOrganisation, makeUser, PASSWORD, START, type TestWorld } from '../helpers/app.js';
import { Browser, recoveryCodesOn, textOf, type Page } from '../helpers/browser.js';
import { nextCode, problemOn, secretShownOn, signedIn, startLinking, tenantOf } from './support.js';

const FIREFOX_ON_LINUX = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';

/** An organisation with a signed-in administrator. */
async function adminIn(world: TestWorld, options: { role?: Role; domain?: string; timeZone?: string } = {}) {
  const role = options.role ?? 'admin';
  const domain = options.domain ?? 'example.com';
  const org = await makeOrganisation(world, undefined, options.timeZone);
  const admin = await makeUser(world, org, { role, name: 'The boss', email: `boss-${org.slice(0, 8)}@${domain}` });
  const client = await signedIn(world, admin.email);
  return { org, admin, client };
}

/** The rows of the events table: When, What, Who, Whom, Details, From. */
function rowsOn(page: Page): string[][] {
  const body = /<tbody>([\s\S]*?)<\/tbody>/.exec(page.body)?.[1] ?? '';
  return [...body.matchAll(/<tr[^>]*>([\s\S]*?)<\/tr>/g)].map((row) =>
    [...(row[1] ?? '').matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((cell) => textOf(cell[1] ?? '')),
  );
}

function rowsOf(page: Page, what: string): string[][] {
  return rowsOn(page).filter((row) => row[1] === what);
}

/** RFC 4180: quoted fields may hold commas, doubled quotes and line breaks; records end in CRLF. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i += 1;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      record.push(cell);
      cell = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      record.push(cell);
      records.push(record);
      record = [];
      cell = '';
      i += 1;
    } else cell += c;
  }
  assert.equal(cell + record.join(''), '', 'the CSV does not end with CRLF');
  return records;
}

/** The CSV's records as objects keyed by its header. */
function csvRecords(text: string): Record<string, string>[] {
  const [header, ...records] = parseCsv(text);
  assert.deepEqual(header, ['at', 'action', 'actor_email', 'subject_email', 'ip', 'user_agent', 'detail']);
  return records.map((record) => {
    assert.equal(record.length, 7, `a record with ${record.length} fields: ${JSON.stringify(record)}`);
    return Object.fromEntries(record.map((value, i) => [header[i] ?? '', value]));
  });
}

/** A sign-in from a browser of our choosing (the others send app.inject's own user agent). */
async function signInFrom(world: TestWorld, email: string, password: string, userAgent: string): Promise<number> {
  return (await new Browser(world.app, { userAgent }).signIn(email, password)).status;
}

/** A code the authenticator has not shown lately, so it is refused as wrong. */
function wrongCode(secret: Uint8Array, now: Date): string {
  const step = timeStepAt(now);
  const recent = new Set<string>();
  for (let s = step - 12; s <= step + 12; s += 1) recent.add(codeAt(secret, new Date(s * 30_000)));
  for (let n = 271_828; ; n += 1) {
    const candidate = String(n % 1_000_000).padStart(6, '0');
    if (!recent.has(candidate)) return candidate;
  }
}

/** Password, then a wrong code, then the right one. Returns the codes typed. */
async function signInWithWrongCodeFirst(world: TestWorld, email: string, secret: Uint8Array, password = PASSWORD) {
  const client = new Browser(world.app);
  assert.equal((await client.signIn(email, password)).location, '/login/code');
  await client.get('/login/code');
  const wrong = wrongCode(secret, world.clock.now());
  assert.equal((await client.post('/login/code', { code: wrong })).status, 400);
  const right = nextCode(world, secret);
  const done = await client.post('/login/code', { code: right });
  assert.equal(done.location, '/account', textOf(done.body));
  return { client, wrong, right };
}

async function createThroughForm(client: Browser, form: { name: string; email: string; role?: string }): Promise<Page> {
  await client.get('/admin/users/new');
  const page = await client.post('/admin/users', { role: 'user', ...form });
  assert.equal(page.status, 201, problemOn(page));
  return page;
}

test('the audit log is for administrators and super admins; a plain user gets 403', async (t) => {
  const world = await buildWorld(t);
  for (const role of ['admin', 'super_admin'] as const) {
    const { client } = await adminIn(world, { role });
    const page = await client.get('/admin/audit');
    assert.equal(page.status, 200, role);
    assert.match(page.body, /<a href="\/admin\/audit" aria-current="page">Audit log<\/a>/);
    assert.equal((await client.get('/admin/audit.csv')).status, 200, role);
    assert.match((await client.get('/account')).body, /<a href="\/admin\/audit" >Audit log<\/a>/);
  }
  const { org } = await adminIn(world);
  const plain = await makeUser(world, org);
  const client = await signedIn(world, plain.email);
  for (const url of ['/admin/audit', '/admin/audit.csv', '/admin/audit?action=login_failed']) {
    const page = await client.get(url);
    assert.equal(page.status, 403, url);
    assert.match(textOf(page.body), /Only administrators can open this page\./);
    assert.doesNotMatch(page.body, /Sign-in refused|login_succeeded/);
  }
  assert.doesNotMatch((await client.get('/account')).body, /Audit log/);
  const stranger = new Browser(world.app);
  assert.equal((await stranger.get('/admin/audit.csv')).location, '/login');
});

test('an administrator sees the events of their own organisation only, on the page and in the CSV', async (t) => {
  const world = await buildWorld(t);
  const worlds = [];
  for (const domain of ['alpha.example', 'beta.example']) {
    const { org, client } = await adminIn(world, { domain });
    world.clock.advanceMinutes(1);
    const user = await makeUser(world, org, { email: `ann@${domain}` });
    const secret = await linkDevice(world, org, user.id);
    await signInWithWrongCodeFirst(world, user.email, secret);
    await makeUser(world, org, { email: `bob@${domain}` });
    world.clock.advanceMinutes(1);
    assert.equal((await new Browser(world.app).signIn(`bob@${domain}`, 'not his password')).status, 401);
    world.clock.advanceMinutes(1);
    await createThroughForm(client, { name: 'Newcomer', email: `newcomer@${domain}` });
    world.clock.advanceMinutes(1);
    worlds.push({ org, client, domain });
  }
  for (const [mine, theirs] of [worlds, [...worlds].reverse()]) {
    assert.ok(mine && theirs);
    const stored = await world.db
      .selectFrom('audit_events')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('organisation_id', '=', mine.org)
      .executeTakeFirstOrThrow();
    const page = await mine.client.get('/admin/audit');
    const rows = rowsOn(page);
    assert.equal(rows.length, Number(stored.n));
    assert.match(textOf(page.body), new RegExp(`${stored.n} events, newest first`));
    assert.deepEqual(
      rows.map((row) => row[1]),
      ['User created', 'Sign-in refused', 'Signed in', 'Wrong code', 'Signed in'],
    );
    for (const row of rows) {
      for (const person of [row[2], row[3]]) assert.ok(person === '—' || person?.endsWith(`@${mine.domain}`), person);
    }
    assert.ok(!page.body.includes(theirs.domain), `${mine.domain} sees ${theirs.domain}`);
    const csv = await mine.client.get('/admin/audit.csv');
    assert.equal(csvRecords(csv.body).length, Number(stored.n));
    assert.ok(!csv.body.includes(theirs.domain));
    for (const url of [`/admin/audit?person=${theirs.domain}`, `/admin/audit?person=ann@${theirs.domain}`]) {
      assert.equal(rowsOn(await mine.client.get(url)).length, 0, url);
    }
    assert.equal(csvRecords((await mine.client.get(`/admin/audit.csv?person=${theirs.domain}`)).body).length, 0);
  }
});

test('each row says when, what, who, about whom, the details and where from', async (t) => {
  const world = await buildWorld(t);
  const { org, admin, client } = await adminIn(world, { role: 'super_admin' });
  const ben = await makeUser(world, org, { email: 'ben@example.com', name: 'Ben' });
  await linkDevice(world, org, ben.id, 'Pixel 8');
  const cleo = await makeUser(world, org, { email: 'cleo@example.com' });
  assert.equal(await signInFrom(world, cleo.email, 'not the password', FIREFOX_ON_LINUX), 401);
  const dora = await makeUser(world, org, { email: 'dora@example.com' });
  const doraClient = await signedIn(world, dora.email);
  const { url, page: confirm } = await startLinking(doraClient, '/2fa', '<b>Dora’s</b> phone');
  const secret = secretShownOn(confirm).bytes;
  assert.equal((await doraClient.post(url, { code: wrongCode(secret, world.clock.now()) })).status, 400);
  // Her first device: the answer shows the recovery codes that came with it.
  assert.equal(recoveryCodesOn(await doraClient.post(url, { code: nextCode(world, secret) }))?.codes.length, 10);
  await client.submit(`/admin/users/${ben.id}/reset-2fa`, `/admin/users/${ben.id}/reset-2fa`, {});

  const page = await client.get('/admin/audit');
  assert.equal(page.status, 200);
  const headers = [...page.body.matchAll(/<th scope="col">([^<]*)<\/th>/g)].map((m) => m[1]);
  assert.deepEqual(headers, ['When', 'What', 'Who', 'Whom', 'Details', 'From']);
  assert.deepEqual(rowsOf(page, 'Sign-in refused'), [
    [
      '22 Nov 2026, 12:00 (UTC)',
      'Sign-in refused',
      '—',
      cleo.email,
      'reason: wrong password',
      '127.0.0.1 Firefox on Linux',
    ],
  ]);
  assert.deepEqual(rowsOf(page, 'Wrong code'), [
    [
      '22 Nov 2026, 12:00 (UTC)',
      'Wrong code',
      dora.email,
      dora.email,
      'path: device confirmation failures in a row: 1',
      '127.0.0.1 lightMyRequest',
    ],
  ]);
  assert.deepEqual(rowsOf(page, 'Device added')[0]?.slice(1, 5), [
    'Device added',
    dora.email,
    dora.email,
    'device: <b>Dora’s</b> phone',
  ]);
  assert.deepEqual(rowsOf(page, 'Recovery codes made')[0]?.slice(1, 5), [
    'Recovery codes made',
    dora.email,
    dora.email,
    'count: 10',
  ]);
  assert.match(page.body, /device: &lt;b&gt;Dora’s&lt;\/b&gt; phone/);
  assert.doesNotMatch(page.body, /<b>Dora/);
  assert.deepEqual(rowsOf(page, '2FA reset')[0]?.slice(1, 5), [
    '2FA reset',
    admin.email,
    ben.email,
    'devices removed: 1',
  ]);
  assert.deepEqual(
    rowsOf(page, 'Signed in')
      .filter((row) => row[3] === dora.email)
      .map((row) => row.slice(1, 5)),
    [['Signed in', dora.email, dora.email, 'factors: password']],
  );
  // Details of each kind are on separate lines.
  assert.match(page.body, /path: device confirmation<br \/>failures in a row: 1/);
});

test('refused admin actions are recorded: who tried what, on whom, and why it was refused', async (t) => {
  const world = await buildWorld(t);
  const { org, admin, client } = await adminIn(world);
  const boss = await makeUser(world, org, { role: 'super_admin', email: 'chief@example.com' });
  const ann = await makeUser(world, org, { email: 'ann@example.com' });
  const plain = await signedIn(world, ann.email);

  assert.equal((await plain.get('/admin/users')).status, 403);
  assert.equal((await client.get(`/admin/users/${boss.id}`)).status, 403);
  assert.equal((await client.get(`/admin/users/${ann.id}/reset-2fa`)).status, 403);
  // A form post refused before its CSRF token is read could be another site's forgery: not recorded.
  assert.equal((await client.post(`/admin/users/${ann.id}/unlock-2fa`, {})).status, 403);
  await client.get('/admin/users/new');
  const promote = await client.post('/admin/users', { name: 'Up', email: 'up@example.com', role: 'super_admin' });
  assert.equal(promote.status, 400);
  await client.get(`/admin/users/${admin.id}`);
  const selfRole = await client.post(`/admin/users/${admin.id}`, {
    name: 'The boss',
    email: admin.email,
    role: 'user',
    status: 'active',
  });
  assert.equal(selfRole.status, 400);

  const chief = await signedIn(world, boss.email);
  const rows = rowsOf(await chief.get('/admin/audit?action=action_refused'), 'Admin action refused');
  assert.deepEqual(rows.map((row) => [row[2], row[3], row[4]]).reverse(), [
    [ann.email, '—', 'action: list-users refusal: role'],
    [admin.email, boss.email, 'action: view-user refusal: person above'],
    // A role that may not act at all is refused before the person is looked up.
    [admin.email, '—', 'action: reset-2fa refusal: role'],
    [admin.email, '—', 'action: create-user refusal: role above own'],
    [admin.email, admin.email, 'action: set-role refusal: own role'],
  ]);
  // Nothing was done: Ann keeps her 2FA state, nobody was created.
  assert.match(textOf((await chief.get('/admin/users?q=up%40example.com')).body), /0 users matching/);
});

test('the log is filtered by what happened and by person, actor or subject', async (t) => {
  const world = await buildWorld(t);
  const { org, admin, client } = await adminIn(world);
  const ann = await makeUser(world, org, { email: 'ann@example.com' });
  const secret = await linkDevice(world, org, ann.id);
  await signInWithWrongCodeFirst(world, ann.email, secret);
  await createThroughForm(client, { name: 'Newbie', email: 'newbie@example.com' });

  const wrong = await client.get('/admin/audit?action=code_failed');
  assert.deepEqual(
    rowsOn(wrong).map((row) => [row[1], row[3]]),
    [['Wrong code', ann.email]],
  );
  assert.match(wrong.body, /<option value="code_failed" selected>Wrong code<\/option>/);
  assert.match(wrong.body, /href="\/admin\/audit\.csv\?action=code_failed"/);
  const csv = csvRecords((await client.get('/admin/audit.csv?action=code_failed')).body);
  assert.deepEqual(
    csv.map((r) => [r.action, r.subject_email]),
    [['code_failed', ann.email]],
  );

  // The admin acted on the newcomer: a search for either finds the creation.
  const byActor = rowsOn(await client.get(`/admin/audit?person=${encodeURIComponent(admin.email.slice(0, 10))}`));
  assert.deepEqual(
    byActor.map((row) => row[1]),
    ['User created', 'Signed in'],
  );
  const bySubject = rowsOn(await client.get('/admin/audit?person=NEWBIE'));
  assert.deepEqual(
    bySubject.map((row) => [row[1], row[2], row[3]]),
    [['User created', admin.email, 'newbie@example.com']],
  );
  assert.deepEqual(
    rowsOn(await client.get('/admin/audit?person=ann%40example&action=login_succeeded')).map((row) => row[1]),
    ['Signed in'],
  );
  assert.equal(rowsOn(await client.get('/admin/audit?person=%25')).length, 0, 'a % is a character, not a wildcard');
  assert.equal(rowsOn(await client.get('/admin/audit?person=_')).length, 0, 'an _ is a character, not a wildcard');
  const both = await client.get('/admin/audit?person=newbie&action=user_created');
  assert.match(both.body, /href="\/admin\/audit\.csv\?action=user_created&amp;person=newbie"/);
  assert.match(both.body, /name="person"\s+type="search"\s+value="newbie"/);
});

test('filters that make no sense are explained, on the page and for the CSV', async (t) => {
  const world = await buildWorld(t);
  const { client } = await adminIn(world);
  const cases: [string, RegExp][] = [
    ['action=nope', /Choose what happened from the list\./],
    ['from=2026-02-30', /Enter the “from” date as a day, like 2026-11-22\./],
    ['until=yesterday', /Enter the “until” date as a day, like 2026-11-22\./],
    ['from=1969-12-31', /Enter the “from” date as a day/],
    ['from=2026-11-23&until=2026-11-22', /The “until” date is before the “from” date\./],
  ];
  for (const [query, message] of cases) {
    const page = await client.get(`/admin/audit?${query}`);
    assert.equal(page.status, 400, query);
    assert.match(problemOn(page), message, query);
    assert.equal(rowsOn(page).length, 0);
    assert.doesNotMatch(page.body, /Download as CSV/);
    const csv = await client.get(`/admin/audit.csv?${query}`);
    assert.equal(csv.status, 400, query);
    assert.match(String(csv.headers['content-type']), /^text\/html/);
    assert.match(problemOn(csv), message, query);
  }
  const echoed = await client.get('/admin/audit?action=nope&person=%3Cscript%3E');
  assert.match(echoed.body, /value="&lt;script&gt;"/);
  for (const query of ['page=abc', 'page=-3', 'page=999']) {
    assert.equal((await client.get(`/admin/audit?${query}`)).status, 200, query);
  }
});

test('from and until are whole days in the organisation’s time zone, until included', async (t) => {
  const world = await buildWorld(t);
  world.clock.set(new Date('2026-11-21T12:00:00Z'));
  const { org, admin, client } = await adminIn(world, { role: 'super_admin' });
  world.clock.advanceMinutes(1);
  const saved = await client.submit('/admin/2fa', '/admin/2fa/time-zone', { timeZone: 'America/New_York' });
  assert.equal(saved.status, 303);
  // New York is five hours behind UTC in November: its 22 November is 05:00Z to 05:00Z.
  const visits: [string, string][] = [
    ['before@example.com', '2026-11-22T04:59:00Z'],
    ['first@example.com', '2026-11-22T05:00:00Z'],
    ['last@example.com', '2026-11-23T04:59:00Z'],
    ['after@example.com', '2026-11-23T05:00:00Z'],
  ];
  for (const [email, at] of visits) {
    await makeUser(world, org, { email });
    world.clock.set(new Date(at));
    await signedIn(world, email);
  }
  world.clock.set(new Date('2026-11-23T05:10:00Z'));
  const boss = await signedIn(world, admin.email);

  const day = await boss.get('/admin/audit?from=2026-11-22&until=2026-11-22');
  assert.equal(day.status, 200, problemOn(day));
  assert.deepEqual(
    rowsOn(day).map((row) => [row[0], row[3]]),
    [
      ['22 Nov 2026, 23:59 (America/New_York)', 'last@example.com'],
      ['22 Nov 2026, 00:00 (America/New_York)', 'first@example.com'],
    ],
  );
  assert.match(textOf(day.body), /Days run from midnight to midnight in America\/New_York\./);
  assert.deepEqual(
    csvRecords((await boss.get('/admin/audit.csv?from=2026-11-22&until=2026-11-22')).body).map((r) => r.at),
    ['2026-11-23T04:59:00.000Z', '2026-11-22T05:00:00.000Z'],
  );
  assert.deepEqual(
    rowsOn(await boss.get('/admin/audit?from=2026-11-23')).map((row) => [row[1], row[3]]),
    [
      ['Signed in', admin.email],
      ['Signed in', 'after@example.com'],
    ],
  );
  assert.deepEqual(
    rowsOn(await boss.get('/admin/audit?until=2026-11-21')).map((row) => [row[1], row[3], row[4]]),
    [
      ['Signed in', 'before@example.com', 'factors: password'],
      ['Time zone changed', '—', 'to: America/New_York'],
      ['Signed in', admin.email, 'factors: password'],
    ],
  );
  assert.equal(rowsOn(await boss.get('/admin/audit?from=2026-11-24')).length, 0);
});

test('the log is paged, newest first, and the pages keep the filters', async (t) => {
  const world = await buildWorld(t);
  const { org, admin, client } = await adminIn(world);
  const audit = tenantOf(world, org).audit;
  const extra = 2 * AUDIT_PAGE_SIZE + 3;
  for (let i = 0; i < extra; i += 1) {
    const person = { id: `person-${i}`, email: `person-${String(i).padStart(3, '0')}@example.com` };
    await audit.record(
      { action: 'user_updated', actor: null, subject: person, client: null, detail: { changed: 'name' } },
      new Date(START.getTime() - (i + 1) * 60_000),
    );
  }
  const first = await client.get('/admin/audit');
  const firstRows = rowsOn(first);
  assert.equal(firstRows.length, AUDIT_PAGE_SIZE);
  assert.deepEqual(firstRows[0]?.slice(1, 4), ['Signed in', admin.email, admin.email]);
  assert.equal(firstRows[1]?.[3], 'person-000@example.com');
  assert.equal(firstRows[1]?.[5], '—');
  assert.match(textOf(first.body), /Page 1 of 3/);
  assert.match(first.body, /<a href="\/admin\/audit\?page=2" rel="next">Next<\/a>/);
  assert.doesNotMatch(first.body, /rel="prev"/);

  const second = rowsOn(await client.get('/admin/audit?page=2'));
  assert.equal(second[0]?.[3], 'person-049@example.com');
  assert.equal(second.at(-1)?.[3], 'person-098@example.com');
  const last = await client.get('/admin/audit?page=3');
  assert.deepEqual(
    rowsOn(last).map((row) => row[3]),
    ['person-099@example.com', 'person-100@example.com', 'person-101@example.com', 'person-102@example.com'],
  );
  assert.match(last.body, /<a href="\/admin\/audit\?page=2" rel="prev">Previous<\/a>/);
  assert.doesNotMatch(last.body, /rel="next"/);
  assert.equal(rowsOn(await client.get('/admin/audit?page=4')).length, 0);

  const filtered = await client.get('/admin/audit?person=person-0&action=user_updated');
  assert.match(textOf(filtered.body), /100 events matching the filters, newest first\./);
  assert.match(textOf(filtered.body), /Page 1 of 2/);
  assert.match(filtered.body, /href="\/admin\/audit\?action=user_updated&amp;person=person-0&amp;page=2" rel="next"/);
  const filteredSecond = rowsOn(await client.get('/admin/audit?action=user_updated&person=person-0&page=2'));
  assert.equal(filteredSecond.length, 50);
  assert.equal(filteredSecond.at(-1)?.[3], 'person-099@example.com');

  // The CSV holds every matching event, not one page.
  assert.equal(csvRecords((await client.get('/admin/audit.csv')).body).length, extra + 1);
  assert.equal(csvRecords((await client.get('/admin/audit.csv?person=person-0')).body).length, 100);
});

test('the CSV is quoted by RFC 4180 and its cells cannot start a spreadsheet formula', async (t) => {
  const world = await buildWorld(t);
  // Noon UTC is already the 23rd on Kiritimati: the file is named by the organisation's day.
  const { org, admin, client } = await adminIn(world, { timeZone: 'Pacific/Kiritimati' });
  await createThroughForm(client, { name: '=HYPERLINK("x")', email: '=HYPERLINK("x")@evil.example' });
  world.clock.advanceMinutes(1);
  await createThroughForm(client, { name: 'Smith, "Jr"', email: 'smith,"jr"@example.com' });
  const victim = await makeUser(world, org, { email: 'victim@example.com' });
  for (const agent of ["=cmd|' /C calc'!A0", '@SUM(1+1)', '-2+3', '+1', 'Mozilla, "quoted"']) {
    world.clock.advanceMinutes(1);
    assert.equal(await signInFrom(world, victim.email, 'a wrong guess', agent), 401);
  }

  const response = await client.get('/admin/audit.csv');
  assert.equal(response.status, 200);
  assert.equal(response.headers['content-type'], 'text/csv; charset=utf-8');
  assert.equal(response.headers['content-disposition'], 'attachment; filename="twofold-audit-2026-11-23.csv"');
  assert.equal(response.headers['cache-control'], 'no-store');
  const text = response.body;
  assert.ok(text.startsWith('at,action,actor_email,subject_email,ip,user_agent,detail\r\n'));
  assert.ok(text.includes(`,"'=HYPERLINK(""x"")@evil.example",`), 'a formula email is quoted and made text');
  assert.ok(text.includes(',"smith,""jr""@example.com",'), 'a comma and quotes are quoted');
  assert.ok(text.includes(",'=cmd|' /C calc'!A0,"));
  assert.ok(text.includes(',"{""role"":""user""}"\r\n'), 'JSON details are quoted');

  const records = csvRecords(text);
  const created = records.filter((r) => r.action === 'user_created');
  assert.deepEqual(
    created.map((r) => [r.actor_email, r.subject_email, r.ip, r.user_agent, r.detail]),
    [
      [admin.email, 'smith,"jr"@example.com', '127.0.0.1', 'lightMyRequest', '{"role":"user"}'],
      [admin.email, `'=HYPERLINK("x")@evil.example`, '127.0.0.1', 'lightMyRequest', '{"role":"user"}'],
    ],
  );
  assert.deepEqual(
    records.filter((r) => r.action === 'login_failed').map((r) => [r.actor_email, r.user_agent]),
    [
      ['', 'Mozilla, "quoted"'],
      ['', "'+1"],
      ['', "'-2+3"],
      ['', "'@SUM(1+1)"],
      ['', "'=cmd|' /C calc'!A0"],
    ],
  );
  for (const r of records) {
    assert.match(r.at ?? '', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    assert.doesNotMatch(Object.values(r).join('\n'), /^[=+\-@\t\r]/m);
    JSON.parse(r.detail ?? '');
  }
  assert.equal(csvField('\tx'), "'\tx");
  assert.equal(csvField('\rx'), `"'\rx"`);
  assert.equal(csvField('a\nb'), '"a\nb"');
  assert.equal(csvField('plain'), 'plain');

  // The page shows the same values as text, escaped.
  const page = await client.get('/admin/audit');
  assert.match(page.body, /=HYPERLINK\(&quot;x&quot;\)@evil\.example/);
  assert.match(page.body, /=cmd\|&#39; \/C calc&#39;!A0/);
});

/** A world whose app writes its log, at the most talkative level, into memory. */
async function worldWithLog(t: TestContext): Promise<{ world: TestWorld; log: () => string }> {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString('utf8'));
      done();
    },
  });
  const world = await buildWorld(t, { logger: { level: 'trace', stream } });
  return { world, log: () => chunks.join('') };
}

test('no password, code or secret reaches the audit log, its CSV or the application log', async (t) => {
  const { world, log } = await worldWithLog(t);
  const org = await makeOrganisation(world);
  const admin = await makeUser(world, org, { role: 'admin', email: 'boss@example.com' });
  const carol = await makeUser(world, org, { email: 'carol@example.com' });
  const loginSecret = await linkDevice(world, org, carol.id, 'Old phone');
  const guessed = 'Tr0ub4dor&3 guessed';
  const newPassword = 'seven lucky otters swim north';

  assert.equal((await new Browser(world.app).signIn(carol.email, guessed)).status, 401);
  const {
    client,
    wrong: wrongLoginCode,
    right: loginCode,
  } = await signInWithWrongCodeFirst(world, carol.email, loginSecret);
  const { url, page: confirm } = await startLinking(client, '/2fa', 'New phone');
  const shown = secretShownOn(confirm);
  const wrongDeviceCode = wrongCode(shown.bytes, world.clock.now());
  assert.equal((await client.post(url, { code: wrongDeviceCode })).status, 400);
  const deviceCode = nextCode(world, shown.bytes);
  assert.equal((await client.post(url, { code: deviceCode })).status, 303);
  await client.get('/account/password');
  const changed = await client.post('/account/password', {
    current: PASSWORD,
    password: newPassword,
    confirmation: newPassword,
  });
  assert.equal(changed.location, '/account', problemOn(changed));

  const boss = await signedIn(world, admin.email);
  const linkPage = await boss.post(`/admin/users/${carol.id}/password-link`, {});
  const linkToken = /\/set-password\/([\w-]+)/.exec(linkPage.body)?.[1] ?? '';
  assert.equal((await new Browser(world.app).get(`/set-password/${linkToken}`)).status, 200);
  const page = await boss.get('/admin/audit');
  const csv = await boss.get('/admin/audit.csv');
  const rows = JSON.stringify(await world.db.selectFrom('audit_events').selectAll().execute());
  // What was done is all there, so the searches below look at something.
  for (const label of ['Sign-in refused', 'Wrong code', 'Signed in', 'Device added', 'Password changed']) {
    assert.ok(rowsOf(page, label).length > 0, label);
  }
  for (const action of ['login_failed', 'code_failed', 'device_added', 'password_changed']) {
    assert.ok(csv.body.includes(action) && rows.includes(action), action);
  }
  assert.match(log(), /"url":"\/login\/code"/);
  assert.match(log(), /"url":"\/set-password\/\[redacted\]"/);

  const forbidden = {
    password: PASSWORD,
    'guessed password': guessed,
    'new password': newPassword,
    'wrong login code': wrongLoginCode,
    'login code': loginCode,
    'wrong device code': wrongDeviceCode,
    'device code': deviceCode,
    'secret as shown': shown.typed,
    'secret without spaces': shown.typed.replace(/ /g, ''),
    'sign-in device secret': base32Of(loginSecret),
    'set-password token': linkToken,
  };
  const places = { 'audit page': page.body, CSV: csv.body, 'audit_events rows': rows, 'application log': log() };
  for (const [where, text] of Object.entries(places)) {
    for (const [what, value] of Object.entries(forbidden)) {
      assert.ok(value.length >= 6, what);
      assert.equal(text.split(value).length - 1, 0, `the ${what} appears in the ${where}`);
    }
  }
});
