// What admins do to the users of their organisation.
import { randomUUID } from 'node:crypto';
import {
  effectiveDeadlineFor,
  isOverdue,
  isTwoFactorRequired,
  twoFactorStatusOf,
  type TwoFactorStatus,
} from '../domain/enforcement.js';
import type { Organisation } from '../domain/organisations.js';
import { profileChangeActions, refusalCode, refusalOf, type RefusalCode } from '../domain/privileges.js';
import {
  emailKey,
  emailProblem,
  isRole,
  isStatus,
  nameProblem,
  type EmailProblem,
  type NameProblem,
  type Role,
  type Status,
  type User,
} from '../domain/users.js';
import type { Executor } from '../store/db.js';
import { atomically, tenantFor, type Tenant } from '../store/tenant.js';
import { isEmailTaken } from '../store/users.js';
import { audit, auditRefusal, type AuditContext } from './audit.js';
import { addMinutes, type Deps } from './deps.js';
import { queueLinkMail } from './mail.js';

/** An admin acting from a browser. */
export interface AdminContext extends AuditContext {
  actor: User;
}

export const INVITE_LINK_DAYS = 7;
export const RESET_LINK_HOURS = 24;

/** What can be wrong with what an admin sent about a person: codes the messages module words. */
export type FieldProblem =
  EmailProblem | NameProblem | 'email_taken' | 'role_missing' | 'status_missing' | 'deadline_past' | RefusalCode;
export type FieldProblems = Partial<Record<'name' | 'email' | 'role' | 'status' | 'deadline', FieldProblem>>;

export interface UserInput {
  name: string;
  email: string;
  role: string;
}

async function profileProblems(db: Executor, input: UserInput, exceptUserId: string | null): Promise<FieldProblems> {
  const problems: FieldProblems = {};
  const name = nameProblem(input.name);
  if (name !== null) problems.name = name;
  const email = emailProblem(input.email);
  if (email !== null) problems.email = email;
  else if (await isEmailTaken(db, emailKey(input.email), exceptUserId)) problems.email = 'email_taken';
  if (!isRole(input.role)) problems.role = 'role_missing';
  return problems;
}

export type CreateUser = { ok: true; userId: string; linkToken: string } | { ok: false; problems: FieldProblems };

export async function createUser(
  deps: Deps,
  tenant: Tenant,
  context: AdminContext,
  input: UserInput,
): Promise<CreateUser> {
  const problems = await profileProblems(deps.db, input, null);
  if (isRole(input.role)) {
    const refusal = refusalOf(context.actor, { action: 'create-user', gives: input.role });
    if (refusal !== null) {
      problems.role = refusalCode(refusal, 'create-user');
      await auditRefusal(tenant, deps.now(), context, 'create-user', refusal, null);
    }
  }
  if (Object.keys(problems).length > 0 || !isRole(input.role)) return { ok: false, problems };
  const role: Role = input.role;
  const now = deps.now();
  const userId = randomUUID();
  const linkToken = await atomically(deps.db, tenant.organisationId, async (trx) => {
    await trx.users.insert({
      id: userId,
      email: input.email.trim(),
      emailKey: emailKey(input.email),
      name: input.name.trim(),
      role,
      passwordHash: null,
      now,
    });
    const created = await trx.users.findById(userId);
    await audit(trx, now, context, 'user_created', created, { role });
    const token = await trx.passwordLinks.issue(userId, 'invite', now, addMinutes(now, INVITE_LINK_DAYS * 24 * 60));
    await queueLinkMail(
      deps,
      trx,
      'invitation',
      { name: input.name.trim(), email: input.email.trim() },
      token,
      `${INVITE_LINK_DAYS} days`,
    );
    return token;
  });
  deps.mailQueued?.();
  return { ok: true, userId, linkToken };
}

export type UpdateUser = { ok: true } | { ok: false; problems: FieldProblems };

export async function updateUser(
  deps: Deps,
  organisation: Organisation,
  context: AdminContext,
  target: User,
  input: UserInput & { status: string },
): Promise<UpdateUser> {
  const problems = await profileProblems(deps.db, input, target.id);
  if (!isStatus(input.status)) problems.status = 'status_missing';
  else if (isRole(input.role)) {
    // The route checked that the actor may edit this person; changing their role or status
    // is an action of its own in the privileges table.
    const role = input.role;
    for (const action of profileChangeActions(target, { role, status: input.status })) {
      const refusal = refusalOf(context.actor, {
        action,
        person: target,
        ...(action === 'set-role' && { gives: role }),
      });
      if (refusal === null) continue;
      problems[action === 'set-role' ? 'role' : 'status'] = refusalCode(refusal, action);
      await auditRefusal(tenantFor(deps.db, organisation.id), deps.now(), context, action, refusal, target);
    }
  }
  if (Object.keys(problems).length > 0 || !isRole(input.role) || !isStatus(input.status))
    return { ok: false, problems };
  const role: Role = input.role;
  const status: Status = input.status;
  const now = deps.now();
  await atomically(deps.db, organisation.id, async (trx) => {
    await trx.users.updateProfile(
      target.id,
      { name: input.name.trim(), email: input.email.trim(), emailKey: emailKey(input.email), role, status },
      now,
    );
    const changed = (['name', 'email', 'role'] as const).filter((field) => input[field].trim() !== target[field]);
    if (changed.length > 0)
      await audit(trx, now, context, 'user_updated', target, { changed: changed.join(', '), role });
    if (status === 'inactive' && target.status === 'active') {
      await trx.sessions.deleteAllForUser(target.id);
      await audit(trx, now, context, 'user_deactivated', target);
    }
    // Reactivating only lets the person sign in again: their devices, their requirement and
    // a pending set-up stay as they were, so deactivating and reactivating strips nothing.
    if (status === 'active' && target.status === 'inactive') await audit(trx, now, context, 'user_reactivated', target);
  });
  return { ok: true };
}

