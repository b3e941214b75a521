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

export function emailProblem(email: string): string | null {
  const trimmed = email.trim();
  if (trimmed.length === 0) return 'Enter an email address.';
  if (trimmed.length > EMAIL_MAX_LENGTH) return `The email address must have at most ${EMAIL_MAX_LENGTH} characters.`;
  if (!EMAIL_SHAPE.test(trimmed)) return 'Enter an email address like name@example.com.';
  return null;
}

export function nameProblem(name: string, what = 'name'): string | null {
  if (name.trim().length === 0) return `Enter ${/^[aeiou]/i.test(what) ? 'an' : 'a'} ${what}.`;
  if ([...name.trim()].length > NAME_MAX_LENGTH) return `The ${what} must have at most ${NAME_MAX_LENGTH} characters.`;
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
