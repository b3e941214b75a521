// The `twofold` command, run as bin/twofold.js runs it but in this process (its main, with
// the test's own environment and streams): a fresh data directory, the password piped on
// standard input or typed at a terminal, and the resulting SQLite database read back. The
// last test runs the real bin/twofold.js, to show that the process itself works.
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { verifyPassword } from '../../src/domain/passwords.js';
import { keyringOf, newSecretKeyText, parseSecretKey } from '../../src/domain/secret-box.js';
import { ensureSecretKeyMatches } from '../../src/services/secret-key.js';
import type { Role } from '../../src/domain/users.js';
import { migrateToLatest, openDatabase, type Db } from '../../src/store/db.js';
import { findOrganisation, insertOrganisation } from '../../src/store/organisations.js';
import { tenantFor } from '../../src/store/tenant.js';
import { findAccountByEmail } from '../../src/store/logins.js';
import { runTwofold } from '../helpers/processes.js';
import { twofold as runInProcess, type CommandInput, type CommandRun } from '../helpers/twofold.js';

const PASSWORD = 'correct horse battery';
const NOW = new Date();

/** A data directory that does not exist yet, so a test can see whether a command made it. */
function freshDataDir(t: TestContext): string {
  const parent = mkdtempSync(join(tmpdir(), 'twofold-cli-'));
  t.after(() => rmSync(parent, { recursive: true, force: true }));
  return join(parent, 'data');
}

function twofold(
  args: string[],
  options: { dataDir: string; env?: Record<string, string> } & Omit<CommandInput, 'env'>,
): Promise<CommandRun> {
  const { dataDir, env, ...input } = options;
  return runInProcess(args, { ...input, env: { TWOFOLD_DATA_DIR: dataDir, ...env } });
}

/**
 * A refusal: exit code 2 and one line on stderr pointing to the command's help (after the
 * warning about a generated key, when the data directory had none yet).
 */
function assertRefused(run: CommandRun, helpPath: string, fragment: string | RegExp): void {
  assert.equal(run.code, 2, `exit code, stderr: ${run.stderr}`);
  const lines = run.stderr
    .trimEnd()
    .split('\n')
    .filter((line) => !line.startsWith('twofold: warning: generated a new secret key'));
  assert.equal(lines.length, 1, `one line on stderr: ${run.stderr}`);
  assert.match(lines[0] ?? '', /^twofold: /);
  if (typeof fragment === 'string') assert.ok(lines[0]?.includes(fragment), `"${fragment}" in: ${lines[0]}`);
  else assert.match(lines[0] ?? '', fragment);
  assert.ok(lines[0]?.includes(`twofold ${helpPath} --help`), `help hint in: ${lines[0]}`);
}

async function inDatabase<T>(dataDir: string, work: (db: Db) => Promise<T>): Promise<T> {
  const db = openDatabase({ kind: 'sqlite', path: join(dataDir, 'twofold.sqlite') });
  try {
    await migrateToLatest(db);
    return await work(db);
  } finally {
    await db.destroy();
  }
}

async function countRows(dataDir: string, table: 'organisations' | 'users'): Promise<number> {
  return inDatabase(dataDir, async (db) => {
    const row = await db
      .selectFrom(table)
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  });
}

async function anOrganisation(db: Db, name: string): Promise<string> {
  const id = randomUUID();
  await insertOrganisation(db, { id, name, timeZone: 'UTC', now: NOW });
  return id;
}

async function aUser(db: Db, organisationId: string, email: string, role: Role = 'user'): Promise<string> {
  const id = randomUUID();
  await tenantFor(db, organisationId).users.insert({
    id,
    email,
    emailKey: email.toLowerCase(),
    name: email,
    role,
    passwordHash: null,
    now: NOW,
  });
  return id;
}

async function aConfirmedDevice(db: Db, organisationId: string, userId: string): Promise<void> {
  const devices = tenantFor(db, organisationId).devices;
  const id = randomUUID();
  await devices.insertUnconfirmed({ id, userId, name: 'Phone', sealedSecret: 'v1.not-read-by-the-reset', now: NOW });
  assert.ok(await devices.acceptTimeStep(userId, id, 1, NOW, 'enrolment'));
}

test('twofold migrate creates the tables once, then has nothing to run', async (t) => {
  const dataDir = freshDataDir(t);
  const first = await twofold(['migrate'], { dataDir });
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /^Ran \d+ migration\(s\): 001-initial, 002-security/);
  assert.equal(await countRows(dataDir, 'organisations'), 0);
  const again = await twofold(['migrate'], { dataDir });
  assert.equal(again.code, 0, again.stderr);
  assert.equal(again.stdout, 'The database is up to date: no migration to run.\n');
});

