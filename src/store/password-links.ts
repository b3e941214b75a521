// One-time set-password links. Only the SHA-256 of the token is stored.
import type { Executor } from './db.js';
import { iso } from './rows.js';
import { hashToken, newSessionToken } from './sessions.js';

export type LinkPurpose = 'invite' | 'reset' | 'forgotten';

function purposeOf(text: string): LinkPurpose {
  return text === 'invite' || text === 'forgotten' ? text : 'reset';
}

export interface PasswordLink {
  organisationId: string;
  userId: string;
  purpose: LinkPurpose;
  expiresAt: Date;
  usedAt: Date | null;
}

/** Instance-wide: the link's token is all its visitor has. */
export async function findPasswordLink(db: Executor, token: string): Promise<PasswordLink | null> {
  const row = await db
    .selectFrom('password_links')
    .selectAll()
    .where('token_hash', '=', hashToken(token))
    .executeTakeFirst();
  if (!row) return null;
  return {
    organisationId: row.organisation_id,
    userId: row.user_id,
    purpose: purposeOf(row.purpose),
    expiresAt: new Date(row.expires_at),
    usedAt: row.used_at === null ? null : new Date(row.used_at),
  };
}

export function passwordLinksRepository(db: Executor, organisationId: string) {
  /** Issues a link for a token made beforehand (newSessionToken) and voids the user's earlier unused ones. */
  async function issueToken(
    token: string,
    userId: string,
    purpose: LinkPurpose,
    now: Date,
    expiresAt: Date,
  ): Promise<void> {
    await db
      .updateTable('password_links')
      .set({ used_at: iso(now) })
      .where('organisation_id', '=', organisationId)
      .where('user_id', '=', userId)
      .where('used_at', 'is', null)
      .execute();
    await db
      .insertInto('password_links')
      .values({
        token_hash: hashToken(token),
        organisation_id: organisationId,
        user_id: userId,
        purpose,
        created_at: iso(now),
        expires_at: iso(expiresAt),
        used_at: null,
      })
      .execute();
  }

  return {
    /** Issues a new link and voids the user's earlier unused ones. Returns the token. */
    async issue(userId: string, purpose: LinkPurpose, now: Date, expiresAt: Date): Promise<string> {
      const token = newSessionToken();
      await issueToken(token, userId, purpose, now, expiresAt);
      return token;
    },

    issueToken,

    /** Marks the link used; false if it was used (or voided) in the meantime. */
    async consume(token: string, now: Date): Promise<boolean> {
      const result = await db
        .updateTable('password_links')
        .set({ used_at: iso(now) })
        .where('organisation_id', '=', organisationId)
        .where('token_hash', '=', hashToken(token))
        .where('used_at', 'is', null)
        .where('expires_at', '>', iso(now))
        .executeTakeFirst();
      return result.numUpdatedRows === 1n;
    },
  };
}

export type PasswordLinksRepository = ReturnType<typeof passwordLinksRepository>;
