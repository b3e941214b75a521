// What an administrator can do to other people's accounts: nothing that removes, replaces
// or bypasses their second factor. First the takeover a review found, step by step; then
// every sequence of up to three admin actions on protected people.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  PRIVILEGES,
  profileChangeActions,
  refusalOf,
  type AdminAction,
  type Attempt,
} from '../../src/domain/privileges.js';
import { codeAt, matchingTimeStep } from '../../src/domain/totp.js';
import type { Role, User } from '../../src/domain/users.js';
import { hashToken } from '../../src/store/sessions.js';
import { buildWorld, linkDevice, makeOrganisation, makeUser, type TestWorld } from '../helpers/app.js';
import { Browser, textOf, type Page } from '../helpers/browser.js';
import {
  devicesOf,
  elementsOn,
  minutesFromNow,
  organisationOf,
  requireEveryoneFrom,
  requireOfUser,
  SESSION_COOKIE,
  signedIn,
  tenantOf,
  userIn,
} from './support.js';

/**
 * What makes a person's second factor: their linked devices (each one's secret as sealed)
 * and whether, by when and how they must have one.
 */
async function secondFactorOf(world: TestWorld, organisationId: string, userId: string) {
  const devices = await world.db
    .selectFrom('devices')
    .select(['id', 'sealed_secret', 'confirmed_at'])
    .where('user_id', '=', userId)
    .orderBy('id')
    .execute();
  return { devices, twoFactor: (await userIn(world, organisationId, userId)).twoFactor };
}

/** A code from `own`'s authenticator that the victim's device would not also give now. */
function codeOfOwnAuthenticator(world: TestWorld, own: Uint8Array, victims: Uint8Array): string {
  for (;;) {
    const code = codeAt(own, world.clock.now());
    if (matchingTimeStep(victims, code, world.clock.now()) === null) return code;
    world.clock.advanceMinutes(1);
  }
}

function linkTokenOn(page: Page): string {
  const m = /\/set-password\/([A-Za-z0-9_-]+)/.exec(page.body);
  assert.ok(m?.[1], `no set-password link on the page: ${textOf(page.body).slice(0, 300)}`);
  return m[1];
}

test('an admin who deactivates, reactivates and sets the password of a protected person is still asked for their code', async (t) => {
  const world = await buildWorld(t);
  const org = await makeOrganisation(world);
  const attacker = await makeUser(world, org, { role: 'admin', name: 'Mallory' });
  const attackerSecret = await linkDevice(world, org, attacker.id, 'Mallory’s phone');
  const mallory = await signedIn(world, attacker.email, attackerSecret);
  const victim = await makeUser(world, org, { name: 'Victoria' });
  const victimSecret = await linkDevice(world, org, victim.id, 'Victoria’s phone');
  await requireOfUser(world, org, victim.id);
  const before = await secondFactorOf(world, org, victim.id);

  await mallory.get(`/admin/users/${victim.id}`);
  for (const status of ['inactive', 'active']) {
    const saved = await mallory.post(`/admin/users/${victim.id}`, {
      name: 'Victoria',
      email: victim.email,
      role: 'user',
      status,
    });
    assert.equal(saved.status, 303, textOf(saved.body));
  }
  const issued = await mallory.post(`/admin/users/${victim.id}/password-link`, {});
  assert.equal(issued.status, 200);
  const token = linkTokenOn(issued);
  const visitor = new Browser(world.app);
  await visitor.get(`/set-password/${token}`);
  const set = await visitor.post(`/set-password/${token}`, {
    password: 'mallory was here',
    confirmation: 'mallory was here',
  });
  assert.equal(set.location, '/login');

  // The password alone reaches the code step, never the setup screen.
  const afterPassword = await visitor.signIn(victim.email, 'mallory was here');
  assert.equal(afterPassword.location, '/login/code');
  assert.equal((await visitor.get('/setup')).location, '/login/code');
  await visitor.get('/login/code');
  const refused = await visitor.post('/login/code', {
    code: codeOfOwnAuthenticator(world, attackerSecret, victimSecret),
  });
  assert.equal(refused.status, 400);
  assert.match(textOf(refused.body), /That code is not right\./);
  assert.equal((await visitor.get('/account')).location, '/login/code');

  assert.deepEqual(await secondFactorOf(world, org, victim.id), before);
  // Victoria's own device still opens her account (with the password Mallory set).
  await signedIn(world, victim.email, victimSecret, 'mallory was here');
});