test('every command and group has help, and help touches no data', async (t) => {
  const dataDir = freshDataDir(t);
  const expectations: [string[], string[]][] = [
    [
      ['--help'],
      [
        'Usage: twofold <command>',
        'serve',
        'migrate',
        'org create',
        'user create',
        'user reset-2fa',
        'TWOFOLD_SECRET_KEY',
      ],
    ],
    [
      ['migrate', '--help'],
      ['Usage: twofold migrate', 'Running it again changes nothing'],
    ],
    [
      ['org', '--help'],
      ['Usage: twofold org <command>', 'create'],
    ],
    [
      ['user', '--help'],
      ['Usage: twofold user <command>', 'create', 'reset-2fa'],
    ],
    [
      ['app', '--help'],
      ['Usage: twofold app <command>', 'create', 'update', 'list', 'rotate-secret', 'delete'],
    ],
    [
      ['app', 'create', '--help'],
      [
        'Usage: twofold app create --org ORG --name NAME --redirect-uri URI [--redirect-uri URI ...]',
        '[--require-2fa] [--require-phishing-resistant] [--id-token-signing-alg ALG]',
        'Everyone signing in to it uses a security key or passkey, whatever it asks for.',
        'RS256 (the default) or ES256',
      ],
    ],
    [
      ['app', 'update', '--help'],
      [
        'Usage: twofold app update --org ORG --client-id ID [--name NAME]',
        '[--redirect-uri URI [--redirect-uri URI ...]]',
        '[--require-2fa | --no-require-2fa] [--require-phishing-resistant | --no-require-phishing-resistant]',
        '[--id-token-signing-alg ALG]',
        '--require-2fa, --no-require-2fa',
        '--require-phishing-resistant, --no-require-phishing-resistant',
        'Everyone signing in to it uses a security key or passkey, whatever it asks for.',
        'What is not given stays as it is',
        '--no-require-phishing-resistant turns that requirement off',
      ],
    ],
    [
      ['site', '--help'],
      ['Usage: twofold site <command>', 'add', 'list', 'delete'],
    ],
    [
      ['site', 'add', '--help'],
      ['--org ORG', '--host HOST', '[--require-2fa]', '/auth/nginx'],
    ],
    [['serve', '--help'], ['Usage: twofold serve']],
    [
      ['org', 'create', '--help'],
      ['--name NAME', '--admin-email EMAIL', '--admin-name NAME', '--time-zone ZONE', 'standard input'],
    ],
    [
      ['user', 'create', '--help'],
      ['--org ORG', '--email EMAIL', '--role ROLE', 'user, admin, super_admin', 'standard input'],
    ],
    [
      ['user', 'reset-2fa', '--help'],
      ['--email EMAIL', 'authenticator devices'],
    ],
  ];
  const runs = await Promise.all(expectations.map(([args]) => twofold(args, { dataDir })));
  expectations.forEach(([args, fragments], i) => {
    const run = runs[i];
    assert.equal(run?.code, 0, `twofold ${args.join(' ')}: ${run?.stderr}`);
    for (const fragment of fragments)
      assert.ok(run.stdout.includes(fragment), `"${fragment}" in help of twofold ${args.join(' ')}`);
  });
  assert.equal(existsSync(dataDir), false, 'help created the data directory');
});

test('org create makes the organisation and its super admin, and warns that a key was generated', async (t) => {
  const dataDir = freshDataDir(t);
  const run = await twofold(['org', 'create', '--name', 'Acme', '--admin-email', 'Alice@Example.com'], {
    dataDir,
    stdin: `${PASSWORD}\n`,
  });

  assert.equal(run.code, 0, run.stderr);
  const organisationId = /id:\s+([0-9a-f-]{36})/.exec(run.stdout)?.[1];
  assert.ok(organisationId, `organisation id in: ${run.stdout}`);
  assert.ok(run.stdout.includes('Alice@Example.com'));
  assert.ok(run.stdout.includes('http://127.0.0.1:3000/login'), 'where to sign in');
  assert.match(run.stderr, /warning: generated a new secret key in .*secret\.key/);
  assert.ok(run.stderr.includes(join(dataDir, 'secret.key')));
  assert.match(run.stderr, /Back it up/);

  await inDatabase(dataDir, async (db) => {
    const organisation = await findOrganisation(db, organisationId);
    assert.equal(organisation?.name, 'Acme');
    assert.equal(organisation.timeZone, 'UTC');
    const login = await findAccountByEmail(db, 'alice@example.com');
    assert.ok(login);
    assert.equal(login.user.organisationId, organisationId);
    assert.equal(login.user.role, 'super_admin');
    assert.equal(login.user.status, 'active');
    assert.equal(login.user.name, 'Alice', 'the name defaults to the part before @');
    assert.match(login.passwordHash ?? '', /^\$argon2id\$/);
    assert.equal(await verifyPassword(login.passwordHash, PASSWORD), true);
  });
});

test('org create keeps the given admin name and time zone, and refuses the same name in another case', async (t) => {
  const dataDir = freshDataDir(t);
  const first = await twofold(
    [
      'org',
      'create',
      '--name',
      'Acme',
      '--admin-email',
      'alice@example.com',
      '--admin-name',
      'Alice Admin',
      '--time-zone',
      'europe/amsterdam',
    ],
    { dataDir, stdin: `${PASSWORD}\n` },
  );
  assert.equal(first.code, 0, first.stderr);
  const second = await twofold(['org', 'create', '--name', ' ACME ', '--admin-email', 'bob@example.com'], {
    dataDir,
    stdin: `${PASSWORD}\n`,
  });

  assertRefused(second, 'org create', 'an organisation named "Acme" already exists');
  assert.doesNotMatch(second.stderr, /generated a new secret key/, 'the key is generated once');
  assert.equal(await countRows(dataDir, 'organisations'), 1);
  await inDatabase(dataDir, async (db) => {
    assert.equal((await findOrganisation(db, 'acme'))?.timeZone, 'Europe/Amsterdam');
    assert.equal((await findAccountByEmail(db, 'alice@example.com'))?.user.name, 'Alice Admin');
    assert.equal(await findAccountByEmail(db, 'bob@example.com'), null);
  });
});

test('org create refuses a short or missing password and creates nothing', async (t) => {
  const short = freshDataDir(t);
  const empty = freshDataDir(t);
  const args = ['org', 'create', '--name', 'Acme', '--admin-email', 'alice@example.com'];
  const [shortRun, emptyRun] = await Promise.all([
    twofold(args, { dataDir: short, stdin: 'only9char\nsecond line is not read\n' }),
    twofold(args, { dataDir: empty, stdin: '' }),
  ]);

  for (const [run, dataDir] of [
    [shortRun, short],
    [emptyRun, empty],
  ] as const) {
    assertRefused(run, 'org create', 'The password must have at least 10 characters. Nothing was created.');
    assert.equal(await countRows(dataDir, 'organisations'), 0);
    assert.equal(await countRows(dataDir, 'users'), 0);
  }
});

