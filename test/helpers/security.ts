// What the security suites share: the app built as buildWorld builds it but with the
// choices those suites vary (https cookies, a database file that outlives the app), a
// browser that can come from any address and send anything, sessions seeded straight
// into the store, and snapshots of what an organisation holds.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { sealSecret } from '../../src/domain/secret-box.js';
import { newTotpSecret, timeStepAt } from '../../src/domain/totp.js';
import { migrateToLatest, openDatabase, type Db } from '../../src/store/db.js';
import { hashToken, type SessionStage } from '../../src/store/sessions.js';
import { tenantFor } from '../../src/store/tenant.js';
import { TEST_KEY, type TestClock, type TestWorld, testAppOn } from './app.js';
import { openTestDatabase } from './databases.js';

export interface WorldOptions {
  /** A SQLite file instead of memory, to read its bytes or to open it again after a restart. */
  path?: string;
  secureCookies?: boolean;
  /** Share a clock with an earlier world, as a restarted instance shares the wall clock. */
  clock?: TestClock;
}

export interface OpenWorld extends TestWorld {
  close(): Promise<void>;
}

/**
 * Like buildWorld (the run's database: SQLite in memory, or a PostgreSQL schema of its
 * own in the PostgreSQL pass), but closed by the caller; on a SQLite file when given.
 */
export async function openWorld(options: WorldOptions = {}): Promise<OpenWorld> {
  const database = options.path === undefined ? await openTestDatabase() : await openSqliteFile(options.path);
  const { db } = database;
  const { app, deps, clock } = await testAppOn(db, { clock: options.clock, secureCookies: options.secureCookies });
  let closed = false;
  return {
    app,
    db,
    deps,
    clock,
    async close() {
      if (closed) return;
      closed = true;
      await app.close();
      await database.close();
    },
  };
}

async function openSqliteFile(path: string): Promise<{ db: Db; close(): Promise<void> }> {
  const db = openDatabase({ kind: 'sqlite', path });
  await migrateToLatest(db);
  return { db, close: () => db.destroy() };
}

export async function buildSecurityWorld(t: TestContext, options: WorldOptions = {}): Promise<OpenWorld> {
  const world = await openWorld(options);
  t.after(() => world.close());
  return world;
}

/** A directory for database files, removed after the test. */
export function tempDirectory(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'twofold-security-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export interface Answer {
  status: number;
  location: string | undefined;
  body: string;
  headers: Record<string, string | string[] | number | undefined>;
  /** The Set-Cookie lines of this response. */
  setCookies: string[];
}

export interface SendOptions {
  headers?: Record<string, string>;
  /** A raw body (then `headers` should say its content type). */
  payload?: string | Buffer;
  query?: Record<string, string | string[]>;
}

/**
 * A browser over app.inject that keeps cookies and the last CSRF token, from a chosen
 * address and user agent. Unlike the helpers' Client it sends whatever it is given.
 */
export class Browser {
  readonly cookies = new Map<string, string>();
  csrf: string | null = null;

  constructor(
    private readonly app: FastifyInstance,
    public ip = '203.0.113.10',
    public userAgent = 'Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0',
  ) {}

  cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  async send(method: 'GET' | 'POST', url: string, options: SendOptions = {}): Promise<Answer> {
    const request: InjectOptions = {
      method,
      url,
      remoteAddress: this.ip,
      headers: { cookie: this.cookieHeader(), 'user-agent': this.userAgent, ...options.headers },
      ...(options.payload === undefined ? {} : { payload: options.payload }),
      ...(options.query === undefined ? {} : { query: options.query }),
    };
    const response = await this.app.inject(request);
    const setCookies = [response.headers['set-cookie'] ?? []].flat().map(String);
    for (const line of setCookies) {
      const [pair = ''] = line.split(';');
      const eq = pair.indexOf('=');
      if (eq < 0) continue;
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    const token = /name="_csrf" value="([^"]+)"/.exec(response.body);
    if (token?.[1]) this.csrf = token[1];
    return {
      status: response.statusCode,
      location: response.headers.location as string | undefined,
      body: response.body,
      headers: response.headers,
      setCookies,
    };
  }

  get(url: string): Promise<Answer> {
    return this.send('GET', url);
  }

  /** Posts a form with the last CSRF token seen (or the one given; null sends none). */
  post(url: string, form: Record<string, string>, options: { csrf?: string | null } = {}): Promise<Answer> {
    const token = options.csrf === undefined ? this.csrf : options.csrf;
    return this.send('POST', url, {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams(token === null ? form : { _csrf: token, ...form }).toString(),
    });
  }
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
    stage === 'signed_in' && ago !== null ? new Date(now.getTime() - ago * 60_000) : null,
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

const ORGANISATION_TABLES = ['users', 'devices', 'sessions', 'password_links', 'audit_events'] as const;

/** Everything stored for one organisation, as text to compare before and after. */
export async function snapshotOfOrganisation(world: TestWorld, organisationId: string): Promise<string> {
  const parts: unknown[] = [
    await world.db.selectFrom('organisations').selectAll().where('id', '=', organisationId).execute(),
  ];
  for (const table of ORGANISATION_TABLES) {
    const rows = world.db.selectFrom(table).selectAll().where('organisation_id', '=', organisationId);
    parts.push(await rows.orderBy(table === 'password_links' ? 'token_hash' : 'id').execute());
  }
  return JSON.stringify(parts, (_key, value: unknown) => (typeof value === 'bigint' ? String(value) : value));
}

/** Median of a list of numbers. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? NaN) : ((sorted[mid - 1] ?? NaN) + (sorted[mid] ?? NaN)) / 2;
}
