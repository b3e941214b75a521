// What a person signing in to one of their organisation's applications grants it: the
// scopes it asks for, without a consent screen, since the decision is their organisation's.
// Kept apart from the provider's configuration so that the bench's bare provider
// (bench/oidc-floor-server.ts) grants in the same way.
import type { Configuration } from 'oidc-provider';

/** oidc-provider's `loadExistingGrant`: the grant the session holds for the application (or a new one), given the scopes asked for. */
export const grantAsked: NonNullable<Configuration['loadExistingGrant']> = async (ctx) => {
  const { oidc } = ctx;
  const client = oidc.client;
  const accountId = oidc.session?.accountId;
  if (client === undefined || accountId === undefined) return undefined;
  const grantId = oidc.result?.consent?.grantId ?? oidc.session?.grantIdFor(client.clientId);
  let grant = grantId === undefined ? undefined : await oidc.provider.Grant.find(grantId);
  if (grant === undefined || grant.accountId !== accountId || grant.clientId !== client.clientId) {
    grant = new oidc.provider.Grant({ clientId: client.clientId, accountId });
  }
  grant.addOIDCScope([...oidc.requestParamScopes].join(' '));
  await grant.save();
  return grant;
};