test('org create refuses an admin email already in use and creates no organisation', async (t) => {
  const dataDir = freshDataDir(t);
  await inDatabase(dataDir, async (db) => aUser(db, await anOrganisation(db, 'Existing'), 'alice@example.com'));

  const run = await twofold(['org', 'create', '--name', 'Acme', '--admin-email', 'ALICE@example.com'], {
    dataDir,
    stdin: `${PASSWORD}\n`,
  });

  assertRefused(run, 'org create', 'another account already uses the email address ALICE@example.com');
  assert.equal(await countRows(dataDir, 'organisations'), 1);
});

test('org create refuses bad arguments before touching the data directory', async (t) => {
  const dataDir = freshDataDir(t);
  const base = ['org', 'create', '--name', 'Acme'];
  const cases: [string[], string | RegExp][] = [
    [base, 'missing --admin-email EMAIL'],
    [[...base, '--admin-email', 'alice@example.com', '--colour', 'red'], 'unknown option --colour'],
    [[...base, '--admin-email', 'alice@example.com', 'extra'], 'unexpected argument "extra"'],
    [[...base, '--admin-email', 'alice'], '--admin-email "alice": Enter an email address like name@example.com.'],
    [
      [...base, '--admin-email', 'alice@example.com', '--time-zone', 'Mars/Olympus'],
      '--time-zone "Mars/Olympus" is not an IANA time zone',
    ],
    [['org', 'create', '--name', ' ', '--admin-email', 'alice@example.com'], '--name: Enter a name.'],
  ];
  const runs = await Promise.all(cases.map(([args]) => twofold(args, { dataDir, stdin: `${PASSWORD}\n` })));
  cases.forEach(([, fragment], i) => assertRefused(runs[i] as CommandRun, 'org create', fragment));
  assert.equal(existsSync(dataDir), false, 'a refused command created the data directory');
});

test('user create finds the organisation by its name in any case, or by its id', async (t) => {
  const dataDir = freshDataDir(t);
  const organisationId = await inDatabase(dataDir, (db) => anOrganisation(db, 'Acme Corp'));

  const byName = await twofold(
    ['user', 'create', '--org', 'acme corp', '--email', 'carol@example.com', '--role', 'admin', '--name', 'Carol C'],
    {
      dataDir,
      stdin: `${PASSWORD}\n`,
    },
  );
  // The writer keeps the pipe open: the command must not wait for more than the first line.
  const byId = await twofold(
    ['user', 'create', '--org', organisationId, '--email', 'dan@example.com', '--role', 'user'],
    {
      dataDir,
      stdin: `${PASSWORD}\r\n`,
      keepStdinOpen: true,
    },
  );

  assert.equal(byName.code, 0, byName.stderr);
  assert.match(byName.stdout, /Created carol@example\.com \(admin\) in Acme Corp/);
  assert.equal(byId.code, 0, byId.stderr);
  await inDatabase(dataDir, async (db) => {
    const carol = await findAccountByEmail(db, 'carol@example.com');
    assert.equal(carol?.user.organisationId, organisationId);
    assert.equal(carol.user.role, 'admin');
    assert.equal(carol.user.name, 'Carol C');
    assert.equal(await verifyPassword(carol.passwordHash, PASSWORD), true);
    const dan = await findAccountByEmail(db, 'dan@example.com');
    assert.equal(dan?.user.organisationId, organisationId);
    assert.equal(dan.user.role, 'user');
    assert.equal(dan.user.status, 'active');
    assert.equal(dan.user.name, 'dan');
    assert.equal(
      await verifyPassword(dan.passwordHash, PASSWORD),
      true,
      'a CRLF line ending is not part of the password',
    );
  });
});

test('user create refuses a role that does not exist', async (t) => {
  const dataDir = freshDataDir(t);
  await inDatabase(dataDir, (db) => anOrganisation(db, 'Acme'));

  const run = await twofold(['user', 'create', '--org', 'Acme', '--email', 'carol@example.com', '--role', 'owner'], {
    dataDir,
    stdin: `${PASSWORD}\n`,
  });

  assertRefused(run, 'user create', '--role "owner" must be one of user, admin, super_admin');
  assert.equal(await countRows(dataDir, 'users'), 0);
});

test('user create refuses an email already used in any organisation, whatever its case', async (t) => {
  const dataDir = freshDataDir(t);
  await inDatabase(dataDir, async (db) => {
    await aUser(db, await anOrganisation(db, 'Acme'), 'carol@example.com');
    await anOrganisation(db, 'Other');
  });

  const run = await twofold(['user', 'create', '--org', 'Other', '--email', 'CAROL@Example.com', '--role', 'user'], {
    dataDir,
    stdin: `${PASSWORD}\n`,
  });

  assertRefused(run, 'user create', 'another account already uses the email address CAROL@Example.com');
  assert.equal(await countRows(dataDir, 'users'), 1);
});

test('user create refuses an organisation that does not exist', async (t) => {
  const dataDir = freshDataDir(t);
  await inDatabase(dataDir, (db) => anOrganisation(db, 'Acme'));

  const run = await twofold(['user', 'create', '--org', 'Acne', '--email', 'carol@example.com', '--role', 'user'], {
    dataDir,
    stdin: `${PASSWORD}\n`,
  });

  assertRefused(run, 'user create', 'no organisation has the name or id "Acne"');
  assert.equal(await countRows(dataDir, 'users'), 0);
});

