// `app ...` once its options are accepted: through the same service the pages will use.
import type { Application } from '../domain/applications.js';
import {
  createApplication,
  deleteApplication,
  rotateApplicationSecret,
  updateApplication,
  type ApplicationChange,
  type ApplicationInput,
} from '../services/applications.js';
import { firstProblem } from './application-options.js';
import { done, failed, refused, type Io, type Outcome } from './command.js';
import { COMMAND, inOrganisation } from './instance.js';

function described(application: Application): string[] {
  return [
    `client_id: ${application.id}`,
    `name: ${application.name}`,
    ...application.redirectUris.map((uri) => `redirect_uri: ${uri}`),
    ...application.postLogoutRedirectUris.map((uri) => `post_logout_redirect_uri: ${uri}`),
    `require_2fa: ${application.requireTwoFactor ? 'yes' : 'no'}`,
    `require_phishing_resistant: ${application.requirePhishingResistant ? 'yes' : 'no'}`,
    `id_token_signing_alg: ${application.idTokenSigningAlg}`,
  ];
}

export function createApplicationFor(io: Io, organisation: string, input: ApplicationInput): Promise<Outcome> {
  return inOrganisation(io, organisation, async (deps, tenant) => {
    const created = await createApplication(deps, tenant, COMMAND, input);
    // The options were checked before the instance was opened, by the same rules.
    if (!created.ok) return failed('the application was refused', JSON.stringify(created.problems));
    return done(`client_id: ${created.application.id}`, `client_secret: ${created.clientSecret}`);
  });
}

export function updateApplicationOf(
  io: Io,
  organisation: string,
  clientId: string,
  change: ApplicationChange,
): Promise<Outcome> {
  return inOrganisation(io, organisation, async (deps, tenant, name) => {
    const result = await updateApplication(deps, tenant, COMMAND, clientId, change);
    switch (result.kind) {
      case 'not_found':
        return refused(`${name} has no application with the client_id "${clientId}"`);
      case 'refused':
        // The options were checked before; what is left is an address it had, which today's rules refuse.
        return refused(firstProblem(result.problems) ?? 'the change was refused');
      case 'unchanged':
        io.stderr.write('twofold: nothing changed: the application already has these settings.\n');
        return done(...described(result.application));
      case 'changed':
        return done(...described(result.application));
    }
  });
}

export function listApplicationsOf(io: Io, organisation: string): Promise<Outcome> {
  return inOrganisation(io, organisation, async (_deps, tenant, name) => {
    const applications = await tenant.applications.list();
    if (applications.length === 0) return done(`${name} has no applications.`);
    return done(...applications.flatMap((application, i) => [...(i > 0 ? [''] : []), ...described(application)]));
  });
}

export function rotateSecretOf(io: Io, organisation: string, clientId: string): Promise<Outcome> {
  return inOrganisation(io, organisation, async (deps, tenant, name) => {
    const rotated = await rotateApplicationSecret(deps, tenant, COMMAND, clientId);
    if (rotated === null) return refused(`${name} has no application with the client_id "${clientId}"`);
    return done(`client_id: ${rotated.application.id}`, `client_secret: ${rotated.clientSecret}`);
  });
}

export function deleteApplicationOf(io: Io, organisation: string, clientId: string): Promise<Outcome> {
  return inOrganisation(io, organisation, async (deps, tenant, name) => {
    const deleted = await deleteApplication(deps, tenant, COMMAND, clientId);
    if (deleted === null) return refused(`${name} has no application with the client_id "${clientId}"`);
    return done(`Deleted ${deleted.name} (client_id ${deleted.id}) from ${name}.`);
  });
}
