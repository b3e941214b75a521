// The options that describe a new account (an email and a name), checked before anything
// is opened. Shared by `org create` (the first super admin) and `user create`.
import { emailKey, emailProblem, nameProblem } from '../domain/users.js';
import { message } from '../web/messages.js';
import { refused, type Outcome } from './command.js';

export type Checked<T> = { ok: true; value: T } | { ok: false; outcome: Outcome };

export interface NewAccount {
  email: string;
  emailKey: string;
  name: string;
}

/** `flags` names the options the values came from, for the messages. */
export function accountFrom(
  given: { email: string; name: string | undefined },
  flags: { email: string; name: string },
): Checked<NewAccount> {
  const email = given.email.trim();
  const badEmail = emailProblem(email);
  if (badEmail !== null)
    return { ok: false, outcome: refused(`${flags.email} "${given.email}": ${message(badEmail)}`) };
  // Without a name, the part of the address before the @ stands in until someone edits it.
  const name = (given.name ?? email.slice(0, email.lastIndexOf('@'))).trim();
  const badName = nameProblem(name);
  if (badName !== null) return { ok: false, outcome: refused(`${flags.name}: ${message(badName)}`) };
  return { ok: true, value: { email, emailKey: emailKey(email), name } };
}