test('user reset-2fa removes the devices, ends the sessions and asks for a new set-up, for that user only', async (t) => {
  const dataDir = freshDataDir(t);
  const { organisationId, aliceId, bobId } = await inDatabase(dataDir, async (db) => {
    const organisationId = await anOrganisation(db, 'Acme');
    const aliceId = await aUser(db, organisationId, 'alice@example.com', 'super_admin');
    const bobId = await aUser(db, organisationId, 'bob@example.com', 'super_admin');
    const tenant = tenantFor(db, organisationId);
    await aConfirmedDevice(db, organisationId, aliceId);
    await aConfirmedDevice(db, organisationId, aliceId);
    await aConfirmedDevice(db, organisationId, bobId);
    await tenant.sessions.create(
      aliceId,
      'signed_in',
      NOW,
      new Date(NOW.getTime() + 3_600_000),
      { ip: '127.0.0.1', userAgent: '' },
      { verifiedAt: NOW, secondFactorAt: null, secondFactorMethod: null },
    );
    await tenant.sessions.create(
      bobId,
      'signed_in',
      NOW,
      new Date(NOW.getTime() + 3_600_000),
      { ip: '127.0.0.1', userAgent: '' },
      { verifiedAt: NOW, secondFactorAt: null, secondFactorMethod: null },
    );
    return { organisationId, aliceId, bobId };
  });

  const run = await twofold(['user', 'reset-2fa', '--email', 'ALICE@example.com'], { dataDir });

  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /alice@example\.com in Acme/);
  assert.match(run.stdout, /removed 2 authenticator devices and ended all their sessions/);
  await inDatabase(dataDir, async (db) => {
    const devices = tenantFor(db, organisationId).devices;
    const sessionsOf = async (userId: string) =>
      (await db.selectFrom('sessions').select('id').where('user_id', '=', userId).execute()).length;
    assert.equal((await devices.listForUser(aliceId)).length, 0);
    assert.equal(await sessionsOf(aliceId), 0);
    assert.equal((await findAccountByEmail(db, 'alice@example.com'))?.user.twoFactor.setUpAtNextLogin, true);
    assert.equal(await devices.countConfirmed(bobId), 1, "another user's device stays");
    assert.equal(await sessionsOf(bobId), 1, "another user's session stays");
    assert.equal((await findAccountByEmail(db, 'bob@example.com'))?.user.twoFactor.setUpAtNextLogin, false);
  });
});

test('user reset-2fa refuses an email no account has', async (t) => {
  const dataDir = freshDataDir(t);

  const run = await twofold(['user', 'reset-2fa', '--email', 'nobody@example.com'], { dataDir });

  assertRefused(run, 'user reset-2fa', 'no account has the email address nobody@example.com');
});

test('a bad TWOFOLD_SECRET_KEY is a one-line configuration error', async (t) => {
  const dataDir = freshDataDir(t);

  const run = await twofold(['user', 'reset-2fa', '--email', 'alice@example.com'], {
    dataDir,
    env: { TWOFOLD_SECRET_KEY: 'too-short' },
  });

  assert.equal(run.code, 1);
  assert.equal(run.stderr, 'twofold: TWOFOLD_SECRET_KEY must be 32 bytes, as 64 hex digits or base64\n');
  assert.equal(run.stdout, '');
  assert.equal(existsSync(join(dataDir, 'secret.key')), false);
});

test('a key other than the one the stored secrets were sealed with is refused, and nothing changes', async (t) => {
  const dataDir = freshDataDir(t);
  const sealedWith = parseSecretKey(newSecretKeyText());
  assert.ok(sealedWith);
  const organisationId = await inDatabase(dataDir, async (db) => {
    await ensureSecretKeyMatches(db, keyringOf(sealedWith));
    const organisationId = await anOrganisation(db, 'Acme');
    await aConfirmedDevice(db, organisationId, await aUser(db, organisationId, 'alice@example.com', 'super_admin'));
    return organisationId;
  });

  const run = await twofold(['user', 'reset-2fa', '--email', 'alice@example.com'], {
    dataDir,
    env: { TWOFOLD_SECRET_KEY: newSecretKeyText() },
  });

  assert.equal(run.code, 1);
  assert.equal(run.stderr, 'twofold: TWOFOLD_SECRET_KEY is not the key the stored secrets were encrypted with\n');
  await inDatabase(dataDir, async (db) => {
    const alice = await findAccountByEmail(db, 'alice@example.com');
    assert.equal(await tenantFor(db, organisationId).devices.countConfirmed(alice?.user.id ?? ''), 1);
  });
});

test('at a terminal the password is asked twice without echo; a mismatch or Ctrl+C creates nothing', async (t) => {
  const dataDir = freshDataDir(t);
  const args = (email: string) => ['user', 'create', '--org', 'Acme', '--email', email, '--role', 'user'];
  await inDatabase(dataDir, (db) => anOrganisation(db, 'Acme'));

  const typedTwice = await twofold(args('tess@example.com'), { dataDir, typed: [`${PASSWORD}\r`, `${PASSWORD}\r`] });
  const mismatch = await twofold(args('max@example.com'), {
    dataDir,
    typed: [`${PASSWORD}\r`, 'correct horse battery staple\r'],
  });
  const cancelled = await twofold(args('cat@example.com'), { dataDir, typed: [`${PASSWORD.slice(0, 5)}\u0003`] });

  assert.equal(typedTwice.code, 0, typedTwice.stderr);
  assert.match(typedTwice.stderr, /Password: [\s\S]*Repeat password: /);
  assert.match(typedTwice.stdout, /Created tess@example\.com \(user\) in Acme/);
  // After the two questions, the refusal's one line.
  assert.equal(mismatch.code, 2, mismatch.stderr);
  assert.match(
    mismatch.stderr,
    /\ntwofold: The two passwords do not match\. Nothing was created\. See "twofold user create --help"\.\n$/,
  );
  assert.equal(cancelled.code, 130, cancelled.stderr);
  assert.match(cancelled.stderr, /twofold: cancelled; nothing was created\n$/);
  for (const run of [typedTwice, mismatch, cancelled]) {
    assert.ok(!run.stderr.includes(PASSWORD.slice(0, 5)), `the typed password was echoed: ${run.stderr}`);
  }
  await inDatabase(dataDir, async (db) => {
    const tess = await findAccountByEmail(db, 'tess@example.com');
    assert.equal(await verifyPassword(tess?.passwordHash ?? null, PASSWORD), true);
    assert.equal(await findAccountByEmail(db, 'max@example.com'), null);
    assert.equal(await findAccountByEmail(db, 'cat@example.com'), null);
  });
});

