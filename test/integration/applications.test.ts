// The Applications page: super admins register the applications that sign their
// organisation's people in through Twofold, replace their secrets and delete them.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { buildWorld, makeOrganisation, makeUser, type TestWorld } from '../helpers/app.js';
import { textOf, type Page } from '../helpers/browser.js';
import { checkedValues, elementOn, flashOn, problemOn, rowWith, signedIn, tenantOf } from './support.js';

async function superAdminIn(world: TestWorld, role: 'admin' | 'super_admin' = 'super_admin') {
  const org = await makeOrganisation(world);
  const admin = await makeUser(world, org, { role });
  return { org, client: await signedIn(world, admin.email) };
}

/** The client_id and secret a credentials page shows. */
function credentialsOn(page: Page): { clientId: string; secret: string } {
  const codes = [...page.body.matchAll(/<dd class="secret link"><code>([^<]+)<\/code><\/dd>/g)].map((m) => m[1] ?? '');
  assert.equal(codes.length, 2, textOf(page.body));
  return { clientId: codes[0] ?? '', secret: codes[1] ?? '' };
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

test('a super admin registers an application, sees its secret once, and the list shows it without the secret', async (t) => {
  const world = await buildWorld(t);
  const { org, client } = await superAdminIn(world);
  const page = await client.get('/admin/applications');
  assert.equal(page.status, 200);
  assert.match(page.body, /<a href="\/admin\/applications" aria-current="page">Applications<\/a>/);
  assert.match(textOf(page.body), /No applications are registered yet\./);

  const created = await client.post('/admin/applications', {
    name: 'Wiki',
    redirectUris: 'https://wiki.example.com/oidc/callback\r\n\r\n  http://localhost:8080/cb  \r\n',
    postLogoutRedirectUris: 'https://wiki.example.com/',
    requireTwoFactor: 'yes',
  });
  assert.equal(created.status, 201, textOf(created.body));
  assert.match(textOf(created.body), /Wiki is registered/);
  assert.match(textOf(created.body), /The secret will not be shown again/);
  const { clientId, secret } = credentialsOn(created);

  const stored = await tenantOf(world, org).applications.find(clientId);
  assert.deepEqual(stored?.redirectUris, ['https://wiki.example.com/oidc/callback', 'http://localhost:8080/cb']);
  assert.deepEqual(stored?.postLogoutRedirectUris, ['https://wiki.example.com/']);
  assert.equal(stored?.requireTwoFactor, true);
  const row = await world.db.selectFrom('applications').selectAll().where('id', '=', clientId).executeTakeFirst();
  assert.equal(row?.secret_hash, sha256(secret));

  const list = await client.get('/admin/applications');
  assert.match(textOf(list.body), /Wiki/);
  assert.match(list.body, new RegExp(`<code>${clientId}</code>`));
  assert.match(textOf(list.body), /https:\/\/wiki\.example\.com\/oidc\/callback/);
  assert.ok(!list.body.includes(secret), 'the list never shows the secret');
  const audit = await client.get('/admin/audit?action=application_created');
  assert.match(textOf(audit.body), new RegExp(`application: Wiki.*client id: ${clientId}`));
});

test('what cannot be registered is explained beside its field, and what was typed is kept', async (t) => {
  const world = await buildWorld(t);
  const { org, client } = await superAdminIn(world);
  await client.get('/admin/applications');
  const refused = await client.post('/admin/applications', {
    name: ' ',
    redirectUris: 'https://ok.example/cb\nhttp://crm.example.com/cb',
    postLogoutRedirectUris: 'https://ok.example/#after',
  });
  assert.equal(refused.status, 400);
  const text = textOf(refused.body);
  assert.match(text, /Enter the name people know the application by\./);
  assert.match(
    text,
    /The address must start with https:\/\/; .* This is the address that was not accepted: http:\/\/crm\.example\.com\/cb/,
  );
  assert.match(
    text,
    /The address must not contain a # part\. This is the address that was not accepted: https:\/\/ok\.example\/#after/,
  );
  assert.match(
    refused.body,
    /<textarea[^>]*name="redirectUris"[^>]*>\s*https:\/\/ok\.example\/cb\nhttp:\/\/crm\.example\.com\/cb<\/textarea/,
  );
  const none = await client.post('/admin/applications', {
    name: 'CRM',
    redirectUris: '  \n ',
    postLogoutRedirectUris: '',
  });
  assert.equal(none.status, 400);
  assert.match(textOf(none.body), /Enter at least one redirect address/);
  assert.deepEqual(await tenantOf(world, org).applications.list(), []);
});

test('replacing the secret shows the new one and stops the old; deleting removes the application', async (t) => {
  const world = await buildWorld(t);
  const { org, client } = await superAdminIn(world);
  await client.get('/admin/applications');
  const { clientId, secret } = credentialsOn(
    await client.post('/admin/applications', {
      name: 'CRM',
      redirectUris: 'https://crm.example/cb',
      postLogoutRedirectUris: '',
    }),
  );

  const confirm = await client.get(`/admin/applications/${clientId}/rotate-secret`);
  assert.match(textOf(confirm.body), /The current secret stops working at once/);
  const rotated = await client.post(`/admin/applications/${clientId}/rotate-secret`, {});
  assert.equal(rotated.status, 200);
  assert.match(textOf(rotated.body), /CRM has a new secret\. The old one no longer works/);
  const fresh = credentialsOn(rotated);
  assert.equal(fresh.clientId, clientId);
  assert.notEqual(fresh.secret, secret);
  const row = await world.db
    .selectFrom('applications')
    .select('secret_hash')
    .where('id', '=', clientId)
    .executeTakeFirst();
  assert.equal(row?.secret_hash, sha256(fresh.secret));

  assert.match(textOf((await client.get(`/admin/applications/${clientId}/delete`)).body), /Nobody can sign in to it/);
  const deleted = await client.post(`/admin/applications/${clientId}/delete`, {});
  assert.equal(deleted.location, '/admin/applications');
  assert.equal(
    flashOn(await client.get('/admin/applications')),
    'CRM is deleted. Nobody signs in to it through Twofold any more.',
  );
  assert.equal(await tenantOf(world, org).applications.find(clientId), null);
  const again = await client.post(`/admin/applications/${clientId}/delete`, {});
  assert.equal(again.status, 404);
  assert.match(textOf(again.body), /There is no such application in your organisation\./);
});

test('another organisation’s application is not found, and admins do not manage applications', async (t) => {
  const world = await buildWorld(t);
  const mine = await superAdminIn(world);
  const theirs = await superAdminIn(world);
  await theirs.client.get('/admin/applications');
  const { clientId } = credentialsOn(
    await theirs.client.post('/admin/applications', {
      name: 'Their App',
      redirectUris: 'https://theirs.example/cb',
      postLogoutRedirectUris: '',
    }),
  );
  await mine.client.get('/admin/applications');
  for (const path of ['rotate-secret', 'delete']) {
    assert.equal((await mine.client.get(`/admin/applications/${clientId}/${path}`)).status, 404, path);
    assert.equal((await mine.client.post(`/admin/applications/${clientId}/${path}`, {})).status, 404, path);
  }
  assert.ok(!(await mine.client.get('/admin/applications')).body.includes('Their App'));
  assert.notEqual(await tenantOf(world, theirs.org).applications.find(clientId), null);

  const admin = await superAdminIn(world, 'admin');
  const page = await admin.client.get('/admin/applications');
  assert.equal(page.status, 403);
  assert.match(textOf(page.body), /Only super admins can open this page\./);
  assert.doesNotMatch((await admin.client.get('/account')).body, /href="\/admin\/applications"/);
});

test('a super admin protects a site behind a proxy, sees it listed, and deletes it after a confirmation', async (t) => {
  const world = await buildWorld(t);
  const { org, client } = await superAdminIn(world);
  const page = await client.get('/admin/applications');
  assert.match(textOf(page.body), /Protected sites .* No sites are protected yet\./);

  const added = await client.post('/admin/applications/sites', { host: ' Wiki.Example.com ', requireTwoFactor: 'yes' });
  assert.equal(added.status, 303, textOf(added.body));
  assert.equal(added.location, '/admin/applications#sites');
  const list = await client.get('/admin/applications');
  assert.equal(flashOn(list), 'wiki.example.com is protected by Twofold.');
  assert.deepEqual(rowWith(list, 'wiki.example.com')?.slice(0, 2), ['wiki.example.com', 'Required']);
  const [site] = await tenantOf(world, org).sites.list();
  assert.equal(site?.host, 'wiki.example.com');
  assert.equal(site?.requireTwoFactor, true);
  const audit = await client.get('/admin/audit?action=site_added');
  assert.match(textOf(audit.body), /Protected site added.*host: wiki\.example\.com/);

  const confirm = await client.get(`/admin/applications/sites/${site?.id ?? ''}/delete`);
  assert.equal(confirm.status, 200);
  assert.match(textOf(confirm.body), /Delete wiki\.example\.com ?\? The proxy in front of it then lets nobody in/);
  const deleted = await client.post(`/admin/applications/sites/${site?.id ?? ''}/delete`, {});
  assert.equal(deleted.location, '/admin/applications#sites');
  assert.equal(
    flashOn(await client.get('/admin/applications')),
    'wiki.example.com is deleted. The proxy in front of it now lets nobody in until it is registered again.',
  );
  assert.deepEqual(await tenantOf(world, org).sites.list(), []);
  assert.equal((await client.post(`/admin/applications/sites/${site?.id ?? ''}/delete`, {})).status, 404);
  assert.match(textOf((await client.get('/admin/audit?action=site_deleted')).body), /Protected site deleted/);
});

test('a host that is not one, or is taken by any organisation, is explained beside the field and kept as typed', async (t) => {
  const world = await buildWorld(t);
  const mine = await superAdminIn(world);
  const theirs = await superAdminIn(world);
  await theirs.client.get('/admin/applications');
  assert.equal((await theirs.client.post('/admin/applications/sites', { host: 'crm.example.com' })).status, 303);
  const theirName = (await tenantOf(world, theirs.org).organisation.get()).name;

  await mine.client.get('/admin/applications');
  const cases: [string, RegExp][] = [
    ['https://wiki.example.com/', /Enter the host name alone, without https:\/\/ or http:\/\//],
    ['wiki.example.com/admin', /Enter the host name alone, without a path/],
    ['*.example.com', /a wildcard such as \*\.example\.com is not accepted/],
    ['wiki.example.com:443', /Leave out port 80 and 443/],
    ['CRM.example.com', /This host name is already protected by Twofold\./],
  ];
  for (const [host, sentence] of cases) {
    const refused = await mine.client.post('/admin/applications/sites', { host, requireTwoFactor: 'yes' });
    assert.equal(refused.status, 400, host);
    assert.match(problemOn(refused), sentence, host);
    assert.equal(elementOn(refused, 'input', { name: 'host' }).value, host);
    assert.deepEqual(checkedValues(refused, 'requireTwoFactor'), ['yes']);
    // Nothing of the organisation that holds the host.
    assert.ok(!refused.body.includes(theirName), host);
  }
  assert.deepEqual(await tenantOf(world, mine.org).sites.list(), []);
});

test('another organisation’s site is not found, and its list shows only its own sites', async (t) => {
  const world = await buildWorld(t);
  const mine = await superAdminIn(world);
  const theirs = await superAdminIn(world);
  await theirs.client.get('/admin/applications');
  await theirs.client.post('/admin/applications/sites', { host: 'theirs.example.com' });
  const [site] = await tenantOf(world, theirs.org).sites.list();
  await mine.client.get('/admin/applications');
  assert.equal((await mine.client.get(`/admin/applications/sites/${site?.id ?? ''}/delete`)).status, 404);
  const refused = await mine.client.post(`/admin/applications/sites/${site?.id ?? ''}/delete`, {});
  assert.equal(refused.status, 404);
  assert.match(textOf(refused.body), /There is no such protected site in your organisation\./);
  assert.doesNotMatch((await mine.client.get('/admin/applications')).body, /theirs\.example\.com/);
  assert.equal((await tenantOf(world, theirs.org).sites.list()).length, 1);
});
