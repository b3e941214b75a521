// "When a session has ended" is one rule (domain/session-end.ts), which the store also
// writes in SQL for the sessions page and the housekeeping. Here both readings are held
// together on random sessions around the cut-offs, boundaries included.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { hasSessionEnded, sessionCutOffsAt } from '../../src/domain/session-end.js';
import { deleteEndedSessions } from '../../src/store/sessions.js';
import { tenantFor } from '../../src/store/tenant.js';
import { buildWorld, makeOrganisation, makeUser } from '../helpers/app.js';

const IDLE_MINUTES = 30;
const MINUTE = 60_000;

test('the store and the access guard agree on which sessions have ended', async (t) => {
  const world = await buildWorld(t);
  const org = await makeOrganisation(world);
  const user = await makeUser(world, org);
  const tenant = tenantFor(world.db, org);
  const now = world.clock.now();
  const cutOffs = sessionCutOffsAt(now, IDLE_MINUTES);
  // Offsets in whole minutes around the idle cut-off and `now`, so that boundaries come up often.
  const session = fc.record({
    stage: fc.constantFrom('signed_in', 'code', 'setup'),
    lastSeen: fc.integer({ min: -IDLE_MINUTES - 3, max: 0 }),
    expires: fc.integer({ min: -3, max: 3 }),
  });
  let runs = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(session, { minLength: 1, maxLength: 8 }), async (sessions) => {
      runs += 1;
      await world.db.deleteFrom('sessions').execute();
      const rows = sessions.map((s, i) => ({
        id: `session-${i}`,
        organisation_id: org,
        user_id: user.id,
        stage: s.stage,
        created_at: new Date(now.getTime() - 60 * MINUTE).toISOString(),
        last_seen_at: new Date(now.getTime() + s.lastSeen * MINUTE).toISOString(),
        expires_at: new Date(now.getTime() + s.expires * MINUTE).toISOString(),
        code_failures: 0,
        ip: null,
        user_agent: null,
        verified_at: null,
      }));
      await world.db.insertInto('sessions').values(rows).execute();
      const goingOn = rows
        .filter(
          (row) =>
            !hasSessionEnded(
              { stage: row.stage, lastSeenAt: new Date(row.last_seen_at), expiresAt: new Date(row.expires_at) },
              cutOffs,
            ),
        )
        .map((row) => row.id);

      const listed = await tenant.sessions.signedInOf(user.id, cutOffs);
      const signedInGoingOn = rows.filter((row) => row.stage === 'signed_in' && goingOn.includes(row.id));
      assert.deepEqual(listed.map((s) => s.id).sort(), signedInGoingOn.map((row) => row.id).sort());

      const deleted = await deleteEndedSessions(world.db, cutOffs);
      const left = await world.db.selectFrom('sessions').select('id').execute();
      assert.deepEqual(left.map((row) => row.id).sort(), [...goingOn].sort());
      assert.equal(deleted, rows.length - goingOn.length);
    }),
    { numRuns: 60 },
  );
  t.diagnostic(`${runs} sets of sessions compared`);
});
