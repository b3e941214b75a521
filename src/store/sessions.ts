// Sessions. The cookie carries a random token; the table keeps only its SHA-256, so a
// copy of the database opens no session.
import { createHash, randomBytes } from 'node:crypto';
import type { ExpressionBuilder } from 'kysely';
import type { ClientInfo } from '../domain/audit.js';
import { isSecondFactorMethod, type SecondFactorMethod } from '../domain/devices.js';
import type { SessionCutOffs } from '../domain/session-end.js';
import { compiledOnce } from './compiled.js';
import type { Executor } from './db.js';
import {
  accountFromRow,
  confirmedDevicesOfUser,
  confirmedKeysOfUser,
  ORGANISATION_COLUMNS,
  usersWithOrganisation,
  type Account,
} from './logins.js';
import { dateOrNull, iso } from './rows.js';
import { destroyAllOfAccount, destroyOfTwofoldSessions } from './oidc.js';
import type { Database, SessionRow } from './schema.js';

/** code: password given, code awaited. setup: password given, must link a device. */
export type SessionStage = 'code' | 'setup' | 'signed_in';

export interface Session {
  id: string;
  organisationId: string;
  userId: string;
  stage: SessionStage;
  createdAt: Date;
  lastSeenAt: Date;
  expiresAt: Date;
  codeFailures: number;
  client: ClientInfo;
  /** When a password and (for enrolled users) a code were last given in this session. */
  verifiedAt: Date | null;
  /** When a second factor was last given in this session (a code, or a device linked). */
  secondFactorAt: Date | null;
  /** How it was given; null without one. */
  secondFactorMethod: SecondFactorMethod | null;
}

/** When the person last proved who they are in a session: the password, and a second factor if one was given. */
export interface Verification {
  verifiedAt: Date | null;
  secondFactorAt: Date | null;
  secondFactorMethod: SecondFactorMethod | null;
}

export const NOT_VERIFIED: Verification = { verifiedAt: null, secondFactorAt: null, secondFactorMethod: null };