test('the real bin/twofold.js reads the piped password, writes its results and exits with its code', async (t) => {
  const dataDir = freshDataDir(t);
  const args = ['org', 'create', '--name', 'Acme', '--admin-email', 'alice@example.com'];

  const run = await runTwofold(args, { TWOFOLD_DATA_DIR: dataDir }, `${PASSWORD}\n`);

  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /^Created the organisation Acme\.\n/);
  assert.match(run.stderr, /^twofold: warning: generated a new secret key in /);
  await inDatabase(dataDir, async (db) => {
    const alice = await findAccountByEmail(db, 'alice@example.com');
    assert.equal(alice?.user.role, 'super_admin');
    assert.equal(await verifyPassword(alice.passwordHash, PASSWORD), true);
  });
  const refused = await runTwofold(['org', 'create', '--name', 'Acme'], { TWOFOLD_DATA_DIR: dataDir });
  assert.equal(refused.code, 2, refused.stderr);
});

/** "name: value" lines, as app create and app rotate-secret print them. */
function fieldsOf(stdout: string): Map<string, string[]> {
  const fields = new Map<string, string[]>();
  for (const line of stdout.trimEnd().split('\n')) {
    const match = /^([a-z0-9_]+): (.*)$/.exec(line);
    if (match?.[1] === undefined || match[2] === undefined) continue;
    fields.set(match[1], [...(fields.get(match[1]) ?? []), match[2]]);
  }
  return fields;
}

test('app create registers an application, shows its secret once, and keeps only its hash', async (t) => {
  const dataDir = freshDataDir(t);
  await inDatabase(dataDir, (db) => anOrganisation(db, 'Acme'));

  const run = await twofold(
    [
      'app',
      'create',
      '--org',
      'acme',
      '--name',
      'Wiki',
      '--redirect-uri',
      'https://wiki.example.com/oidc/callback',
      '--redirect-uri',
      'http://localhost:8080/callback',
      '--post-logout-redirect-uri',
      'https://wiki.example.com/',
      '--require-2fa',
      '--require-phishing-resistant',
    ],
    { dataDir },
  );
  assert.equal(run.code, 0, run.stderr);
  const printed = fieldsOf(run.stdout);
  assert.deepEqual([...printed.keys()], ['client_id', 'client_secret']);
  const clientId = printed.get('client_id')?.[0] ?? '';
  const secret = printed.get('client_secret')?.[0] ?? '';
  assert.match(clientId, /^[A-Za-z0-9_-]{22}$/);
  assert.match(secret, /^[A-Za-z0-9_-]{43}$/, 'a secret of 256 random bits');

  const stored = await inDatabase(dataDir, async (db) => {
    const rows = await db.selectFrom('applications').selectAll().execute();
    const audit = await db.selectFrom('audit_events').selectAll().where('action', '=', 'application_created').execute();
    return { rows, audit };
  });
  assert.equal(stored.rows.length, 1);
  const row = stored.rows[0];
  assert.equal(row?.id, clientId);
  assert.equal(row?.secret_hash, createHash('sha256').update(secret).digest('hex'));
  assert.ok(!JSON.stringify(stored).includes(secret), 'the secret itself is stored nowhere');
  assert.deepEqual(JSON.parse(row?.redirect_uris ?? ''), [
    'https://wiki.example.com/oidc/callback',
    'http://localhost:8080/callback',
  ]);
  assert.equal(row?.require_2fa, 1);
  assert.equal(row?.require_phishing_resistant, 1);
  assert.equal(stored.audit.length, 1);
  assert.equal(
    (JSON.parse(stored.audit[0]?.detail ?? '{}') as Record<string, unknown>).require_phishing_resistant,
    true,
  );
  assert.equal(stored.audit[0]?.user_agent, 'twofold command');

  const listed = await twofold(['app', 'list', '--org', 'Acme'], { dataDir });
  assert.equal(listed.code, 0, listed.stderr);
  const fields = fieldsOf(listed.stdout);
  assert.deepEqual(fields.get('client_id'), [clientId]);
  assert.deepEqual(fields.get('name'), ['Wiki']);
  assert.deepEqual(fields.get('redirect_uri'), [
    'https://wiki.example.com/oidc/callback',
    'http://localhost:8080/callback',
  ]);
  assert.deepEqual(fields.get('post_logout_redirect_uri'), ['https://wiki.example.com/']);
  assert.deepEqual(fields.get('require_2fa'), ['yes']);
  assert.deepEqual(fields.get('require_phishing_resistant'), ['yes']);
  assert.ok(!listed.stdout.includes(secret), 'the secret is never listed');
});

