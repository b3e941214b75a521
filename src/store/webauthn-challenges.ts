// The challenges Twofold hands out for creating a security key or passkey and for using
// one: each is for one person and one purpose, expires after a few minutes, and is
// consumed by its first use, in one conditional DELETE, so that an answer to it is
// accepted once however many copies arrive.
import type { Executor } from './db.js';
import { iso } from './rows.js';

export type ChallengePurpose = 'registration' | 'authentication';

export function webauthnChallengesRepository(db: Executor, organisationId: string) {
  return {
    async issue(challenge: string, userId: string, purpose: ChallengePurpose, expiresAt: Date): Promise<void> {
      await db
        .insertInto('webauthn_challenges')
        .values({ challenge, organisation_id: organisationId, user_id: userId, purpose, expires_at: iso(expiresAt) })
        .execute();
    },

    /** The person's challenges of `purpose` that have not expired (nor been used). */
    async open(userId: string, purpose: ChallengePurpose, now: Date): Promise<string[]> {
      const rows = await db
        .selectFrom('webauthn_challenges')
        .select('challenge')
        .where('organisation_id', '=', organisationId)
        .where('user_id', '=', userId)
        .where('purpose', '=', purpose)
        .where('expires_at', '>', iso(now))
        .execute();
      return rows.map((row) => row.challenge);
    },

    /** True for the first use of an open challenge; false when used before, expired or not the person's. */
    async consume(challenge: string, userId: string, purpose: ChallengePurpose, now: Date): Promise<boolean> {
      const result = await db
        .deleteFrom('webauthn_challenges')
        .where('challenge', '=', challenge)
        .where('organisation_id', '=', organisationId)
        .where('user_id', '=', userId)
        .where('purpose', '=', purpose)
        .where('expires_at', '>', iso(now))
        .executeTakeFirst();
      return result.numDeletedRows === 1n;
    },
  };
}

/** Housekeeping: challenges never answered. */
export async function deleteExpiredChallenges(db: Executor, now: Date): Promise<number> {
  const result = await db.deleteFrom('webauthn_challenges').where('expires_at', '<=', iso(now)).executeTakeFirst();
  return Number(result.numDeletedRows);
}
