// The Applications page: super admins register the applications that sign their
// organisation's people in through Twofold, replace their secrets and delete them.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { buildWorld, makeOrganisation, makeUser, type TestWorld } from '../helpers/app.js';
import { textOf, type Page } from '../helpers/browser.js';
import { checkedValues, credentialsOn, elementOn, flashOn, problemOn, rowWith, signedIn, tenantOf } from './support.js';

async function superAdminIn(world: TestWorld, role: 'admin' | 'super_admin' = 'super_admin') {
  const org = await makeOrganisation(world);
  const admin = await makeUser(world, org, { role });
  return { org, client: await signedIn(world, admin.email) };
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

/** Registers an application through the page and returns its credentials. */
async function registered(
  client: Awaited<ReturnType<typeof superAdminIn>>['client'],
  form: Record<string, string>,
): Promise<{ clientId: string; secret: string }> {
  await client.get('/admin/applications');
  const created = await client.post('/admin/applications', { postLogoutRedirectUris: '', ...form });
  assert.equal(created.status, 201, textOf(created.body));
  return credentialsOn(created);
}

/** The textarea called `name`, as a browser reads its content. */
function textareaOn(page: Page, name: string): string {
  const m = new RegExp(`<textarea[^>]*name="${name}"[^>]*>\\n?([\\s\\S]*?)</textarea`).exec(page.body);
  assert.ok(m, `no textarea ${name}`);
  return (m[1] ?? '').replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>');
}

async function auditDetailsOf(world: TestWorld, org: string, action: 'application_changed') {
  const { events } = await tenantOf(world, org).audit.list({ action, email: '', from: null, until: null }, 1);
  return events.map((event) => event.detail);
}

test('the register form offers RS256, ticked, or ES256 for ID tokens, and registers the one chosen', async (t) => {
  const world = await buildWorld(t);
  const { org, client } = await superAdminIn(world);
  const page = await client.get('/admin/applications');
  assert.deepEqual(checkedValues(page, 'idTokenSigningAlg'), ['RS256']);
  assert.match(
    textOf(page.body),
    /ID token signature How Twofold signs the ID tokens it gives the application\. Keep RS256 unless the application asks for ES256\. RS256, what every OpenID Connect client supports ES256/,
  );
  const { clientId } = await registered(client, {
    name: 'Ledger',
    redirectUris: 'https://ledger.example/cb',
    idTokenSigningAlg: 'ES256',
  });
  assert.equal((await tenantOf(world, org).applications.find(clientId))?.idTokenSigningAlg, 'ES256');
  assert.deepEqual(rowWith(await client.get('/admin/applications'), 'Ledger')?.[0]?.endsWith('ID tokens: ES256'), true);

  const forged = await client.post('/admin/applications', {
    name: 'Forged',
    redirectUris: 'https://forged.example/cb',
    postLogoutRedirectUris: '',
    idTokenSigningAlg: 'none',
  });
  assert.equal(forged.status, 400);
  assert.match(problemOn(forged), /Choose how its ID tokens are signed: RS256 or ES256\./);
  assert.equal((await tenantOf(world, org).applications.list()).length, 1);
});

test('a super admin changes an application: the form shows what it has, the change is saved and audited, the client_id and secret stay', async (t) => {
  const world = await buildWorld(t);
  const { org, client } = await superAdminIn(world);
  const { clientId, secret } = await registered(client, {
    name: 'Wiki',
    redirectUris: 'https://wiki.example.com/oidc/callback\nhttp://localhost:8080/cb',
    postLogoutRedirectUris: 'https://wiki.example.com/',
  });
  const list = await client.get('/admin/applications');
  assert.match(list.body, new RegExp(`<a href="/admin/applications/${clientId}/edit">Change</a>`));

  const form = await client.get(`/admin/applications/${clientId}/edit`);
  assert.equal(form.status, 200);
  assert.match(textOf(form.body), /Change Wiki/);
  assert.ok(form.body.includes(`<code>${clientId}</code>`), 'the client_id is shown');
  assert.ok(!form.body.includes(secret), 'the secret is never shown again');
  assert.equal(elementOn(form, 'input', { name: 'name' }).value, 'Wiki');
  assert.equal(textareaOn(form, 'redirectUris'), 'https://wiki.example.com/oidc/callback\nhttp://localhost:8080/cb');
  assert.equal(textareaOn(form, 'postLogoutRedirectUris'), 'https://wiki.example.com/');
  assert.deepEqual(checkedValues(form, 'requireTwoFactor'), []);
  assert.deepEqual(checkedValues(form, 'idTokenSigningAlg'), ['RS256']);
  assert.equal(
    elementOn(form, 'form', { method: 'post', class: 'card' }).action,
    `/admin/applications/${clientId}/edit`,
  );

  const saved = await client.post(`/admin/applications/${clientId}/edit`, {
    name: ' Team Wiki ',
    redirectUris: 'https://wiki.example.com/oidc/callback\r\nhttps://wiki.example.com/oidc/callback\r\n',
    postLogoutRedirectUris: 'https://wiki.example.com/',
    requireTwoFactor: 'yes',
    idTokenSigningAlg: 'ES256',
  });
  assert.equal(saved.status, 303, textOf(saved.body));
  assert.equal(saved.location, '/admin/applications');
  assert.equal(
    flashOn(await client.get('/admin/applications')),
    'The changes to Team Wiki are saved. They apply from the next sign-in to it.',
  );
  const stored = await tenantOf(world, org).applications.find(clientId);
  assert.equal(stored?.name, 'Team Wiki');
  assert.deepEqual(stored?.redirectUris, ['https://wiki.example.com/oidc/callback']);
  assert.deepEqual(stored?.postLogoutRedirectUris, ['https://wiki.example.com/']);
  assert.equal(stored?.requireTwoFactor, true);
  assert.equal(stored?.idTokenSigningAlg, 'ES256');
  const row = await world.db.selectFrom('applications').selectAll().where('id', '=', clientId).executeTakeFirst();
  assert.equal(row?.secret_hash, sha256(secret), 'the secret stays');

  assert.deepEqual(await auditDetailsOf(world, org, 'application_changed'), [
    {
      application: 'Wiki',
      client_id: clientId,
      changed: 'name, redirect_uris, require_2fa, id_token_signing_alg',
      name: 'Team Wiki',
      redirect_uris: 'https://wiki.example.com/oidc/callback',
      require_2fa: true,
      id_token_signing_alg: 'ES256',
    },
  ]);
  const audit = await client.get('/admin/audit?action=application_changed');
  assert.match(
    textOf(audit.body),
    new RegExp(
      `Application changed .*application: Wiki client id: ${clientId} changed: name, redirect_uris, require_2fa, id_token_signing_alg name: Team Wiki redirect uris: https://wiki\\.example\\.com/oidc/callback require 2fa: yes id token signing alg: ES256`,
    ),
  );

  // Removing every address after signing out is a change too; the list of them reads "none".
  const cleared = await client.post(`/admin/applications/${clientId}/edit`, {
    name: 'Team Wiki',
    redirectUris: 'https://wiki.example.com/oidc/callback',
    postLogoutRedirectUris: '',
    requireTwoFactor: 'yes',
    idTokenSigningAlg: 'ES256',
  });
  assert.equal(cleared.status, 303, textOf(cleared.body));
  assert.deepEqual((await tenantOf(world, org).applications.find(clientId))?.postLogoutRedirectUris, []);
  assert.deepEqual((await auditDetailsOf(world, org, 'application_changed'))[0], {
    application: 'Team Wiki',
    client_id: clientId,
    changed: 'post_logout_redirect_uris',
    post_logout_redirect_uris: null,
  });
});

test('saving an application unchanged says so and records nothing', async (t) => {
  const world = await buildWorld(t);
  const { org, client } = await superAdminIn(world);
  const { clientId } = await registered(client, {
    name: 'CRM',
    redirectUris: 'https://crm.example/cb',
    requireTwoFactor: 'yes',
    idTokenSigningAlg: 'ES256',
  });
  const before = await world.db.selectFrom('applications').selectAll().where('id', '=', clientId).execute();
  world.clock.advanceMinutes(5);
  await client.get(`/admin/applications/${clientId}/edit`);
  // As the form sends it, and without a signature chosen (which leaves it as it is).
  const forms: Record<string, string>[] = [
    {
      name: 'CRM',
      redirectUris: 'https://crm.example/cb\r\n',
      postLogoutRedirectUris: '',
      requireTwoFactor: 'yes',
      idTokenSigningAlg: 'ES256',
    },
    { name: ' CRM', redirectUris: 'https://crm.example/cb', postLogoutRedirectUris: '\r\n', requireTwoFactor: 'yes' },
  ];
  for (const form of forms) {
    const unchanged = await client.post(`/admin/applications/${clientId}/edit`, form);
    assert.equal(unchanged.status, 303, textOf(unchanged.body));
    assert.equal(flashOn(await client.get('/admin/applications')), 'Nothing changed: CRM already had these settings.');
  }
  assert.deepEqual(await world.db.selectFrom('applications').selectAll().where('id', '=', clientId).execute(), before);
  assert.deepEqual(await auditDetailsOf(world, org, 'application_changed'), []);
});

test('a change that cannot be saved is explained beside its field, keeps what was typed, and changes nothing', async (t) => {
  const world = await buildWorld(t);
  const { org, client } = await superAdminIn(world);
  const { clientId } = await registered(client, { name: 'Wiki', redirectUris: 'https://wiki.example.com/cb' });
  const before = await tenantOf(world, org).applications.find(clientId);
  await client.get(`/admin/applications/${clientId}/edit`);

  const refused = await client.post(`/admin/applications/${clientId}/edit`, {
    name: 'n'.repeat(101),
    redirectUris: 'https://wiki.example.com/cb\nhttps://wiki.example.com/a\tb',
    postLogoutRedirectUris: 'http://wiki.example.com/',
    requireTwoFactor: 'yes',
    idTokenSigningAlg: 'HS256',
  });
  assert.equal(refused.status, 400);
  const text = problemOn(refused);
  assert.match(text, /The name must have at most 100 characters\./);
  assert.match(text, /The address must not contain tabs, line breaks or other control characters\./);
  assert.match(text, /The address must start with https:\/\/; .* http:\/\/wiki\.example\.com\//);
  assert.match(text, /Choose how its ID tokens are signed: RS256 or ES256\./);
  assert.match(textOf(refused.body), /Change Wiki/, 'the page keeps the name it has');
  assert.equal(elementOn(refused, 'input', { name: 'name' }).value, 'n'.repeat(101));
  assert.equal(textareaOn(refused, 'redirectUris'), 'https://wiki.example.com/cb\nhttps://wiki.example.com/a\tb');
  assert.equal(textareaOn(refused, 'postLogoutRedirectUris'), 'http://wiki.example.com/');
  assert.deepEqual(checkedValues(refused, 'requireTwoFactor'), ['yes']);
  assert.deepEqual(checkedValues(refused, 'idTokenSigningAlg'), []);

  const empty = await client.post(`/admin/applications/${clientId}/edit`, {
    name: ' ',
    redirectUris: ' \n ',
    postLogoutRedirectUris: '',
  });
  assert.equal(empty.status, 400);
  assert.match(
    problemOn(empty),
    /Enter the name people know the application by\..*Enter at least one redirect address/,
  );
  assert.deepEqual(checkedValues(empty, 'idTokenSigningAlg'), ['RS256'], 'the signature it has');

  // Beyond what any form sends, and bytes no form holds: a plain refusal, never a server error.
  const answers = [
    await client.post(`/admin/applications/${clientId}/edit`, {
      name: 'x'.repeat(301),
      redirectUris: 'https://wiki.example.com/cb',
      postLogoutRedirectUris: '',
    }),
    await client.post(`/admin/applications/${clientId}/edit`, {
      name: 'Wiki\u0000',
      redirectUris: 'https://wiki.example.com/cb',
      postLogoutRedirectUris: '',
    }),
    await client.post(`/admin/applications/${clientId}/edit`, { name: 'Wiki' }),
  ];
  assert.deepEqual(
    answers.map((answer) => answer.status),
    [400, 400, 400],
  );
  assert.deepEqual(await tenantOf(world, org).applications.find(clientId), before);
  assert.deepEqual(await auditDetailsOf(world, org, 'application_changed'), []);
});

test('another organisation’s application, or one that does not exist, cannot be changed: not found', async (t) => {
  const world = await buildWorld(t);
  const mine = await superAdminIn(world);
  const theirs = await superAdminIn(world);
  const { clientId } = await registered(theirs.client, {
    name: 'Their App',
    redirectUris: 'https://theirs.example/cb',
  });
  const before = await tenantOf(world, theirs.org).applications.find(clientId);
  await mine.client.get('/admin/applications');
  for (const id of [clientId, 'no-such-application']) {
    const form = await mine.client.get(`/admin/applications/${id}/edit`);
    assert.equal(form.status, 404, id);
    assert.match(textOf(form.body), /There is no such application in your organisation\./);
    assert.doesNotMatch(form.body, /Their App/);
    const refused = await mine.client.post(`/admin/applications/${id}/edit`, {
      name: 'Mine Now',
      redirectUris: 'https://mine.example/cb',
      postLogoutRedirectUris: '',
    });
    assert.equal(refused.status, 404, id);
    assert.match(textOf(refused.body), /There is no such application in your organisation\./);
  }
  assert.deepEqual(await tenantOf(world, theirs.org).applications.find(clientId), before);
  assert.deepEqual(await auditDetailsOf(world, theirs.org, 'application_changed'), []);
  assert.deepEqual(await auditDetailsOf(world, mine.org, 'application_changed'), []);
});
