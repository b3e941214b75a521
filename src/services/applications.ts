// Registering the applications that sign people in through Twofold: a name, exact redirect
// addresses, and whether they require a second factor; and changing them later. The client
// secret is shown once, when it is made, and stored only as its hash.
import { randomBytes } from 'node:crypto';
import {
  applicationProblems,
  changedSettings,
  isIdTokenSigningAlg,
  type Application,
  type ApplicationProblems,
  type ApplicationSetting,
  type ApplicationSettings,
} from '../domain/applications.js';
import type { AuditDetail } from '../domain/audit.js';
import { atomically, type Tenant } from '../store/tenant.js';
import { audit, type AuditContext } from './audit.js';
import type { Deps } from './deps.js';

export interface ApplicationInput {
  name: string;
  redirectUris: readonly string[];
  /** None unless given. */
  postLogoutRedirectUris?: readonly string[];
  /** Off unless given. */
  requireTwoFactor?: boolean;
  /** Off unless given. */
  requirePhishingResistant?: boolean;
  /** RS256 unless given; anything but RS256 and ES256 is refused. */
  idTokenSigningAlg?: string;
}

/**
 * A new client_id: 128 random bits, never reused, and never starting with "-", which a
 * command line (`twofold app update --client-id …`, and many a tool's) would read as an option.
 */
export function newClientId(random: (size: number) => Buffer = randomBytes): string {
  for (;;) {
    const id = random(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

/** A new client secret: 256 random bits. */
function newClientSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** The settings the input stands for, as they are stored (the name trimmed, each address once), or its problems. */
function settingsOf(
  input: ApplicationInput,
): { ok: true; settings: ApplicationSettings } | { ok: false; problems: ApplicationProblems } {
  const problems = applicationProblems(input);
  const alg = input.idTokenSigningAlg ?? 'RS256';
  if (Object.keys(problems).length > 0 || !isIdTokenSigningAlg(alg)) return { ok: false, problems };
  return {
    ok: true,
    settings: {
      name: input.name.trim(),
      redirectUris: [...new Set(input.redirectUris)],
      postLogoutRedirectUris: [...new Set(input.postLogoutRedirectUris ?? [])],
      requireTwoFactor: input.requireTwoFactor ?? false,
      requirePhishingResistant: input.requirePhishingResistant ?? false,
      idTokenSigningAlg: alg,
    },
  };
}

export type CreateApplication =
  { ok: true; application: Application; clientSecret: string } | { ok: false; problems: ApplicationProblems };

export async function createApplication(
  deps: Deps,
  tenant: Tenant,
  context: AuditContext,
  input: ApplicationInput,
): Promise<CreateApplication> {
  const parsed = settingsOf(input);
  if (!parsed.ok) return parsed;
  const { settings } = parsed;
  const now = deps.now();
  const id = newClientId();
  const clientSecret = newClientSecret();
  const application = await atomically(deps.db, tenant.organisationId, async (trx) => {
    await trx.applications.insert({ id, ...settings, secret: clientSecret, now });
    await audit(trx, now, context, 'application_created', null, {
      application: settings.name,
      client_id: id,
      require_2fa: settings.requireTwoFactor,
      require_phishing_resistant: settings.requirePhishingResistant,
      id_token_signing_alg: settings.idTokenSigningAlg,
    });
    const created = await trx.applications.find(id);
    if (created === null) throw new Error('the application just created was not found');
    return created;
  });
  return { ok: true, application, clientSecret };
}

/** The settings a change gives replace the application's; those it leaves out stay as they are. */
export type ApplicationChange = Partial<ApplicationInput>;

export type UpdateApplication =
  | { kind: 'changed'; application: Application; changed: readonly ApplicationSetting[] }
  | { kind: 'unchanged'; application: Application }
  /** The application as it stays, for the form shown again with its problems. */
  | { kind: 'refused'; application: Application; problems: ApplicationProblems }
  | { kind: 'not_found' };

/** How the audit log names each setting, as application_created does. */
const AUDIT_KEYS: Record<ApplicationSetting, string> = {
  name: 'name',
  redirectUris: 'redirect_uris',
  postLogoutRedirectUris: 'post_logout_redirect_uris',
  requireTwoFactor: 'require_2fa',
  requirePhishingResistant: 'require_phishing_resistant',
  idTokenSigningAlg: 'id_token_signing_alg',
};

/** Which settings changed, and the new value of each (an application has no secret among them). */
function changeDetail(settings: ApplicationSettings, changed: readonly ApplicationSetting[]): AuditDetail {
  const detail: AuditDetail = { changed: changed.map((setting) => AUDIT_KEYS[setting]).join(', ') };
  for (const setting of changed) {
    const value = settings[setting];
    detail[AUDIT_KEYS[setting]] = typeof value !== 'object' ? value : value.length === 0 ? null : value.join(' ');
  }
  return detail;
}

/**
 * Changes the application's name, addresses, requirement or signature: the client_id and
 * the secret stay. What is unchanged writes nothing and records nothing. The provider reads
 * the application at every request, so the change applies from the next one.
 */
export function updateApplication(
  deps: Deps,
  tenant: Tenant,
  context: AuditContext,
  clientId: string,
  change: ApplicationChange,
): Promise<UpdateApplication> {
  const now = deps.now();
  return atomically(deps.db, tenant.organisationId, async (trx): Promise<UpdateApplication> => {
    const before = await trx.applications.find(clientId);
    if (before === null) return { kind: 'not_found' };
    const parsed = settingsOf({
      name: change.name ?? before.name,
      redirectUris: change.redirectUris ?? before.redirectUris,
      postLogoutRedirectUris: change.postLogoutRedirectUris ?? before.postLogoutRedirectUris,
      requireTwoFactor: change.requireTwoFactor ?? before.requireTwoFactor,
      requirePhishingResistant: change.requirePhishingResistant ?? before.requirePhishingResistant,
      idTokenSigningAlg: change.idTokenSigningAlg ?? before.idTokenSigningAlg,
    });
    if (!parsed.ok) return { kind: 'refused', application: before, problems: parsed.problems };
    const changed = changedSettings(before, parsed.settings);
    if (changed.length === 0) return { kind: 'unchanged', application: before };
    if (!(await trx.applications.update(clientId, parsed.settings, now))) return { kind: 'not_found' };
    await audit(trx, now, context, 'application_changed', null, {
      application: before.name,
      client_id: clientId,
      ...changeDetail(parsed.settings, changed),
    });
    return { kind: 'changed', application: { ...before, ...parsed.settings }, changed };
  });
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