test('app rotate-secret replaces the secret, app delete removes the application, both within the organisation', async (t) => {
  const dataDir = freshDataDir(t);
  await inDatabase(dataDir, async (db) => {
    await anOrganisation(db, 'Acme');
    await anOrganisation(db, 'Other');
  });
  const creation = await twofold(
    ['app', 'create', '--org', 'Acme', '--name', 'CRM', '--redirect-uri', 'https://crm.example/cb'],
    { dataDir },
  );
  assert.equal(creation.code, 0, creation.stderr);
  const created = fieldsOf(creation.stdout);
  const clientId = created.get('client_id')?.[0] ?? '';
  const first = created.get('client_secret')?.[0] ?? '';
  const hashOf = (text: string) => createHash('sha256').update(text).digest('hex');
  const storedHash = () =>
    inDatabase(dataDir, async (db) =>
      (await db.selectFrom('applications').select('secret_hash').execute()).map((r) => r.secret_hash),
    );

  // Another organisation's name does not reach it.
  assertRefused(
    await twofold(['app', 'rotate-secret', '--org', 'Other', '--client-id', clientId], { dataDir }),
    'app rotate-secret',
    `Other has no application with the client_id "${clientId}"`,
  );
  assert.deepEqual(await storedHash(), [hashOf(first)]);

  const rotated = await twofold(['app', 'rotate-secret', '--org', 'Acme', '--client-id', clientId], { dataDir });
  assert.equal(rotated.code, 0, rotated.stderr);
  const second = fieldsOf(rotated.stdout).get('client_secret')?.[0] ?? '';
  assert.notEqual(second, first);
  assert.deepEqual(await storedHash(), [hashOf(second)]);

  assertRefused(
    await twofold(['app', 'delete', '--org', 'Other', '--client-id', clientId], { dataDir }),
    'app delete',
    'Other has no application',
  );
  const deleted = await twofold(['app', 'delete', '--org', 'Acme', '--client-id', clientId], { dataDir });
  assert.equal(deleted.code, 0, deleted.stderr);
  assert.match(deleted.stdout, /Deleted CRM/);
  assert.match((await twofold(['app', 'list', '--org', 'Acme'], { dataDir })).stdout, /Acme has no applications\./);
  assertRefused(
    await twofold(['app', 'delete', '--org', 'Acme', '--client-id', clientId], { dataDir }),
    'app delete',
    'Acme has no application',
  );
  const actions = await inDatabase(dataDir, async (db) =>
    (await db.selectFrom('audit_events').select('action').orderBy('id').execute()).map((r) => r.action),
  );
  assert.deepEqual(actions, ['application_created', 'application_secret_rotated', 'application_deleted']);
});

test('app update changes what it is given, keeps the rest and the secret, prints the application, and is audited', async (t) => {
  const dataDir = freshDataDir(t);
  await inDatabase(dataDir, async (db) => {
    await anOrganisation(db, 'Acme');
    await anOrganisation(db, 'Other');
  });
  const created = fieldsOf(
    (
      await twofold(
        [
          'app',
          'create',
          '--org',
          'Acme',
          '--name',
          'CRM',
          '--redirect-uri',
          'https://crm.example/cb',
          '--post-logout-redirect-uri',
          'https://crm.example/',
        ],
        { dataDir },
      )
    ).stdout,
  );
  const clientId = created.get('client_id')?.[0] ?? '';
  const secretHash = createHash('sha256')
    .update(created.get('client_secret')?.[0] ?? '')
    .digest('hex');
  const update = (...args: string[]) =>
    twofold(['app', 'update', '--org', 'Acme', '--client-id', clientId, ...args], { dataDir });
  const listed = async () => (await twofold(['app', 'list', '--org', 'Acme'], { dataDir })).stdout;
  assert.deepEqual(fieldsOf(await listed()).get('require_phishing_resistant'), ['no'], 'off unless given');

  const changed = await update(
    '--redirect-uri',
    'https://crm.example/oidc/cb',
    '--redirect-uri',
    'http://localhost:8080/cb',
    '--require-2fa',
    '--require-phishing-resistant',
    '--id-token-signing-alg',
    'ES256',
  );
  assert.equal(changed.code, 0, changed.stderr);
  assert.equal(changed.stderr, '');
  assert.deepEqual(Object.fromEntries(fieldsOf(changed.stdout)), {
    client_id: [clientId],
    name: ['CRM'],
    redirect_uri: ['https://crm.example/oidc/cb', 'http://localhost:8080/cb'],
    post_logout_redirect_uri: ['https://crm.example/'],
    require_2fa: ['yes'],
    require_phishing_resistant: ['yes'],
    id_token_signing_alg: ['ES256'],
  });
  // As app list prints it.
  assert.equal(await listed(), changed.stdout);

  const renamed = await update('--name', 'Sales CRM', '--no-require-2fa', '--post-logout-redirect-uri', '');
  assert.equal(renamed.code, 0, renamed.stderr);
  assert.deepEqual(Object.fromEntries(fieldsOf(renamed.stdout)), {
    client_id: [clientId],
    name: ['Sales CRM'],
    redirect_uri: ['https://crm.example/oidc/cb', 'http://localhost:8080/cb'],
    require_2fa: ['no'],
    require_phishing_resistant: ['yes'],
    id_token_signing_alg: ['ES256'],
  });

  const off = await update('--no-require-phishing-resistant');
  assert.equal(off.code, 0, off.stderr);
  assert.deepEqual(fieldsOf(off.stdout).get('require_phishing_resistant'), ['no']);
  assert.deepEqual(fieldsOf(await listed()).get('require_phishing_resistant'), ['no']);

  const same = await update('--name', 'Sales CRM', '--id-token-signing-alg', 'ES256');
  assert.equal(same.code, 0, same.stderr);
  assert.match(same.stderr, /nothing changed: the application already has these settings/);
  assert.deepEqual(fieldsOf(same.stdout).get('name'), ['Sales CRM']);

  // Another organisation's name does not reach it; refused options change nothing.
  assertRefused(
    await twofold(['app', 'update', '--org', 'Other', '--client-id', clientId, '--name', 'Mine'], { dataDir }),
    'app update',
    `Other has no application with the client_id "${clientId}"`,
  );
  const refusals: [string[], string][] = [
    [
      [],
      'nothing to change: give --name, --redirect-uri, --post-logout-redirect-uri, --require-2fa, --no-require-2fa, ' +
        '--require-phishing-resistant, --no-require-phishing-resistant or --id-token-signing-alg',
    ],
    [['--name', ' '], '--name: Enter the name people know the application by.'],
    [['--redirect-uri', 'http://crm.example/cb'], '--redirect-uri "http://crm.example/cb": The address must start'],
    [['--post-logout-redirect-uri', 'https://crm.example/#x'], 'must not contain a # part'],
    [
      ['--id-token-signing-alg', 'HS256'],
      '--id-token-signing-alg: Choose how its ID tokens are signed: RS256 or ES256.',
    ],
    [['--require-2fa', '--no-require-2fa'], 'give --require-2fa or --no-require-2fa, not both'],
    [['--no-require-2fa=yes'], '--no-require-2fa takes no value'],
    [
      ['--no-require-phishing-resistant', '--require-phishing-resistant'],
      'give --require-phishing-resistant or --no-require-phishing-resistant, not both',
    ],
    [['--require-phishing-resistant=yes'], '--require-phishing-resistant takes no value'],
  ];
  for (const [args, fragment] of refusals) assertRefused(await update(...args), 'app update', fragment);

  const stored = await inDatabase(dataDir, async (db) => ({
    rows: await db.selectFrom('applications').selectAll().execute(),
    audit: await db
      .selectFrom('audit_events')
      .selectAll()
      .where('action', '=', 'application_changed')
      .orderBy('id')
      .execute(),
  }));
  assert.equal(stored.rows.length, 1);
  assert.equal(stored.rows[0]?.id, clientId);
  assert.equal(stored.rows[0]?.secret_hash, secretHash, 'the secret stays');
  assert.equal(stored.rows[0]?.name, 'Sales CRM');
  assert.equal(stored.rows[0]?.require_phishing_resistant, 0);
  assert.deepEqual(
    stored.audit.map((event) => JSON.parse(event.detail) as unknown),
    [
      {
        application: 'CRM',
        client_id: clientId,
        changed: 'redirect_uris, require_2fa, require_phishing_resistant, id_token_signing_alg',
        redirect_uris: 'https://crm.example/oidc/cb http://localhost:8080/cb',
        require_2fa: true,
        require_phishing_resistant: true,
        id_token_signing_alg: 'ES256',
      },
      {
        application: 'CRM',
        client_id: clientId,
        changed: 'name, post_logout_redirect_uris, require_2fa',
        name: 'Sales CRM',
        post_logout_redirect_uris: null,
        require_2fa: false,
      },
      {
        application: 'Sales CRM',
        client_id: clientId,
        changed: 'require_phishing_resistant',
        require_phishing_resistant: false,
      },
    ],
  );
  assert.ok(stored.audit.every((event) => event.user_agent === 'twofold command'));
});

