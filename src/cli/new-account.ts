// The checks a new account passes against the database and its password, before it is
// written: shared by `org create` and `user create`.
import { hashPassword } from '../domain/passwords.js';
import type { Executor } from '../store/db.js';
import { isEmailTaken } from '../store/users.js';
import type { Checked, NewAccount } from './account-options.js';
import { refused, type Io, type Outcome } from './command.js';
import { readNewPassword } from './password-input.js';

export async function emailInUse(db: Executor, account: NewAccount): Promise<Outcome | null> {
  if (!(await isEmailTaken(db, account.emailKey, null))) return null;
  return refused(`another account already uses the email address ${account.email}`);
}

/** Reads and checks the password, then hashes it: the last step before anything is written. */
export async function newPasswordHash(io: Io): Promise<Checked<string>> {
  const input = await readNewPassword(io);
  if (input.ok) return { ok: true, value: await hashPassword(input.password) };
  if (input.reason === 'cancelled')
    return { ok: false, outcome: { ok: false, reason: 'cancelled', problem: 'cancelled; nothing was created' } };
  return { ok: false, outcome: refused(`${input.problem} Nothing was created.`) };
}