test('a person’s page offers an admin only what an admin may do to them, and a super admin everything', async (t) => {
  const world = await buildWorld(t);
  const org = await makeOrganisation(world);
  const admin = await makeUser(world, org, { role: 'admin' });
  const boss = await makeUser(world, org, { role: 'super_admin' });
  const person = await makeUser(world, org, { name: 'Pat' });
  // Two devices: the only one, when 2FA is required, has no Remove to offer anyone.
  await linkDevice(world, org, person.id);
  await linkDevice(world, org, person.id, 'Spare');
  await requireOfUser(world, org, person.id);
  await tenantOf(world, org).users.lockSecondFactor(person.id, minutesFromNow(world, 15));
  const targets = (page: Page) => [
    ...elementsOn(page, 'form').map((form) => form.action ?? ''),
    ...elementsOn(page, 'a').map((link) => link.href ?? ''),
  ];
  const onTheirSecondFactor = /^\/admin\/users\/[^/]+\/(unlock-2fa|2fa|reset-2fa|devices\/[^/]+\/remove)$/;

  const adminsView = await (await signedIn(world, admin.email)).get(`/admin/users/${person.id}`);
  assert.equal(adminsView.status, 200);
  assert.deepEqual(
    targets(adminsView).filter((target) => onTheirSecondFactor.test(target)),
    [],
    'an admin is offered an action on the second factor',
  );
  assert.ok(targets(adminsView).includes(`/admin/users/${person.id}/password-link`));
  assert.match(textOf(adminsView.body), /Second factor locked until .*Only a super admin can unlock it sooner\./);

  const bossView = await (await signedIn(world, boss.email)).get(`/admin/users/${person.id}`);
  const offered = targets(bossView).filter((target) => onTheirSecondFactor.test(target));
  const kinds = new Set(offered.map((target) => target.replace(/\/devices\/[^/]+\//, '/devices/:id/')));
  assert.deepEqual([...kinds].sort(), [
    `/admin/users/${person.id}/2fa`,
    `/admin/users/${person.id}/devices/:id/remove`,
    `/admin/users/${person.id}/reset-2fa`,
    `/admin/users/${person.id}/unlock-2fa`,
  ]);
});

// ---------------------------------------------------------------------------------------
// Every sequence of up to three attacker steps on a protected person. The attacker is an
// admin signed in through the real login, with their own authenticator; each step is a
// form post of the admin pages with their session and CSRF token, or what anyone holding
// a set-password link can do. Each sequence runs on a fresh victim of its kind, and each
// step's answer must be what the privileges table says. After every sequence the victim's
// second factor must be as it was; from every state not reached before, the attacker then
// tries to break in. A sequence whose start reached a state already seen is not extended:
// it has the same futures as the first sequence that reached it.

const ATTACKER_PASSWORD = 'mallory chose this one';
const LATER = '2026-12-31T09:00';

/** Who the attacker goes after: each has a linked authenticator. */
const VICTIM_KINDS = {
  /** A user of whom 2FA is required. */
  'protected user': { role: 'user', required: true },
  /** A fellow admin of whom 2FA is required. */
  'protected admin': { role: 'admin', required: true },
  /** A user who linked a device of their own accord. */
  'enrolled user': { role: 'user', required: false },
  'super admin': { role: 'super_admin', required: true },
} as const satisfies Record<string, { role: Role; required: boolean }>;
type VictimKind = keyof typeof VICTIM_KINDS;

interface Stage {
  world: TestWorld;
  org: string;
  attacker: { id: string; email: string; secret: Uint8Array; browser: Browser };
}

interface Victim {
  id: string;
  number: number;
  originalEmail: string;
  secret: Uint8Array;
  deviceId: string;
  /** Their second factor as it was before the first step. */
  initialSecondFactor: string;
  /** Set-password links the admin pages gave the attacker, newest last. */
  heldLinks: string[];
  /** The last password the attacker set through a link, if any. */
  passwordSet: string | null;
  /** Logins the attacker started as the victim and left at their next step. */
  pendingLogins: Browser[];
}

/**
 * What the privileges table says of a step: refused with a page (403), refused as a
 * problem with the form (400), or carried out.
 */
type Expected = 'forbidden' | 'form_problem' | 'done';

interface Step {
  name: string;
  /** The admin page's answer and what the table expects; both null for a step that is no admin action. */
  run(stage: Stage, victim: Victim): Promise<{ answer: Page | null; expected: Expected | null }>;
}

async function victimUser(stage: Stage, victim: Victim): Promise<User> {
  return userIn(stage.world, stage.org, victim.id);
}

function expectedOf(actor: User, attempt: Attempt[]): Expected {
  for (const one of attempt) {
    const refusal = refusalOf(actor, one);
    if (refusal === 'role' || refusal === 'person_above') return 'forbidden';
    if (refusal !== null) return 'form_problem';
  }
  return 'done';
}

/** A save of the victim's profile form with some fields changed, as the admin's page sends it. */
function profileStep(
  name: string,
  change: (victim: Victim, user: User) => Partial<Record<'email' | 'role' | 'status', string>>,
): Step {
  return {
    name,
    async run(stage, victim) {
      const user = await victimUser(stage, victim);
      const attacker = await userIn(stage.world, stage.org, stage.attacker.id);
      const form = {
        name: user.name,
        email: user.email,
        role: user.role,
        status: user.status,
        ...change(victim, user),
      };
      const role = form.role as Role;
      const status = form.status as User['status'];
      const attempts: Attempt[] = [
        { action: 'edit-profile', person: user },
        ...profileChangeActions(user, { role, status }).map((action) =>
          action === 'set-role' ? { action, person: user, gives: role } : { action, person: user },
        ),
      ];
      const answer = await stage.attacker.browser.post(`/admin/users/${victim.id}`, form);
      return { answer, expected: expectedOf(attacker, attempts) };
    },
  };
}

/** A post to one of the admin routes on the victim (or the organisation), as its page's form sends it. */
function adminPost(
  name: string,
  action: AdminAction,
  address: (victim: Victim) => string,
  form: Record<string, string> = {},
): Step {
  return {
    name,
    async run(stage, victim) {
      const user = await victimUser(stage, victim);
      const attacker = await userIn(stage.world, stage.org, stage.attacker.id);
      const attempt: Attempt = PRIVILEGES[action].on === 'person' ? { action, person: user } : { action };
      const answer = await stage.attacker.browser.post(address(victim), form);
      if (action === 'issue-password-link' && answer.status === 200) victim.heldLinks.push(linkTokenOn(answer));
      return { answer, expected: expectedOf(attacker, [attempt]) };
    },
  };
}

const STEPS: Step[] = [
  {
    name: 'open their page',
    async run(stage, victim) {
      const attacker = await userIn(stage.world, stage.org, stage.attacker.id);
      const answer = await stage.attacker.browser.get(`/admin/users/${victim.id}`);
      return {
        answer,
        expected: expectedOf(attacker, [{ action: 'view-user', person: await victimUser(stage, victim) }]),
      };
    },
  },
  profileStep('deactivate them', () => ({ status: 'inactive' })),
  profileStep('reactivate them', () => ({ status: 'active' })),
  profileStep('make them a user', () => ({ role: 'user' })),
  profileStep('make them an admin', () => ({ role: 'admin' })),
  profileStep('make them a super admin', () => ({ role: 'super_admin' })),
  profileStep('change their email to the attacker’s', (victim) => ({
    email: `taken-over-${victim.number}@attacker.test`,
  })),
  adminPost('issue a set-password link', 'issue-password-link', (v) => `/admin/users/${v.id}/password-link`),
  adminPost('unlock their second factor', 'unlock-2fa', (v) => `/admin/users/${v.id}/unlock-2fa`),
  adminPost('lift their 2FA requirement', 'set-2fa-requirement', (v) => `/admin/users/${v.id}/2fa`, { deadline: '' }),
  adminPost('give them a later deadline', 'set-2fa-requirement', (v) => `/admin/users/${v.id}/2fa`, {
    required: 'yes',
    deadline: LATER,
  }),
  adminPost('reset their 2FA', 'reset-2fa', (v) => `/admin/users/${v.id}/reset-2fa`),
  adminPost('remove their device', 'remove-device', (v) => `/admin/users/${v.id}/devices/${v.deviceId}/remove`),
  adminPost('cancel the organisation’s requirement', 'manage-policy', () => '/admin/2fa/cancel'),
  {
    name: 'create a super admin',
    async run(stage, victim) {
      const attacker = await userIn(stage.world, stage.org, stage.attacker.id);
      const answer = await stage.attacker.browser.post('/admin/users', {
        name: 'Accomplice',
        email: accompliceEmail(victim),
        role: 'super_admin',
      });
      return { answer, expected: expectedOf(attacker, [{ action: 'create-user', gives: 'super_admin' }]) };
    },
  },
  {
    name: 'make themselves a super admin',
    async run(stage) {
      const attacker = await userIn(stage.world, stage.org, stage.attacker.id);
      const answer = await stage.attacker.browser.post(`/admin/users/${attacker.id}`, {
        name: attacker.name,
        email: attacker.email,
        role: 'super_admin',
        status: 'active',
      });
      const attempts: Attempt[] = [
        { action: 'edit-profile', person: attacker },
        { action: 'set-role', person: attacker, gives: 'super_admin' },
      ];
      return { answer, expected: expectedOf(attacker, attempts) };
    },
  },
  {
    name: 'use the set-password link',
    async run(stage, victim) {
      const token = victim.heldLinks.at(-1);
      if (token !== undefined) await setPasswordThrough(stage, victim, token);
      return { answer: null, expected: null };
    },
  },
  {
    name: 'start signing in as them',
    async run(stage, victim) {
      if (victim.passwordSet === null) return { answer: null, expected: null };
      const browser = new Browser(stage.world.app);
      await browser.signIn((await victimUser(stage, victim)).email, victim.passwordSet);
      victim.pendingLogins.push(browser);
      return { answer: null, expected: null };
    },
  },
];

async function setPasswordThrough(stage: Stage, victim: Victim, token: string): Promise<void> {
  const visitor = new Browser(stage.world.app);
  await visitor.get(`/set-password/${token}`);
  const set = await visitor.post(`/set-password/${token}`, {
    password: ATTACKER_PASSWORD,
    confirmation: ATTACKER_PASSWORD,
  });
  if (set.location === '/login') victim.passwordSet = ATTACKER_PASSWORD;
}

let victimNumber = 0;

function accompliceEmail(victim: Victim): string {
  return `accomplice-${victim.number}@attacker.test`;
}

async function newVictim(stage: Stage, kind: VictimKind): Promise<Victim> {
  victimNumber += 1;
  const { role, required } = VICTIM_KINDS[kind];
  const made = await makeUser(stage.world, stage.org, { role, name: `Victim ${victimNumber}` });
  const secret = await linkDevice(stage.world, stage.org, made.id, 'Their phone');
  if (required) await requireOfUser(stage.world, stage.org, made.id);
  const [device] = await devicesOf(stage.world, stage.org, made.id);
  assert.ok(device);
  return {
    id: made.id,
    number: victimNumber,
    originalEmail: made.email,
    secret,
    deviceId: device.id,
    initialSecondFactor: JSON.stringify(await secondFactorOf(stage.world, stage.org, made.id)),
    heldLinks: [],
    passwordSet: null,
    pendingLogins: [],
  };
}

/** The stage of a pending login's session, or null once it is gone. */
async function stageOfLogin(stage: Stage, browser: Browser): Promise<string | null> {
  const token = browser.cookie(SESSION_COOKIE);
  if (token === undefined) return null;
  const row = await stage.world.db
    .selectFrom('sessions')
    .select('stage')
    .where('id', '=', hashToken(token))
    .executeTakeFirst();
  return row?.stage ?? null;
}

/**
 * Everything about the victim and the attacker's hold on them that decides what the
 * attacker can do next. Two sequences ending in the same signature have the same futures,
 * so only the first is carried on.
 */
async function signatureOf(stage: Stage, victim: Victim): Promise<string> {
  const user = await victimUser(stage, victim);
  const now = stage.world.clock.now().getTime();
  const link = victim.heldLinks.at(-1);
  const linkRow =
    link === undefined
      ? undefined
      : await stage.world.db
          .selectFrom('password_links')
          .select(['used_at', 'expires_at'])
          .where('token_hash', '=', hashToken(link))
          .executeTakeFirst();
  const attacker = await userIn(stage.world, stage.org, stage.attacker.id);
  const attempts = await tenantOf(stage.world, stage.org).users.codeAttemptsOf(victim.id);
  const accomplice = await stage.world.db
    .selectFrom('users')
    .select('role')
    .where('email', '=', accompliceEmail(victim))
    .executeTakeFirst();
  return JSON.stringify({
    status: user.status,
    role: user.role,
    emailChanged: user.email !== victim.originalEmail,
    attackerKnowsPassword: victim.passwordSet !== null,
    holdsUsableLink: linkRow !== undefined && linkRow.used_at === null && new Date(linkRow.expires_at).getTime() > now,
    secondFactorChanged:
      JSON.stringify(await secondFactorOf(stage.world, stage.org, victim.id)) !== victim.initialSecondFactor,
    wrongCodes: attempts.failures,
    locked: attempts.lockedUntil !== null,
    pendingLogins: (await Promise.all(victim.pendingLogins.map((b) => stageOfLogin(stage, b)))).sort(),
    attackerRole: attacker.role,
    accomplice: accomplice?.role ?? null,
    policy: (await organisationOf(stage.world, stage.org)).policy,
  });
}

/**
 * The attacker's best try once the steps are done: set a password through the newest link
 * they hold, sign in as the victim with the password they set, and give a code from their
 * own authenticator wherever one is asked, in the new login and in every one they left
 * pending. Returns what got them in, or null.
 */
async function breakIn(stage: Stage, victim: Victim): Promise<string | null> {
  const token = victim.heldLinks.at(-1);
  if (token !== undefined) await setPasswordThrough(stage, victim, token);
  const logins = [...victim.pendingLogins];
  if (victim.passwordSet !== null) {
    const browser = new Browser(stage.world.app);
    const afterPassword = await browser.signIn((await victimUser(stage, victim)).email, victim.passwordSet);
    assert.notEqual(afterPassword.status, 429, 'the attacker was throttled: the check would prove nothing');
    logins.push(browser);
  }
  for (const browser of logins) {
    const home = await browser.get('/account');
    if (home.status === 200) return 'signed in with the password alone';
    if (home.location === '/setup') return 'reached the setup screen, to link their own authenticator';
    if (home.location !== '/login/code') continue;
    await browser.get('/login/code');
    const code = codeOfOwnAuthenticator(stage.world, stage.attacker.secret, victim.secret);
    const answer = await browser.post('/login/code', { code });
    if (answer.location === '/account' || (await browser.get('/account')).status === 200)
      return 'signed in with a code from their own authenticator';
  }
  return null;
}

function outcomeOf(answer: Page): Expected | string {
  if (answer.status === 403) return 'forbidden';
  if (answer.status === 400) return 'form_problem';
  if (answer.status === 200 || answer.status === 201 || answer.status === 303) return 'done';
  return `status ${answer.status}`;
}

async function stageFor(world: TestWorld): Promise<Stage> {
  const org = await makeOrganisation(world);
  // A requirement for everyone, a week away: cancelling it is one of the attacker's tries.
  await requireEveryoneFrom(world, org, minutesFromNow(world, 7 * 24 * 60));
  const superAdmin = await makeUser(world, org, { role: 'super_admin', name: 'Sam' });
  await linkDevice(world, org, superAdmin.id);
  const made = await makeUser(world, org, { role: 'admin', name: 'Mallory' });
  const secret = await linkDevice(world, org, made.id, 'Mallory’s phone');
  const browser = await signedIn(world, made.email, secret);
  await browser.get('/admin/users');
  return { world, org, attacker: { id: made.id, email: made.email, secret, browser } };
}

test('no sequence of up to three admin actions gets an admin into a protected account or strips its second factor', async (t) => {
  const world = await buildWorld(t);
  const stage = await stageFor(world);
  const started = Date.now();
  let tried = 0;
  let breakIns = 0;
  const failures: string[] = [];
  for (const kind of Object.keys(VICTIM_KINDS) as VictimKind[]) {
    const seen = new Set([await signatureOf(stage, await newVictim(stage, kind))]);
    let frontier: Step[][] = [[]];
    for (let depth = 1; depth <= 3; depth += 1) {
      const next: Step[][] = [];
      for (const prefix of frontier) {
        for (const step of STEPS) {
          const sequence = [...prefix, step];
          const label = `${kind}: ${sequence.map((s) => s.name).join(', then ')}`;
          const victim = await newVictim(stage, kind);
          for (const each of sequence) {
            const { answer, expected } = await each.run(stage, victim);
            if (answer === null || expected === null) continue;
            const outcome = outcomeOf(answer);
            if (outcome !== expected)
              failures.push(`${label}: "${each.name}" was ${outcome}, the table says ${expected}`);
          }
          tried += 1;
          const attacker = await userIn(world, stage.org, stage.attacker.id);
          if (attacker.role !== 'admin') failures.push(`${label}: the attacker became ${attacker.role}`);
          // From a state reached before, the attacker can do nothing they could not do then.
          const signature = await signatureOf(stage, victim);
          if (!seen.has(signature)) {
            seen.add(signature);
            next.push(sequence);
            const way = await breakIn(stage, victim);
            if (way !== null) failures.push(`${label}: the attacker ${way}`);
            breakIns += 1;
          }
          const after = JSON.stringify(await secondFactorOf(world, stage.org, victim.id));
          if (after !== victim.initialSecondFactor) failures.push(`${label}: their second factor changed`);
        }
      }
      frontier = next;
    }
    t.diagnostic(`${kind}: ${seen.size} distinct states reached`);
  }
  const shown = failures.slice(0, 20).join('\n');
  assert.deepEqual(failures, [], `${failures.length} failures, the first ones:\n${shown}`);
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  t.diagnostic(
    `privileges: ${tried} sequences of up to 3 of ${STEPS.length} steps tried, breaking in from each of the ${breakIns} new states they reached, in ${seconds} s: 0 ways in`,
  );
});