export function newSessionToken(): string {
  return randomBytes(32).toString('base64url');
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

function isStage(value: string): value is SessionStage {
  return value === 'code' || value === 'setup' || value === 'signed_in';
}

/** Instance-wide: a request's cookie is all there is before the organisation is known. */
function sessionFromRow(row: SessionRow): Session | null {
  if (!isStage(row.stage)) return null;
  return {
    id: row.id,
    organisationId: row.organisation_id,
    userId: row.user_id,
    stage: row.stage,
    createdAt: new Date(row.created_at),
    lastSeenAt: new Date(row.last_seen_at),
    expiresAt: new Date(row.expires_at),
    codeFailures: row.code_failures,
    client: { ip: row.ip ?? '', userAgent: row.user_agent ?? '' },
    verifiedAt: dateOrNull(row.verified_at),
    secondFactorAt: dateOrNull(row.second_factor_at),
    secondFactorMethod: isSecondFactorMethod(row.second_factor_method) ? row.second_factor_method : null,
  };
}

const sessionWithAccount = compiledOnce(['sessionId'], (db, { sessionId }) =>
  usersWithOrganisation(db)
    .innerJoin('sessions', (join) =>
      join.onRef('sessions.user_id', '=', 'users.id').onRef('sessions.organisation_id', '=', 'users.organisation_id'),
    )
    .selectAll('users')
    .select(ORGANISATION_COLUMNS)
    .select(confirmedDevicesOfUser)
    .select(confirmedKeysOfUser)
    .select([
      'sessions.id as session_id',
      'sessions.stage as session_stage',
      'sessions.created_at as session_created_at',
      'sessions.last_seen_at as session_last_seen_at',
      'sessions.expires_at as session_expires_at',
      'sessions.code_failures as session_code_failures',
      'sessions.ip as session_ip',
      'sessions.user_agent as session_user_agent',
      'sessions.verified_at as session_verified_at',
      'sessions.second_factor_at as session_second_factor_at',
      'sessions.second_factor_method as session_second_factor_method',
    ])
    .where('sessions.id', '=', sessionId),
);

/**
 * The session behind a cookie with its user, organisation and confirmed-device count: what
 * every request's guard needs, in one query, built once.
 */
export async function findSessionWithAccount(
  db: Executor,
  token: string,
): Promise<(Account & { session: Session; confirmedKeys: number }) | null> {
  const [row] = (await sessionWithAccount(db, { sessionId: hashToken(token) })).rows;
  if (row === undefined) return null;
  const session = sessionFromRow({
    id: row.session_id,
    organisation_id: row.organisation_id,
    user_id: row.id,
    stage: row.session_stage,
    created_at: row.session_created_at,
    last_seen_at: row.session_last_seen_at,
    expires_at: row.session_expires_at,
    code_failures: row.session_code_failures,
    ip: row.session_ip,
    user_agent: row.session_user_agent,
    verified_at: row.session_verified_at,
    second_factor_at: row.session_second_factor_at,
    second_factor_method: row.session_second_factor_method,
  });
  return session === null ? null : { ...accountFromRow(row), session, confirmedKeys: Number(row.confirmed_keys ?? 0) };
}

/** A session by its stored id, in any organisation. */
export async function findSessionById(db: Executor, id: string): Promise<Session | null> {
  const row = await db.selectFrom('sessions').selectAll().where('id', '=', id).executeTakeFirst();
  return row === undefined ? null : sessionFromRow(row);
}

export async function deleteSessionById(db: Executor, id: string): Promise<void> {
  await db.deleteFrom('sessions').where('id', '=', id).execute();
}

/** The columns of a session that starts now under `token`, whether inserted or renamed (the statements also clear its code failures). */
function freshSession(
  token: string,
  stage: SessionStage,
  now: Date,
  expiresAt: Date,
  client: ClientInfo,
  { verifiedAt, secondFactorAt, secondFactorMethod }: Verification,
) {
  return {
    id: hashToken(token),
    stage,
    created_at: iso(now),
    last_seen_at: iso(now),
    expires_at: iso(expiresAt),
    ip: client.ip,
    user_agent: client.userAgent.slice(0, 300),
    verified_at: verifiedAt === null ? null : iso(verifiedAt),
    second_factor_at: secondFactorAt === null ? null : iso(secondFactorAt),
    second_factor_method: secondFactorAt === null ? null : secondFactorMethod,
  };
}

const SESSION_COLUMNS = [
  'id',
  'stage',
  'created_at',
  'last_seen_at',
  'expires_at',
  'ip',
  'user_agent',
  'verified_at',
  'second_factor_at',
  'second_factor_method',
] as const;

/** A session started: at every password given. */
const insertSession = compiledOnce(['organisation_id', 'user_id', ...SESSION_COLUMNS], (db, values) =>
  db.insertInto('sessions').values({ ...values, code_failures: 0 }),
);

/** A session started anew under another id: at every second factor given. */
const renameSession = compiledOnce(
  ['organisationId', 'sessionId', ...SESSION_COLUMNS],
  (db, { organisationId, sessionId, ...columns }) =>
    db
      .updateTable('sessions')
      .set({ ...columns, code_failures: 0 })
      .where('organisation_id', '=', organisationId)
      .where('id', '=', sessionId),
);

export function sessionsRepository(db: Executor, organisationId: string) {
  return {
    /** Returns the token for the cookie. */
    async create(
      userId: string,
      stage: SessionStage,
      now: Date,
      expiresAt: Date,
      client: ClientInfo,
      verification: Verification,
    ): Promise<string> {
      const token = newSessionToken();
      await insertSession(db, {
        organisation_id: organisationId,
        user_id: userId,
        ...freshSession(token, stage, now, expiresAt, client, verification),
      });
      return token;
    },

    /**
     * Turns a pending login into a signed-in session under a new id, as if ended and started
     * anew: the old cookie stops working. Returns the new token, or null when the session
     * had already ended. Only a second factor completes a pending login.
     */
    async signIn(
      sessionId: string,
      now: Date,
      expiresAt: Date,
      client: ClientInfo,
      method: SecondFactorMethod,
    ): Promise<string | null> {
      const token = newSessionToken();
      const verification = { verifiedAt: now, secondFactorAt: now, secondFactorMethod: method };
      const result = await renameSession(db, {
        organisationId,
        sessionId,
        ...freshSession(token, 'signed_in', now, expiresAt, client, verification),
      });
      return result.numAffectedRows === 1n ? token : null;
    },

    /** The password given again, and the second factor given as `method` (null: none). */
    async markVerified(sessionId: string, now: Date, method: SecondFactorMethod | null): Promise<void> {
      await db
        .updateTable('sessions')
        .set(
          method === null
            ? { verified_at: iso(now) }
            : { verified_at: iso(now), second_factor_at: iso(now), second_factor_method: method },
        )
        .where('organisation_id', '=', organisationId)
        .where('id', '=', sessionId)
        .execute();
    },

    /** A second factor given in a signed-in session: a device linked from the 2FA page. */
    async markSecondFactor(sessionId: string, now: Date, method: SecondFactorMethod): Promise<void> {
      await db
        .updateTable('sessions')
        .set({ second_factor_at: iso(now), second_factor_method: method })
        .where('organisation_id', '=', organisationId)
        .where('id', '=', sessionId)
        .execute();
    },

    /** The signed-in sessions of a user that have not ended, newest first. */
    async signedInOf(userId: string, cutOffs: SessionCutOffs): Promise<Session[]> {
      const rows = await db
        .selectFrom('sessions')
        .selectAll()
        .where('organisation_id', '=', organisationId)
        .where('user_id', '=', userId)
        .where('stage', '=', 'signed_in')
        .where((eb) => eb.not(hasEndedIn(eb, cutOffs)))
        .orderBy('created_at', 'desc')
        .execute();
      return rows.map(sessionFromRow).filter((s): s is Session => s !== null);
    },

    async touch(sessionId: string, now: Date): Promise<void> {
      await db
        .updateTable('sessions')
        .set({ last_seen_at: iso(now) })
        .where('organisation_id', '=', organisationId)
        .where('id', '=', sessionId)
        .execute();
    },

    /** Counts a wrong code against a pending login; returns the new count. */
    async recordCodeFailure(sessionId: string): Promise<number> {
      // One statement: a count read separately could include a concurrent failure's.
      const row = await db
        .updateTable('sessions')
        .set((eb) => ({ code_failures: eb('code_failures', '+', 1) }))
        .where('organisation_id', '=', organisationId)
        .where('id', '=', sessionId)
        .returning('code_failures')
        .executeTakeFirst();
      return row?.code_failures ?? Number.POSITIVE_INFINITY;
    },

    /** Ends a session, and with it the person's sign-in to applications through it. */
    async delete(sessionId: string): Promise<void> {
      await destroyOfTwofoldSessions(db, [sessionId]);
      await db
        .deleteFrom('sessions')
        .where('organisation_id', '=', organisationId)
        .where('id', '=', sessionId)
        .execute();
    },

    /**
     * Ends the user's sessions. Without an exception (a reset, a deactivation, a password
     * change) it also revokes everything applications hold for them: their grants, tokens
     * and refresh tokens. With one (signing out everywhere else), the sign-ins to
     * applications through the ended sessions.
     */
    async deleteAllForUser(userId: string, exceptSessionId: string | null = null): Promise<void> {
      let query = db.deleteFrom('sessions').where('organisation_id', '=', organisationId).where('user_id', '=', userId);
      if (exceptSessionId !== null) {
        query = query.where('id', '!=', exceptSessionId);
        const ended = await db
          .selectFrom('sessions')
          .select('id')
          .where('organisation_id', '=', organisationId)
          .where('user_id', '=', userId)
          .where('id', '!=', exceptSessionId)
          .execute();
        await destroyOfTwofoldSessions(
          db,
          ended.map((row) => row.id),
        );
      } else {
        await destroyAllOfAccount(db, userId);
      }
      await query.execute();
    },
  };
}

export type SessionsRepository = ReturnType<typeof sessionsRepository>;

/** domain/session-end.ts's hasSessionEnded, in SQL, from the same cut-offs. */
function hasEndedIn(eb: ExpressionBuilder<Database, 'sessions'>, { now, idleSince }: SessionCutOffs) {
  return eb.or([
    eb('expires_at', '<=', iso(now)),
    eb.and([eb('stage', '=', 'signed_in'), eb('last_seen_at', '<=', iso(idleSince))]),
  ]);
}

/**
 * Deletes every session that has ended without being presented again, in any organisation.
 * Returns how many.
 */
export async function deleteEndedSessions(db: Executor, cutOffs: SessionCutOffs): Promise<number> {
  const result = await db
    .deleteFrom('sessions')
    .where((eb) => hasEndedIn(eb, cutOffs))
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
