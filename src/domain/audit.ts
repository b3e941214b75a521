// What the audit log records. Details never hold a code, a secret or a password.

export const AUDIT_ACTIONS = [
  'login_succeeded',
  'login_failed',
  'code_failed',
  'second_factor_locked',
  'second_factor_unlocked',
  'device_added',
  'device_removed',
  'two_factor_reset',
  'organisation_requirement_changed',
  'after_deadline_changed',
  'time_zone_changed',
  'user_requirement_changed',
  'user_created',
  'user_updated',
  'user_deactivated',
  'user_reactivated',
  'password_changed',
  'password_set_with_link',
  'password_link_issued',
  'session_ended',
  'identity_confirmed',
  'action_refused',
  'application_created',
  'application_changed',
  'application_secret_rotated',
  'application_deleted',
  'application_sign_in',
  'application_sign_in_refused',
  'application_sign_in_failed',
  'site_added',
  'site_deleted',
  'site_access_refused',
  'recovery_codes_generated',
  'security_key_possible_clone',
  'password_reset_requested',
  'email_sent_again',
] as const;

export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export function isAuditAction(value: string): value is AuditAction {
  return (AUDIT_ACTIONS as readonly string[]).includes(value);
}

export const AUDIT_LABELS: Record<AuditAction, string> = {
  login_succeeded: 'Signed in',
  login_failed: 'Sign-in refused',
  code_failed: 'Wrong code',
  second_factor_locked: 'Second factor locked',
  second_factor_unlocked: 'Second factor unlocked',
  device_added: 'Device added',
  device_removed: 'Device removed',
  two_factor_reset: '2FA reset',
  organisation_requirement_changed: 'Organisation requirement changed',
  after_deadline_changed: 'After-deadline rule changed',
  time_zone_changed: 'Time zone changed',
  user_requirement_changed: 'User requirement or deadline changed',
  user_created: 'User created',
  user_updated: 'User changed',
  user_deactivated: 'User deactivated',
  user_reactivated: 'User reactivated',
  password_changed: 'Password changed',
  password_set_with_link: 'Password set with a link',
  password_link_issued: 'Set-password link created',
  session_ended: 'Session ended',
  identity_confirmed: 'Identity confirmed',
  action_refused: 'Admin action refused',
  application_created: 'Application registered',
  application_changed: 'Application changed',
  application_secret_rotated: 'Application secret replaced',
  application_deleted: 'Application deleted',
  application_sign_in: 'Signed in to an application',
  application_sign_in_refused: 'Sign-in to an application refused',
  application_sign_in_failed: 'Application sign-in error',
  site_added: 'Protected site added',
  site_deleted: 'Protected site deleted',
  site_access_refused: 'Access to a protected site refused',
  recovery_codes_generated: 'Recovery codes made',
  security_key_possible_clone: 'Security key refused: possibly a copy',
  password_reset_requested: 'Forgotten password: link emailed',
  email_sent_again: 'Email sent again',
};

/** Events a user is told about at their next sign-in. */
export const NOTICE_ACTIONS: readonly AuditAction[] = [
  'device_added',
  'device_removed',
  'two_factor_reset',
  'second_factor_locked',
];

export type AuditDetail = Record<string, string | number | boolean | null>;

export interface AuditPerson {
  id: string;
  email: string;
}

export interface ClientInfo {
  ip: string;
  userAgent: string;
}

export interface AuditEvent {
  action: AuditAction;
  actor: AuditPerson | null;
  subject: AuditPerson | null;
  client: ClientInfo | null;
  detail: AuditDetail;
}

export interface RecordedAuditEvent extends AuditEvent {
  id: string;
  at: Date;
}
