// A person's recovery codes, as stored: salt and hash, never the code.
import { randomUUID } from 'node:crypto';
import type { StoredRecoveryCode } from '../domain/recovery-codes.js';
import type { Executor } from './db.js';
import { iso } from './rows.js';

export function recoveryCodesRepository(db: Executor, organisationId: string) {
  return {
    /** Replaces the person's set with these codes; the old ones stop working. */
    async replaceSet(userId: string, codes: readonly { salt: string; hash: string }[], now: Date): Promise<void> {
      await db
        .deleteFrom('recovery_codes')
        .where('organisation_id', '=', organisationId)
        .where('user_id', '=', userId)
        .execute();
      if (codes.length === 0) return;
      await db
        .insertInto('recovery_codes')
        .values(
          codes.map((code) => ({
            id: randomUUID(),
            organisation_id: organisationId,
            user_id: userId,
            salt: code.salt,
            hash: code.hash,
            created_at: iso(now),
            used_at: null,
          })),
        )
        .execute();
    },

    /** The whole set, used codes too: one sent again is told it was used, not counted as a guess. */
    async setOf(userId: string): Promise<StoredRecoveryCode[]> {
      return db
        .selectFrom('recovery_codes')
        .select(['id', 'salt', 'hash'])
        .where('organisation_id', '=', organisationId)
        .where('user_id', '=', userId)
        .execute();
    },

    async countUnused(userId: string): Promise<number> {
      const row = await db
        .selectFrom('recovery_codes')
        .select((eb) => eb.fn.countAll<number>().as('count'))
        .where('organisation_id', '=', organisationId)
        .where('user_id', '=', userId)
        .where('used_at', 'is', null)
        .executeTakeFirst();
      return Number(row?.count ?? 0);
    },

    /** Uses a code: one conditional write, so that of simultaneous copies exactly one gets it. */
    async use(userId: string, codeId: string, now: Date): Promise<boolean> {
      const result = await db
        .updateTable('recovery_codes')
        .set({ used_at: iso(now) })
        .where('organisation_id', '=', organisationId)
        .where('user_id', '=', userId)
        .where('id', '=', codeId)
        .where('used_at', 'is', null)
        .executeTakeFirst();
      return result.numUpdatedRows === 1n;
    },

    async removeAllForUser(userId: string): Promise<number> {
      const result = await db
        .deleteFrom('recovery_codes')
        .where('organisation_id', '=', organisationId)
        .where('user_id', '=', userId)
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
