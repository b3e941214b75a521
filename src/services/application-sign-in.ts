// Signing a person in to one of their organisation's applications through Twofold: the
// decision after Twofold's own sign-in, and the audit entries of what happened.
import type { Application } from '../domain/applications.js';
import type { ClientInfo } from '../domain/audit.js';
import { allowsKind } from '../domain/factor-policy.js';
import type { Organisation } from '../domain/organisations.js';
import { applicationAccessOf, type Acr, type Authentication } from '../domain/sign-in-for-applications.js';
import type { User } from '../domain/users.js';
import { findClientById } from '../store/applications.js';
import type { Session } from '../store/sessions.js';
import { tenantFor } from '../store/tenant.js';
import { audit } from './audit.js';
import type { Deps } from './deps.js';

/** A person signed in to Twofold (past its own rules), as the access guard found them. */
export interface SignedInPerson {
  session: Session;
  user: User;
  organisation: Organisation;
}

export type ApplicationSignIn =
  | { kind: 'unknown_application' }
  | { kind: 'sign_in_first'; application: Application }
  | { kind: 'no_access'; application: Application }
  | { kind: 'link_device'; application: Application }
  | { kind: 'give_code'; application: Application }
  /** Asked for phishing-resistant sign-in: confirm who they are with a key, or (`hasKey` false) none they could use. */
  | { kind: 'use_key'; application: Application; hasKey: boolean; acr: Acr }
  | { kind: 'allowed'; application: Application; authentication: Authentication };

/** What stands between a person and an application; reads only. */
export async function decideApplicationSignIn(
  deps: Deps,
  person: SignedInPerson | null,
  clientId: string,
  acrValues: string | undefined,
): Promise<ApplicationSignIn> {
  const found = await findClientById(deps.db, clientId);
  if (found === null) return { kind: 'unknown_application' };
  const { application } = found;
  if (person === null) return { kind: 'sign_in_first', application };
  const devices = await tenantFor(deps.db, person.user.organisationId).devices.confirmedAsStored(person.user.id);
  // Keys count only where the organisation lets its people sign in with them.
  const keysAllowed = allowsKind(person.organisation.allowedFactors, 'webauthn');
  const keys = devices.filter(({ device }) => device.kind === 'webauthn' && keysAllowed);
  const held = { devices: devices.length, keys: keys.length, hardwareKeys: keys.filter((k) => !k.backedUp).length };
  const access = applicationAccessOf(application, person.user, person.session, held, acrValues);
  switch (access.kind) {
    case 'no_access':
      return { kind: 'no_access', application };
    case 'needs_second_factor':
      return access.hasDevice ? { kind: 'give_code', application } : { kind: 'link_device', application };
    case 'needs_key':
      return { kind: 'use_key', application, hasKey: access.hasKey, acr: access.acr };
    case 'allowed':
      return { kind: 'allowed', application, authentication: access.authentication };
  }
}

/**
 * The decision, with a refusal recorded in the application's organisation without naming
 * the person, who may belong to another one.
 */
export async function applicationSignIn(
  deps: Deps,
  person: SignedInPerson | null,
  clientId: string,
  acrValues: string | undefined,
  client: ClientInfo,
): Promise<ApplicationSignIn> {
  const decision = await decideApplicationSignIn(deps, person, clientId, acrValues);
  if (decision.kind === 'no_access') {
    const { application } = decision;
    await audit(
      tenantFor(deps.db, application.organisationId),
      deps.now(),
      { actor: null, client },
      'application_sign_in_refused',
      null,
      { application: application.name, client_id: application.id, reason: 'not_a_member' },
    );
  }
  return decision;
}

/**
 * "Signed in to <application>", in the person's audit log: at every code the application is
 * given. The application is as the provider has just read it for the request.
 */
export async function recordApplicationSignIn(
  deps: Deps,
  person: SignedInPerson,
  application: Pick<Application, 'id' | 'name'>,
  acr: string,
  client: ClientInfo,
): Promise<void> {
  await audit(
    tenantFor(deps.db, person.user.organisationId),
    deps.now(),
    { actor: person.user, client },
    'application_sign_in',
    person.user,
    { application: application.name, client_id: application.id, acr },
  );
}

/**
 * A request the provider refused for an application that exists (a code used twice, a
 * wrong secret, a redirect address not registered): recorded in its organisation.
 */
export async function recordApplicationError(
  deps: Deps,
  clientId: string,
  error: string,
  description: string,
  client: ClientInfo,
): Promise<void> {
  const found = await findClientById(deps.db, clientId);
  if (found === null) return;
  await audit(
    tenantFor(deps.db, found.application.organisationId),
    deps.now(),
    { actor: null, client },
    'application_sign_in_failed',
    null,
    { application: found.application.name, client_id: clientId, error, description: description.slice(0, 200) },
  );
}
