// The throttle rows nothing needs any more are deleted; the ones a rule still reads stay.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { THROTTLE_MEMORY_MS } from '../../src/domain/throttle.js';
import { forgetOldThrottles } from '../../src/services/password-throttle.js';
import { buildWorld, makeOrganisation, makeUser, PASSWORD } from '../helpers/app.js';
import { Browser } from '../helpers/browser.js';

const HOUR = 60 * 60_000;

test('rows with no attempt within the throttle memory and no wait running are deleted, and only those', async (t) => {
  const world = await buildWorld(t);
  const now = world.clock.now().getTime();
  const at = (offset: number) => new Date(now + offset).toISOString();
  const rows = [
    {
      key: 'forgotten',
      last_failure_at: at(-THROTTLE_MEMORY_MS - HOUR),
      blocked_until: at(-THROTTLE_MEMORY_MS - HOUR),
    },
    { key: 'recent', last_failure_at: at(-HOUR), blocked_until: at(-HOUR) },
    { key: 'old but still waiting', last_failure_at: at(-THROTTLE_MEMORY_MS - HOUR), blocked_until: at(HOUR) },
  ].map((row) => ({ ...row, checking: 0, checking_at: null }));
  const inFlight = [
    {
      key: 'old but one in flight',
      last_failure_at: at(-THROTTLE_MEMORY_MS - HOUR),
      blocked_until: at(-THROTTLE_MEMORY_MS - HOUR),
      checking: 1,
      checking_at: at(-1000),
    },
    {
      key: 'old, one in flight cut off',
      last_failure_at: at(-THROTTLE_MEMORY_MS - HOUR),
      blocked_until: at(-THROTTLE_MEMORY_MS - HOUR),
      checking: 1,
      checking_at: at(-HOUR),
    },
  ];
  await world.db
    .insertInto('login_throttles')
    .values([...rows, ...inFlight].map((row) => ({ ...row, failures: 3 })))
    .execute();

  assert.equal(await forgetOldThrottles(world.deps), 2);
  const left = await world.db.selectFrom('login_throttles').select('key').orderBy('key').execute();
  assert.deepEqual(
    left.map((row) => row.key),
    ['old but one in flight', 'old but still waiting', 'recent'],
  );
});

test('the rows a sign-in leaves are deleted once a day has passed, and counting starts again as before', async (t) => {
  const world = await buildWorld(t);
  const org = await makeOrganisation(world);
  const ada = await makeUser(world, org);
  const signedIn = await new Browser(world.app).signIn(ada.email, PASSWORD);
  assert.equal(signedIn.location, '/account');
  const count = async () =>
    Number(
      (
        await world.db
          .selectFrom('login_throttles')
          .select((eb) => eb.fn.countAll().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );
  assert.equal(await count(), 3, 'account and address, account, address');
  assert.equal(await forgetOldThrottles(world.deps), 0, 'not before a day has passed');

  world.clock.advanceMinutes(THROTTLE_MEMORY_MS / 60_000 + 1);
  assert.equal(await forgetOldThrottles(world.deps), 3);
  assert.equal(await count(), 0);
  const again = await new Browser(world.app).signIn(ada.email, 'not the password at all');
  assert.equal(again.status, 401, 'a wrong password is refused, not throttled (429)');
  assert.equal(await count(), 3);
});
