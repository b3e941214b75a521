import assert from 'node:assert/strict';
import { test } from 'node:test';
import { codeAt } from '../../src/domain/totp.js';
import { buildWorld, linkDevice, makeOrganisation, makeUser } from '../helpers/app.js';
import { Browser, textOf } from '../helpers/browser.js';

test('a user with a device signs in with password then code', async (t) => {
  const world = await buildWorld(t);
  const org = await makeOrganisation(world, 'Acme');
  const user = await makeUser(world, org, { email: 'ann@example.com', role: 'super_admin' });
  const secret = await linkDevice(world, org, user.id);
  const client = new Browser(world.app);
  const afterPassword = await client.signIn(user.email, user.password);
  assert.equal(afterPassword.status, 303, afterPassword.body);
  assert.equal(afterPassword.location, '/login/code');
  const blocked = await client.get('/account');
  assert.equal(blocked.location, '/login/code');
  await client.get('/login/code');
  const done = await client.post('/login/code', { code: codeAt(secret, world.clock.now()) });
  assert.equal(done.location, '/account', textOf(done.body));
  const home = await client.get('/account');
  assert.equal(home.status, 200);
  assert.match(textOf(home.body), /Welcome, ann/);
  for (const url of [
    '/2fa',
    '/admin/users',
    '/admin/2fa',
    `/admin/users/${user.id}`,
    '/account/password',
    '/admin/users/new',
  ]) {
    const page = await client.get(url);
    assert.equal(page.status, 200, `${url}: ${textOf(page.body).slice(0, 300)}`);
  }
});
