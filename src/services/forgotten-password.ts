// "Forgot your password?": a single-use link, valid for 30 minutes, emailed to the address
// if it belongs to an active account. The answer is the same, and takes as long, whether or
// not it does: an unknown address does stand-in work of the same cost (the message rendered
// and sealed, the same kinds of writes in one commit), and counts against the same limits.
// The link sets a password and nothing else: 2FA stays as it is.
import { createHash, randomUUID } from 'node:crypto';
import type { ClientInfo } from '../domain/audit.js';
import { linkMailOf, setPasswordLinkOf } from '../domain/mail.js';
import {
  FORGOTTEN_LINK_MINUTES,
  mayRequestPasswordLink,
  PASSWORD_REQUEST_SCOPES,
  PASSWORD_REQUEST_WINDOW_MINUTES,
  type PasswordRequestScope,
} from '../domain/password-requests.js';
import { emailKey, emailProblem, type EmailProblem } from '../domain/users.js';
import { inOneCommit, type Executor } from '../store/db.js';
import { findAccountByEmail } from '../store/logins.js';
import { countPasswordRequests, recordPasswordRequest } from '../store/password-requests.js';
import { newSessionToken } from '../store/sessions.js';
import { tenantInTransaction } from '../store/tenant.js';
import { audit } from './audit.js';
import { addMinutes, type Deps } from './deps.js';
import { queueMail, sealMailBody } from './mail.js';

export type PasswordLinkRequest = { ok: true } | { ok: false; problem: EmailProblem | 'throttled' };

const hash = (text: string) => createHash('sha256').update(text).digest('hex');

function requestKeys(address: string, accountId: string, ip: string): Record<PasswordRequestScope, string> {
  return { address: `address:${hash(address)}`, account: `account:${accountId}`, client: `client:${hash(ip)}` };
}

/** The writes of a known address's commit, but of nothing anybody reads: an unknown address's stand-in. */
async function standInWrites(executor: Executor, now: Date): Promise<void> {
  await executor
    .updateTable('password_links')
    .set({ used_at: now.toISOString() })
    .where('user_id', '=', randomUUID())
    .where('used_at', 'is', null)
    .execute();
  for (let row = 0; row < 3; row++) await recordPasswordRequest(executor, [`stand-in:${randomUUID()}`], now);
}

export async function requestForgottenPasswordLink(
  deps: Deps,
  email: string,
  client: ClientInfo,
): Promise<PasswordLinkRequest> {
  const problem = emailProblem(email);
  if (problem !== null) return { ok: false, problem };
  const address = emailKey(email);
  const found = await findAccountByEmail(deps.db, address);
  const account = found !== null && found.user.status === 'active' ? found : null;
  const keys = requestKeys(address, found?.user.id ?? `unknown:${hash(address)}`, client.ip);
  const token = newSessionToken();
  // Rendered and sealed either way: the unknown address's stand-in costs what the message does.
  const mail = linkMailOf('forgotten_password', {
    organisationName: found?.organisation.name ?? 'Twofold',
    recipientName: found?.user.name ?? address,
    recipientEmail: found?.user.email ?? email.trim(),
    link: setPasswordLinkOf(deps.publicUrl, token),
    validFor: `${FORGOTTEN_LINK_MINUTES} minutes`,
  });
  const now = deps.now();
  const queued = await inOneCommit(deps.db, async (executor) => {
    const counts = await countPasswordRequests(
      executor,
      PASSWORD_REQUEST_SCOPES.map((scope) => keys[scope]),
      addMinutes(now, -PASSWORD_REQUEST_WINDOW_MINUTES),
    );
    const countOf = (scope: PasswordRequestScope) => counts.get(keys[scope]) ?? 0;
    if (
      !mayRequestPasswordLink({ address: countOf('address'), account: countOf('account'), client: countOf('client') })
    )
      return null;
    await recordPasswordRequest(executor, Object.values(keys), now);
    if (account === null) {
      sealMailBody(deps.secretKey, randomUUID(), { fromName: mail.fromName, text: mail.text, html: mail.html });
      await standInWrites(executor, now);
      return false;
    }
    const trx = tenantInTransaction(executor, account.user.organisationId);
    await trx.passwordLinks.issueToken(
      token,
      account.user.id,
      'forgotten',
      now,
      addMinutes(now, FORGOTTEN_LINK_MINUTES),
    );
    await queueMail(deps, trx, mail);
    await audit(trx, now, { actor: null, client }, 'password_reset_requested', account.user);
    return true;
  });
  if (queued === null) return { ok: false, problem: 'throttled' };
  if (queued) deps.mailQueued?.();
  return { ok: true };
}
