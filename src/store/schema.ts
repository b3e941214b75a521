// Row types of the database. They stay in the storage layer: repositories map them to
// domain values. Timestamps are ISO-8601 UTC text and booleans 0/1, the same on SQLite
// and PostgreSQL.
import type { Generated, Insertable, Selectable } from 'kysely';

export interface OrganisationsTable {
  id: string;
  name: string;
  name_key: string;
  time_zone: string;
  require_all_from: string | null;
  require_all_announced_at: string | null;
  after_deadline: string;
  created_at: string;
}

export interface UsersTable {
  id: string;
  organisation_id: string;
  email: string;
  email_key: string;
  name: string;
  search_key: string;
  role: string;
  status: string;
  password_hash: string | null;
  require_2fa: number;
  personal_deadline: string | null;
  set_up_at_next_login: number;
  created_at: string;
  updated_at: string;
  /** Wrong codes in a row on any path (login, device confirmation, step-up). */
  code_failures: number;
  code_failed_at: string | null;
  code_locked_until: string | null;
  /** Before this moment no code is checked (the growing wait after wrong codes). */
  code_next_try_at: string | null;
  /** Codes being checked right now; forgotten a minute after code_checking_at (a crash mid-check). Left to the database's default on insert. */
  code_checking: Generated<number>;
  code_checking_at: Generated<string | null>;
  notices_seen_at: string | null;
}

export interface DevicesTable {
  id: string;
  organisation_id: string;
  user_id: string;
  name: string;
  sealed_secret: string;
  created_at: string;
  confirmed_at: string | null;
  last_used_at: string | null;
  last_used_step: number | null;
  /** 'totp' (an authenticator app) or 'webauthn' (a security key or passkey); see migration 009. */
  kind: Generated<string>;
  credential_id: string | null;
  /** bigint: PostgreSQL gives it as a string. */
  sign_count: number | string | null;
  transports: string | null;
  backed_up: number | null;
}

export interface WebauthnChallengesTable {
  challenge: string;
  organisation_id: string;
  user_id: string;
  purpose: string;
  expires_at: string;
}

export interface SessionsTable {
  id: string;
  organisation_id: string;
  user_id: string;
  stage: string;
  created_at: string;
  last_seen_at: string;
  expires_at: string;
  code_failures: number;
  ip: string | null;
  user_agent: string | null;
  /** When a password and (for enrolled users) a code were last given in this session. */
  verified_at: string | null;
  second_factor_at: Generated<string | null>;
  /** RFC 8176 method of the second factor given: otp, hwk or swk; see migration 009. */
  second_factor_method: Generated<string | null>;
}

export interface LoginThrottlesTable {
  key: string;
  /** Wrong passwords counted against the key; forgotten a day after the last. */
  failures: number;
  /** The last wrong password, or the key's first attempt. */
  last_failure_at: string;
  blocked_until: string;
  /** Passwords being checked right now; forgotten a minute after checking_at (a crash mid-check). */
  checking: number;
  checking_at: string | null;
}

export interface AuditEventsTable {
  id: string;
  organisation_id: string;
  at: string;
  action: string;
  actor_id: string | null;
  actor_email: string | null;
  subject_id: string | null;
  subject_email: string | null;
  ip: string | null;
  user_agent: string | null;
  detail: string;
}

export interface PasswordLinksTable {
  token_hash: string;
  organisation_id: string;
  user_id: string;
  purpose: string;
  created_at: string;
  expires_at: string;
  used_at: string | null;
}

export interface ApplicationsTable {
  id: string;
  organisation_id: string;
  name: string;
  /** JSON list of exact addresses. */
  redirect_uris: string;
  post_logout_redirect_uris: string;
  require_2fa: number;
  /** SHA-256 of the client secret, hex. */
  secret_hash: string;
  secret_set_at: string;
  created_at: string;
  updated_at: string;
  id_token_signing_alg: Generated<string>;
}

export interface SitesTable {
  id: string;
  organisation_id: string;
  /** Lower case, with a port unless the scheme's default; unique in the instance. */
  host: string;
  require_2fa: number;
  created_at: string;
  updated_at: string;
}

export interface OidcPayloadsTable {
  model: string;
  id: string;
  payload: string;
  grant_id: string | null;
  uid: string | null;
  account_id: string | null;
  twofold_session_id: string | null;
  expires_at: string;
  consumed_at: string | null;
}

export interface OidcSigningKeysTable {
  kid: string;
  alg: string;
  sealed_private_jwk: string;
  created_at: string;
  retired_at: string | null;
}

export interface RecoveryCodesTable {
  id: string;
  organisation_id: string;
  user_id: string;
  salt: string;
  hash: string;
  created_at: string;
  used_at: string | null;
}

export interface MailOutboxTable {
  id: string;
  organisation_id: string;
  recipient: string;
  kind: string;
  subject: string;
  sealed_body: string | null;
  message_id: string;
  state: string;
  attempts: Generated<number>;
  next_attempt_at: string;
  lease_until: string | null;
  last_error: string | null;
  retry_since: string;
  created_at: string;
  sent_at: string | null;
}

export interface PasswordRequestsTable {
  key: string;
  requested_at: string;
}

export interface MetaTable {
  key: string;
  value: string;
}

export interface Database {
  organisations: OrganisationsTable;
  users: UsersTable;
  devices: DevicesTable;
  sessions: SessionsTable;
  password_links: PasswordLinksTable;
  twofold_meta: MetaTable;
  login_throttles: LoginThrottlesTable;
  audit_events: AuditEventsTable;
  applications: ApplicationsTable;
  oidc_payloads: OidcPayloadsTable;
  oidc_signing_keys: OidcSigningKeysTable;
  sites: SitesTable;
  recovery_codes: RecoveryCodesTable;
  webauthn_challenges: WebauthnChallengesTable;
  mail_outbox: MailOutboxTable;
  password_requests: PasswordRequestsTable;
}

export type OrganisationRow = Selectable<OrganisationsTable>;
export type UserRow = Selectable<UsersTable>;
export type NewUserRow = Insertable<UsersTable>;
export type DeviceRow = Selectable<DevicesTable>;
export type SessionRow = Selectable<SessionsTable>;
export type PasswordLinkRow = Selectable<PasswordLinksTable>;