test('app create refuses a missing or unsafe redirect address and a missing name before touching the data directory', async (t) => {
  const dataDir = freshDataDir(t);
  const cases: [string[], string][] = [
    [['--name', 'Wiki'], 'missing --redirect-uri URI'],
    [
      ['--name', 'Wiki', '--redirect-uri', 'http://wiki.example.com/cb'],
      '--redirect-uri "http://wiki.example.com/cb": The address must start with https://',
    ],
    [['--name', 'Wiki', '--redirect-uri', 'https://wiki.example.com/cb#x'], 'must not contain a # part'],
    [['--name', 'Wiki', '--redirect-uri', 'wiki/cb'], 'Enter a whole address'],
    [
      [
        '--name',
        'Wiki',
        '--redirect-uri',
        'https://wiki.example.com/cb',
        '--post-logout-redirect-uri',
        'http://evil.example/',
      ],
      '--post-logout-redirect-uri "http://evil.example/"',
    ],
    [
      ['--name', ' ', '--redirect-uri', 'https://wiki.example.com/cb'],
      '--name: Enter the name people know the application by.',
    ],
    [
      ['--name', 'Wiki', '--redirect-uri', 'https://wiki.example.com/cb', '--require-2fa=yes'],
      '--require-2fa takes no value',
    ],
    [
      ['--name', 'Wiki', '--redirect-uri', 'https://wiki.example.com/cb', '--require-phishing-resistant=yes'],
      '--require-phishing-resistant takes no value',
    ],
    [
      ['--name', 'Wiki', '--redirect-uri', 'https://wiki.example.com/cb', '--no-require-phishing-resistant'],
      'unknown option --no-require-phishing-resistant',
    ],
  ];
  for (const [args, fragment] of cases) {
    assertRefused(await twofold(['app', 'create', '--org', 'Acme', ...args], { dataDir }), 'app create', fragment);
  }
  assert.equal(existsSync(dataDir), false, 'a refused command created the data directory');
  const help = await twofold(['app', 'create', '--help'], { dataDir });
  assert.match(help.stdout, /--redirect-uri URI \[--redirect-uri URI \.\.\.\]/);
  assert.match(help.stdout, /\[--require-2fa\] \[--require-phishing-resistant\]/);
  assert.equal(existsSync(dataDir), false);
});

