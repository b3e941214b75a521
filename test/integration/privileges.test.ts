// What an administrator can do to other people's accounts: nothing that removes, replaces
// or bypasses their second factor. First the takeover a review found, step by step; then
// every sequence of up to three admin actions on protected people.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { codeAt, matchingTimeStep } from '../../src/domain/totp.js';
import { buildWorld, linkDevice, makeOrganisation, makeUser, type TestWorld } from '../helpers/app.js';
import { Client, textOf, type Page } from '../helpers/client.js';
import { requireOfUser, signedIn, userIn } from './support.js';

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
  const visitor = new Client(world.app);
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
