// "Forgot your password?": how often a link may be asked for. Each request counts against
// the address typed, the account it belongs to, and the client's IP address, for an hour;
// an unknown address counts the same way, so the limits tell nothing about which exist.

export const PASSWORD_REQUEST_WINDOW_MINUTES = 60;
/** How long an emailed forgotten-password link works. */
export const FORGOTTEN_LINK_MINUTES = 30;

export const PASSWORD_REQUEST_SCOPES = ['address', 'account', 'client'] as const;
export type PasswordRequestScope = (typeof PASSWORD_REQUEST_SCOPES)[number];

/** Requests allowed per hour in each scope. */
export const PASSWORD_REQUEST_LIMITS: Record<PasswordRequestScope, number> = { address: 3, account: 3, client: 10 };

/** Whether one more request fits, given each scope's requests in the last hour. */
export function mayRequestPasswordLink(counts: Record<PasswordRequestScope, number>): boolean {
  return PASSWORD_REQUEST_SCOPES.every((scope) => counts[scope] < PASSWORD_REQUEST_LIMITS[scope]);
}