export type TwoFactorRequirementInput = { required: boolean; personalDeadline: Date | null };

export type SetRequirement = { ok: true } | { ok: false; problems: FieldProblems };

export async function setUserRequirement(
  deps: Deps,
  tenant: Tenant,
  context: AdminContext,
  target: User,
  input: TwoFactorRequirementInput,
): Promise<SetRequirement> {
  const now = deps.now();
  const unchanged = target.twoFactor.personalDeadline?.getTime() === input.personalDeadline?.getTime();
  if (input.personalDeadline !== null && !unchanged && input.personalDeadline.getTime() <= now.getTime()) {
    return { ok: false, problems: { deadline: 'deadline_past' } };
  }
  await atomically(deps.db, tenant.organisationId, async (trx) => {
    await trx.users.setTwoFactorRequirement(target.id, input.required, input.personalDeadline, now);
    // A new date from an admin is the extra time it says: it lifts a pending "set up now".
    if (input.personalDeadline !== null && !unchanged) await trx.users.setSetUpAtNextLogin(target.id, false, now);
    await audit(trx, now, context, 'user_requirement_changed', target, {
      required: input.required,
      personal_deadline: input.personalDeadline?.toISOString() ?? null,
    });
  });
  return { ok: true };
}

/** Removes every device, ends every session; the user links anew at the next login. */
/**
 * Removes every device, ends every session, clears a lock; the user links anew at the
 * next login. Returns how many devices were removed.
 */
export async function resetTwoFactor(deps: Deps, tenant: Tenant, context: AuditContext, target: User): Promise<number> {
  const now = deps.now();
  return atomically(deps.db, tenant.organisationId, async (trx) => {
    const removed = await trx.devices.removeAllForUser(target.id);
    // The recovery codes go with the devices: a reset leaves nothing that signs in.
    await trx.recoveryCodes.removeAllForUser(target.id);
    await trx.users.setSetUpAtNextLogin(target.id, true, now);
    await trx.users.clearCodeFailures(target.id);
    await trx.sessions.deleteAllForUser(target.id);
    await audit(trx, now, context, 'two_factor_reset', target, { devices_removed: removed });
    return removed;
  });
}

/** Lifts a second-factor lock and forgets the wrong codes that led to it. */
export async function unlockSecondFactor(
  deps: Deps,
  tenant: Tenant,
  context: AdminContext,
  target: User,
): Promise<void> {
  await tenant.users.clearCodeFailures(target.id);
  await audit(tenant, deps.now(), context, 'second_factor_unlocked', target);
}

/** A new set-password link for the person, emailed to them and shown to the admin. */
export async function issueResetLink(deps: Deps, tenant: Tenant, context: AdminContext, target: User): Promise<string> {
  const now = deps.now();
  const token = await atomically(deps.db, tenant.organisationId, async (trx) => {
    const issued = await trx.passwordLinks.issue(target.id, 'reset', now, addMinutes(now, RESET_LINK_HOURS * 60));
    await audit(trx, now, context, 'password_link_issued', target);
    await queueLinkMail(deps, trx, 'password_link', target, issued, `${RESET_LINK_HOURS} hours`);
    return issued;
  });
  deps.mailQueued?.();
  return token;
}

export interface UserOverview {
  user: User;
  confirmedDevices: number;
  status: TwoFactorStatus;
  required: boolean;
  deadline: Date | null;
  overdue: boolean;
}

export function overviewOf(organisation: Organisation, user: User, confirmedDevices: number, now: Date): UserOverview {
  const status = twoFactorStatusOf(organisation.policy, user.twoFactor, confirmedDevices, now);
  const required = isTwoFactorRequired(organisation.policy, user.twoFactor);
  const deadline = required ? effectiveDeadlineFor(organisation.policy, user.twoFactor) : null;
  return { user, confirmedDevices, status, required, deadline, overdue: isOverdue(status) };
}

export async function listUsers(deps: Deps, tenant: Tenant, organisation: Organisation, search: string, page: number) {
  const { rows, total } = await tenant.users.list(search, page);
  const now = deps.now();
  return { total, users: rows.map((row) => overviewOf(organisation, row.user, row.confirmedDevices, now)) };
}
