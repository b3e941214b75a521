// People and their roles; what each role may do is in privileges.ts.
import type { UserTwoFactorFacts } from './enforcement.js';

export const ROLES = ['user', 'admin', 'super_admin'] as const;
export type Role = (typeof ROLES)[number];
export const STATUSES = ['active', 'inactive'] as const;
export type Status = (typeof STATUSES)[number];

export const ROLE_LABELS: Record<Role, string> = { user: 'User', admin: 'Admin', super_admin: 'Super admin' };

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

export function isStatus(value: string): value is Status {
  return (STATUSES as readonly string[]).includes(value);
}

/** Emails are unique in the instance, whatever their case. */
export function emailKey(email: string): string {
  return email.trim().toLowerCase();
}

const EMAIL_SHAPE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
export const EMAIL_MAX_LENGTH = 254;
export const NAME_MAX_LENGTH = 100;

export type EmailProblem = 'email_missing' | 'email_too_long' | 'email_shape';

export function emailProblem(email: string): EmailProblem | null {
  const trimmed = email.trim();
  if (trimmed.length === 0) return 'email_missing';
  if (trimmed.length > EMAIL_MAX_LENGTH) return 'email_too_long';
  if (!EMAIL_SHAPE.test(trimmed)) return 'email_shape';
  return null;
}

export type NameProblem = 'name_missing' | 'name_too_long';

/** A person's or an organisation's name. */
export function nameProblem(name: string): NameProblem | null {
  if (name.trim().length === 0) return 'name_missing';
  if ([...name.trim()].length > NAME_MAX_LENGTH) return 'name_too_long';
  return null;
}

export interface User {
  id: string;
  organisationId: string;
  email: string;
  name: string;
  role: Role;
  status: Status;
  hasPassword: boolean;
  twoFactor: UserTwoFactorFacts;
  createdAt: Date;
}
