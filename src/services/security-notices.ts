// Security notices: an event a person is always told about by email (see
// domain/security-notices.ts) is audited and its notice queued in the same commit, so that
// the notice goes if and only if the change it tells of was made. The use case wakes the
// sender once its commit is done (deps.mailQueued).
import type { AuditAction, AuditDetail } from '../domain/audit.js';
import { isEmailedNotice, securityNoticeMailOf } from '../domain/security-notices.js';
import type { User } from '../domain/users.js';
import type { TenantInTransaction } from '../store/tenant.js';
import { audit, type AuditContext } from './audit.js';
import type { Deps } from './deps.js';
import { queueMail } from './mail.js';

/** Audits the event about `subject`, and queues its security notice when it has one. */
export async function auditAndNotify(
  deps: Deps,
  trx: TenantInTransaction,
  at: Date,
  context: AuditContext,
  action: AuditAction,
  subject: User,
  detail: AuditDetail = {},
): Promise<void> {
  await audit(trx, at, context, action, subject, detail);
  if (!isEmailedNotice(action, detail)) return;
  const organisation = await trx.organisation.get();
  await queueMail(
    deps,
    trx,
    securityNoticeMailOf({
      organisation,
      person: subject,
      action,
      detail,
      at,
      client: context.client,
      byAdministrator: context.actor !== null && context.actor.id !== subject.id,
      publicUrl: deps.publicUrl,
    }),
  );
}
