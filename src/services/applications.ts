// Registering the applications that sign people in through Twofold: a name, exact redirect
// addresses, and whether they require a second factor. The client secret is shown once,
// when it is made, and stored only as its hash.
import { randomBytes } from 'node:crypto';
import {
  applicationNameProblem,
  redirectUrisProblem,
  type Application,
  type IdTokenSigningAlg,
  type ApplicationNameProblem,
  type RedirectUrisProblem,
} from '../domain/applications.js';
import { atomically, type Tenant } from '../store/tenant.js';
import { audit, type AuditContext } from './audit.js';
import type { Deps } from './deps.js';

export interface ApplicationInput {
  name: string;
  redirectUris: readonly string[];
  postLogoutRedirectUris: readonly string[];
  requireTwoFactor: boolean;
  /** RS256 unless given. */
  idTokenSigningAlg?: IdTokenSigningAlg;
}

export type ApplicationProblems = {
  name?: ApplicationNameProblem;
  redirectUris?: { problem: RedirectUrisProblem; uri: string | null };
  postLogoutRedirectUris?: { problem: RedirectUrisProblem; uri: string | null };
};

/** A new client_id: 128 random bits, never reused. */
function newClientId(): string {
  return randomBytes(16).toString('base64url');
}

/** A new client secret: 256 random bits. */
function newClientSecret(): string {
  return randomBytes(32).toString('base64url');
}

export function applicationProblems(input: ApplicationInput): ApplicationProblems {
  const problems: ApplicationProblems = {};
  const name = applicationNameProblem(input.name);
  if (name !== null) problems.name = name;
  const redirects = redirectUrisProblem(input.redirectUris, true);
  if (redirects !== null) problems.redirectUris = redirects;
  const logouts = redirectUrisProblem(input.postLogoutRedirectUris, false);
  if (logouts !== null) problems.postLogoutRedirectUris = logouts;
  return problems;
}

export type CreateApplication =
  { ok: true; application: Application; clientSecret: string } | { ok: false; problems: ApplicationProblems };

export async function createApplication(
  deps: Deps,
  tenant: Tenant,
  context: AuditContext,
  input: ApplicationInput,
): Promise<CreateApplication> {
  const problems = applicationProblems(input);
  if (Object.keys(problems).length > 0) return { ok: false, problems };
  const now = deps.now();
  const id = newClientId();
  const clientSecret = newClientSecret();
  const application = await atomically(deps.db, tenant.organisationId, async (trx) => {
    await trx.applications.insert({
      id,
      name: input.name.trim(),
      redirectUris: [...new Set(input.redirectUris)],
      postLogoutRedirectUris: [...new Set(input.postLogoutRedirectUris)],
      requireTwoFactor: input.requireTwoFactor,
      idTokenSigningAlg: input.idTokenSigningAlg ?? 'RS256',
      secret: clientSecret,
      now,
    });
    await audit(trx, now, context, 'application_created', null, {
      application: input.name.trim(),
      client_id: id,
      require_2fa: input.requireTwoFactor,
      id_token_signing_alg: input.idTokenSigningAlg ?? 'RS256',
    });
    const created = await trx.applications.find(id);
    if (created === null) throw new Error('the application just created was not found');
    return created;
  });
  return { ok: true, application, clientSecret };
}

/** A new secret for the application; the old one stops working at once. Null if there is no such application. */
export function rotateApplicationSecret(
  deps: Deps,
  tenant: Tenant,
  context: AuditContext,
  clientId: string,
): Promise<{ application: Application; clientSecret: string } | null> {
  const now = deps.now();
  const clientSecret = newClientSecret();
  return atomically(deps.db, tenant.organisationId, async (trx) => {
    const application = await trx.applications.find(clientId);
    if (application === null || !(await trx.applications.replaceSecret(clientId, clientSecret, now))) return null;
    await audit(trx, now, context, 'application_secret_rotated', null, {
      application: application.name,
      client_id: clientId,
    });
    return { application, clientSecret };
  });
}

/** Removes the application and returns it; null if there is no such application. */
export function deleteApplication(
  deps: Deps,
  tenant: Tenant,
  context: AuditContext,
  clientId: string,
): Promise<Application | null> {
  const now = deps.now();
  return atomically(deps.db, tenant.organisationId, async (trx) => {
    const application = await trx.applications.find(clientId);
    if (application === null || !(await trx.applications.remove(clientId))) return null;
    await audit(trx, now, context, 'application_deleted', null, {
      application: application.name,
      client_id: clientId,
    });
    return application;
  });
}
