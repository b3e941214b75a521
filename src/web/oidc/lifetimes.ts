// How long the OpenID Connect provider's tokens, codes, interactions, sessions and grants
// last, in seconds: Twofold's provider's, and the bench's bare provider's (the floor), alike.
export const TTL = {
  AccessToken: 10 * 60,
  AuthorizationCode: 60,
  IdToken: 60 * 60,
  Interaction: 60 * 60,
  RefreshToken: 14 * 24 * 60 * 60,
  Session: 14 * 24 * 60 * 60,
  Grant: 14 * 24 * 60 * 60,
} as const;
