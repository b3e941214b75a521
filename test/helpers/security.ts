// What the security suites share: browsers from an address on the internet, sessions
// seeded straight into the store, and snapshots of what an organisation holds. Their
// worlds are built as every test's (buildWorld), on a SQLite file when they need one.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { sealSecret } from '../../src/domain/secret-box.js';
import { newTotpSecret, timeStepAt } from '../../src/domain/totp.js';
import { hashToken, NOT_VERIFIED, type SessionStage } from '../../src/store/sessions.js';
import { tenantFor } from '../../src/store/tenant.js';
import { TEST_KEY, type TestWorld } from './app.js';
import type { BrowserOptions } from './browser.js';

/** A browser somewhere on the internet (a documentation address unless given), as a common desktop browser. */
export function fromAddress(ip = '203.0.113.10'): BrowserOptions {
  return { ip, userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0' };
}

/** A directory for database files, removed after the test. */
export function tempDirectory(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'twofold-security-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A session put straight into the store, as the login would start it; returns the cookie token. */
export function seedSession(
  world: TestWorld,
  organisationId: string,
  userId: string,
  stage: SessionStage,
  options: { verifiedMinutesAgo?: number | null; ip?: string } = {},
): Promise<string> {
  const now = world.clock.now();
  const minutes = stage === 'signed_in' ? world.deps.sessionLimits.absoluteHours * 60 : 10;
  const ago = options.verifiedMinutesAgo === undefined ? 0 : options.verifiedMinutesAgo;
  return tenantFor(world.db, organisationId).sessions.create(
    userId,
    stage,
    now,
    new Date(now.getTime() + minutes * 60_000),
    { ip: options.ip ?? '203.0.113.10', userAgent: 'seeded' },
    stage === 'signed_in' && ago !== null
      ? { verifiedAt: new Date(now.getTime() - ago * 60_000), secondFactorAt: null, secondFactorMethod: null }
      : NOT_VERIFIED,
  );
}

/** The stored id of the session behind a cookie token (what the sessions page shows in its forms). */
export function sessionIdOf(token: string): string {
  return hashToken(token);
}

/** A device named but not yet confirmed, with its secret, as /2fa/devices leaves it. */
export async function addUnconfirmedDevice(
  world: TestWorld,
  organisationId: string,
  userId: string,
  name = 'New phone',
): Promise<{ id: string; secret: Uint8Array }> {
  const id = randomUUID();
  const secret = newTotpSecret();
  await tenantFor(world.db, organisationId).devices.insertUnconfirmed({
    id,
    userId,
    name,
    sealedSecret: sealSecret(TEST_KEY, secret, id),
    now: world.clock.now(),
  });
  return { id, secret };
}

/** A confirmed device, as if linked ten minutes ago (as linkDevice), with its id. */
export async function addConfirmedDevice(
  world: TestWorld,
  organisationId: string,
  userId: string,
  name = 'Phone',
): Promise<{ id: string; secret: Uint8Array }> {
  const device = await addUnconfirmedDevice(world, organisationId, userId, name);
  const earlier = new Date(world.clock.now().getTime() - 10 * 60_000);
  await tenantFor(world.db, organisationId).devices.acceptTimeStep(
    userId,
    device.id,
    timeStepAt(earlier),
    earlier,
    'enrolment',
  );
  return device;
}

const ORGANISATION_TABLES = [
  'users',
  'mail_outbox',
  'devices',
  'sessions',
  'password_links',
  'audit_events',
  'applications',
  'sites',
] as const;

/** Everything stored for one organisation, as text to compare before and after. */
export async function snapshotOfOrganisation(world: TestWorld, organisationId: string): Promise<string> {
  const parts: unknown[] = [
    await world.db.selectFrom('organisations').selectAll().where('id', '=', organisationId).execute(),
  ];
  for (const table of ORGANISATION_TABLES) {
    const rows = world.db.selectFrom(table).selectAll().where('organisation_id', '=', organisationId);
    const found = await rows.orderBy(table === 'password_links' ? 'token_hash' : 'id').execute();
    // A refused admin action writes one thing, the audit row that records the refusal.
    parts.push(table === 'audit_events' ? found.filter((row) => row.action !== 'action_refused') : found);
  }
  return JSON.stringify(parts, (_key, value: unknown) => (typeof value === 'bigint' ? String(value) : value));
}

/** Median of a list of numbers. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? NaN) : ((sorted[mid - 1] ?? NaN) + (sorted[mid] ?? NaN)) / 2;
}