test('site add protects a host of the organisation, site list shows it, site delete removes it, each audited', async (t) => {
  const dataDir = freshDataDir(t);
  await inDatabase(dataDir, async (db) => {
    await anOrganisation(db, 'Acme');
    await anOrganisation(db, 'Other');
  });
  const added = await twofold(['site', 'add', '--org', 'acme', '--host', 'Wiki.Example.com', '--require-2fa'], {
    dataDir,
  });
  assert.equal(added.code, 0, added.stderr);
  assert.deepEqual(Object.fromEntries(fieldsOf(added.stdout)), { host: ['wiki.example.com'], require_2fa: ['yes'] });
  const second = await twofold(['site', 'add', '--org', 'Acme', '--host', 'grafana.example.com:8443'], { dataDir });
  assert.equal(second.code, 0, second.stderr);

  const listed = await twofold(['site', 'list', '--org', 'Acme'], { dataDir });
  assert.equal(listed.code, 0, listed.stderr);
  assert.deepEqual(fieldsOf(listed.stdout).get('host'), ['grafana.example.com:8443', 'wiki.example.com']);
  assert.deepEqual(fieldsOf(listed.stdout).get('require_2fa'), ['no', 'yes']);
  assert.match(
    (await twofold(['site', 'list', '--org', 'Other'], { dataDir })).stdout,
    /Other has no protected sites\./,
  );

  // A host is registered once in the instance, whichever organisation asks.
  assertRefused(
    await twofold(['site', 'add', '--org', 'Other', '--host', 'wiki.example.com'], { dataDir }),
    'site add',
    'This host name is already protected by Twofold.',
  );
  // Another organisation's name does not reach it.
  assertRefused(
    await twofold(['site', 'delete', '--org', 'Other', '--host', 'wiki.example.com'], { dataDir }),
    'site delete',
    'Other has no protected site with the host name "wiki.example.com"',
  );
  const deleted = await twofold(['site', 'delete', '--org', 'Acme', '--host', 'WIKI.example.com'], { dataDir });
  assert.equal(deleted.code, 0, deleted.stderr);
  assert.match(deleted.stdout, /Deleted wiki\.example\.com from Acme/);
  assert.deepEqual(fieldsOf((await twofold(['site', 'list', '--org', 'Acme'], { dataDir })).stdout).get('host'), [
    'grafana.example.com:8443',
  ]);
  const stored = await inDatabase(dataDir, async (db) => ({
    sites: await db.selectFrom('sites').select(['host', 'require_2fa']).execute(),
    audit: await db.selectFrom('audit_events').select(['action', 'detail', 'user_agent']).orderBy('at').execute(),
  }));
  assert.deepEqual(stored.sites, [{ host: 'grafana.example.com:8443', require_2fa: 0 }]);
  assert.deepEqual(
    stored.audit.map((row) => [row.action, JSON.parse(row.detail).host, row.user_agent]),
    [
      ['site_added', 'wiki.example.com', 'twofold command'],
      ['site_added', 'grafana.example.com:8443', 'twofold command'],
      ['site_deleted', 'wiki.example.com', 'twofold command'],
    ],
  );
});

test('site add refuses a scheme, a path, a wildcard or a default port before touching the data directory', async (t) => {
  const dataDir = freshDataDir(t);
  const cases: [string, string][] = [
    ['https://wiki.example.com', 'without https:// or http://'],
    ['wiki.example.com/admin', 'without a path'],
    ['*.example.com', 'a wildcard such as *.example.com is not accepted'],
    ['wiki.example.com:443', 'Leave out port 80 and 443'],
    ['admin@wiki.example.com', 'must not contain a user name or password'],
    ['', 'Enter the host name of the site'],
  ];
  for (const [host, fragment] of cases) {
    assertRefused(await twofold(['site', 'add', '--org', 'Acme', '--host', host], { dataDir }), 'site add', fragment);
  }
  assertRefused(await twofold(['site', 'add', '--org', 'Acme'], { dataDir }), 'site add', 'missing --host HOST');
  assert.equal(existsSync(dataDir), false, 'a refused command created the data directory');
});

test('oidc rotate-keys adds a key of each algorithm, keeps the old ones published for a day, then deletes them', async (t) => {
  const dataDir = freshDataDir(t);
  const first = await twofold(['oidc', 'rotate-keys'], { dataDir });
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /^new key: rs256-[A-Za-z0-9_-]{12}$/m);
  assert.match(first.stdout, /^new key: es256-[A-Za-z0-9_-]{12}$/m);
  assert.match(first.stdout, /^retired: 2 \(published until /m);
  const keys = await inDatabase(dataDir, (db) => db.selectFrom('oidc_signing_keys').selectAll().execute());
  assert.deepEqual(keys.map((key) => key.alg).sort(), ['ES256', 'ES256', 'RS256', 'RS256']);
  assert.equal(keys.filter((key) => key.retired_at === null).length, 2);
  for (const key of keys) assert.match(key.sealed_private_jwk, /^v2\./, 'a signing key is stored unsealed');

  // Retired more than a day ago: the next rotation deletes them.
  await inDatabase(dataDir, (db) =>
    db
      .updateTable('oidc_signing_keys')
      .set({ retired_at: new Date(Date.now() - 25 * 3_600_000).toISOString() })
      .where('retired_at', 'is not', null)
      .execute(),
  );
  const later = await twofold(['oidc', 'rotate-keys'], { dataDir });
  assert.equal(later.code, 0, later.stderr);
  assert.match(later.stdout, /^deleted: 2 /m);
  const left = await inDatabase(dataDir, (db) => db.selectFrom('oidc_signing_keys').selectAll().execute());
  assert.equal(left.length, 4);
});

test('a client_id that starts with "-" is given as --client-id=VALUE, and the refusal of the other way says so', async (t) => {
  const dataDir = freshDataDir(t);
  await inDatabase(dataDir, (db) => anOrganisation(db, 'Acme'));
  const created = await twofold(
    ['app', 'create', '--org', 'Acme', '--name', 'CRM', '--redirect-uri', 'https://crm.example/cb'],
    { dataDir },
  );
  assert.equal(created.code, 0, created.stderr);
  // New ones never start with "-" (test/unit/applications.test.ts); one made before may.
  const clientId = `-${(fieldsOf(created.stdout).get('client_id')?.[0] ?? '').slice(1)}`;
  await inDatabase(dataDir, (db) => db.updateTable('applications').set({ id: clientId }).execute());
  assertRefused(
    await twofold(['app', 'rotate-secret', '--org', 'Acme', '--client-id', clientId], { dataDir }),
    'app rotate-secret',
    '--client-id needs a value; write one that starts with "-" as --client-id=VALUE',
  );
  const rotated = await twofold(['app', 'rotate-secret', '--org', 'Acme', `--client-id=${clientId}`], { dataDir });
  assert.equal(rotated.code, 0, rotated.stderr);
});
