// Recording what happened, from the services where it happens.
import type { AuditAction, AuditDetail, ClientInfo } from '../domain/audit.js';
import type { AdminAction, Refusal } from '../domain/privileges.js';
import type { User } from '../domain/users.js';
import type { Tenant } from '../store/tenant.js';

export interface AuditContext {
  actor: User | null;
  client: ClientInfo | null;
}

export function personOf(user: User | null): { id: string; email: string } | null {
  return user === null ? null : { id: user.id, email: user.email };
}

export async function audit(
  tenant: Tenant,
  at: Date,
  context: AuditContext,
  action: AuditAction,
  subject: User | null,
  detail: AuditDetail = {},
): Promise<void> {
  await tenant.audit.record(
    { action, actor: personOf(context.actor), subject: personOf(subject), client: context.client, detail },
    at,
  );
}

/** An admin action the privileges table refused: who tried what, on whom, and why not. */
export async function auditRefusal(
  tenant: Tenant,
  at: Date,
  context: AuditContext,
  action: AdminAction,
  refusal: Refusal,
  person: User | null,
): Promise<void> {
  await audit(tenant, at, context, 'action_refused', person, { action, refusal });
}
