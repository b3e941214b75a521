// Who is asking: the session behind the cookie, its user and organisation, their 2FA
// state, and the guard that lets each route's declared audience in and no one else. An
// admin route declares the action it performs instead; the privileges table decides who
// may perform it, and on whom.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { twoFactorStatusOf, type TwoFactorStatus } from '../../domain/enforcement.js';
import type { DeviceKind } from '../../domain/devices.js';
import {
  allowsKind,
  kindsToSignInWith,
  mustAddAllowedDevice as holdsForAllowedDevice,
} from '../../domain/factor-policy.js';
import type { Organisation } from '../../domain/organisations.js';
import {
  leastRoleFor,
  PRIVILEGES,
  refusalCode,
  refusalOf,
  roleMay,
  type AdminAction,
  type Refusal,
} from '../../domain/privileges.js';
import { hasSessionEnded } from '../../domain/session-end.js';
import type { User } from '../../domain/users.js';
import type { SignedInPerson } from '../../services/application-sign-in.js';
import { auditRefusal } from '../../services/audit.js';
import type { Deps } from '../../services/deps.js';
import { sessionCutOffs } from '../../services/sessions.js';
import { isRecentlyVerified } from '../../services/step-up.js';
import { deleteSessionById, findSessionWithAccount, type Session } from '../../store/sessions.js';
import { tenantFor, type Tenant } from '../../store/tenant.js';
import { message } from '../messages.js';
import { clearSessionCookie, clientOf, redirectWithFlash, renderError } from '../respond.js';

/**
 * Who may reach a route. A pending login (code or setup) reaches only its own step and
 * sign-out; routes that declare nothing are for signed-in users. Assets (CSS) skip the
 * session lookup altogether. Protocol routes (OpenID Connect) are open to anyone, like
 * public ones, and are called by applications as well as browsers: they carry no form
 * token of Twofold's, and the provider checks what they send itself.
 */
export type Access = 'asset' | 'public' | 'protocol' | 'any_session' | 'code' | 'setup' | 'signed_in';

/** Who reaches a route, as listed for the tests: its access, or the least role that may perform its action. */
export type Audience = Access | 'admin' | 'super_admin';

export type Stage = 'code' | 'setup' | 'signed_in';

export interface Auth {
  session: Session;
  user: User;
  organisation: Organisation;
  tenant: Tenant;
  status: TwoFactorStatus;
  stage: Stage;
  /** The person's confirmed devices, read with the session. */
  confirmedDevices: number;
  /** Of them, security keys and passkeys. */
  confirmedKeys: number;
  /**
   * Signed in, but held at the setup screen until they link a device of a kind their
   * organisation allows (see domain/factor-policy.ts).
   */
  mustAddAllowedDevice: boolean;
}

/** The person's confirmed devices by kind, as read with the session. */
export const devicesByKindOf = (auth: Pick<Auth, 'confirmedDevices' | 'confirmedKeys'>) => ({
  apps: auth.confirmedDevices - auth.confirmedKeys,
  keys: auth.confirmedKeys,
});

/**
 * The ways the person can give a second factor: a security key or passkey, an authenticator
 * app; of theirs, those their organisation allows (all of theirs when none is).
 */
export function waysOf(auth: Auth): { key: boolean; app: boolean } {
  const kinds = kindsToSignInWith(auth.organisation.allowedFactors, devicesByKindOf(auth));
  return { key: kinds.includes('webauthn'), app: kinds.includes('totp') };
}

/**
 * A route that changes how the account is protected asks for the password (and a code)
 * again when they were last given more than 10 minutes ago. `returnTo` is the page to come
 * back to afterwards (a GET route returns to itself).
 */
export interface StepUpConfig {
  returnTo?: string;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
    /** The admin action the route performs, instead of an access: signed-in people whose role may perform it get in. */
    action?: AdminAction;
    stepUp?: StepUpConfig;
  }
  interface FastifyRequest {
    auth: Auth | null;
    /** For an action on a person, that person, found in the actor's organisation and allowed to them. */
    target: User | null;
  }
}

type RouteConfig = { access?: Access; action?: AdminAction } | undefined;

/** An admin action is for signed-in people (then the table decides by their role); otherwise as declared. */
function accessOf(config: RouteConfig): Access {
  return config?.action !== undefined ? 'signed_in' : (config?.access ?? 'signed_in');
}

export function audienceOf(config: RouteConfig): Audience {
  if (config?.action === undefined) return accessOf(config);
  const least = leastRoleFor(config.action);
  return least === 'user' ? 'signed_in' : least;
}

const TOUCH_EVERY_MS = 60_000;

export function homeOf(stage: Stage | null): string {
  switch (stage) {
    case null:
      return '/login';
    case 'code':
      return '/login/code';
    case 'setup':
      return '/setup';
    case 'signed_in':
      return '/account';
  }
}

async function authOf(request: FastifyRequest, reply: FastifyReply): Promise<Auth | 'blocked' | null> {
  const { deps, cookies } = request.server.twofold;
  const token = request.cookies[cookies.session];
  if (token === undefined || token === '') return null;
  // One query: the session, its user and organisation, and the user's confirmed devices.
  const found = await findSessionWithAccount(deps.db, token);
  if (found === null) {
    clearSessionCookie(reply, cookies);
    return null;
  }
  const { session, user, organisation, confirmedDevices, confirmedKeys } = found;
  const now = deps.now();
  if (hasSessionEnded(session, sessionCutOffs(deps, now))) {
    await deleteSessionById(deps.db, session.id);
    clearSessionCookie(reply, cookies);
    return null;
  }
  const tenant = tenantFor(deps.db, session.organisationId);
  if (user.status !== 'active') {
    await tenant.sessions.delete(session.id);
    clearSessionCookie(reply, cookies);
    return null;
  }
  const { status, stage, mustAddAllowed } = standingOf(found, now);
  if (status.kind === 'blocked') {
    // The deadline passed during this session: it ends, as the next login would be refused.
    await tenant.sessions.delete(session.id);
    clearSessionCookie(reply, cookies);
    return 'blocked';
  }
  if (now.getTime() - session.lastSeenAt.getTime() > TOUCH_EVERY_MS) await tenant.sessions.touch(session.id, now);
  return {
    session,
    user,
    organisation,
    tenant,
    status,
    stage,
    confirmedDevices,
    confirmedKeys,
    mustAddAllowedDevice: stage === 'setup' && status.kind !== 'must_set_up' && mustAddAllowed,
  };
}

type Found = NonNullable<Awaited<ReturnType<typeof findSessionWithAccount>>>;

/** Where the person of a session stands: their 2FA status, and the stage it lets them reach. */
function standingOf(found: Found, now: Date): { status: TwoFactorStatus; stage: Stage; mustAddAllowed: boolean } {
  const { session, user, organisation, confirmedDevices, confirmedKeys } = found;
  const status = twoFactorStatusOf(organisation.policy, user.twoFactor, confirmedDevices, now);
  // A signed-in user whose deadline passed is held at the setup screen, as at login; so is
  // one whose organisation no longer allows their devices, or the way they signed in.
  const mustAddAllowed = holdsForAllowedDevice(
    organisation.allowedFactors,
    devicesByKindOf({ confirmedDevices, confirmedKeys }),
    session.secondFactorMethod,
  );
  const held = status.kind === 'must_set_up' || mustAddAllowed;
  return { status, stage: session.stage === 'signed_in' && held ? 'setup' : session.stage, mustAddAllowed };
}

/**
 * The person whose session `token` has just been signed in, as the next request would find
 * them: null unless signed in with nothing to be shown first (held at the setup screen, or a
 * deadline to be reminded of). For going on at once to an application.
 */
export async function signedInJustNow(deps: Deps, token: string): Promise<SignedInPerson | null> {
  const found = await findSessionWithAccount(deps.db, token);
  if (found === null || found.user.status !== 'active') return null;
  const now = deps.now();
  if (hasSessionEnded(found.session, sessionCutOffs(deps, now))) return null;
  const { status, stage } = standingOf(found, now);
  if (stage !== 'signed_in' || status.kind === 'grace' || status.kind === 'blocked') return null;
  return { session: found.session, user: found.user, organisation: found.organisation };
}

function admits(access: Access, auth: Auth | null): boolean {
  switch (access) {
    case 'asset':
    case 'public':
    case 'protocol':
      return true;
    case 'any_session':
      return auth !== null;
    case 'code':
    case 'setup':
    case 'signed_in':
      return auth?.stage === access;
  }
}

/**
 * Answers 403 with why. A page opened is recorded in the organisation's audit log; a form
 * post is refused here before its CSRF token is read, so it may be another site's forgery
 * and records nothing (a genuine one came from a page whose opening was recorded).
 */
async function refuse(
  request: FastifyRequest,
  reply: FastifyReply,
  auth: Auth,
  action: AdminAction,
  refusal: Refusal,
  person: User | null,
): Promise<FastifyReply> {
  if (request.method === 'GET') {
    const context = { actor: auth.user, client: clientOf(request) };
    await auditRefusal(auth.tenant, request.server.twofold.deps.now(), context, action, refusal, person);
  }
  return renderError(request, reply, 403, 'not_allowed_title', refusalCode(refusal, action));
}

async function guard(request: FastifyRequest, reply: FastifyReply): Promise<void> {
  // An unknown address is answered with "not found" whoever asks.
  const action = request.is404 ? undefined : request.routeOptions.config.action;
  const access = request.is404 ? 'public' : accessOf(request.routeOptions.config);
  if (access === 'asset') {
    request.auth = null;
    return;
  }
  const found = await authOf(request, reply);
  if (found === 'blocked') {
    request.auth = null;
    if (access !== 'public' && access !== 'protocol') {
      return redirectWithFlash(reply, '/login', message('sign_in_blocked'));
    }
    return;
  }
  request.auth = found;
  if (admits(access, found)) {
    // Decided before the body is read: a role that may not act never gets further.
    if (action !== undefined && found !== null && !roleMay(found.user.role, action)) {
      return refuse(request, reply, found, action, 'role', null);
    }
    const stepUp = request.routeOptions.config.stepUp;
    if (
      stepUp &&
      found?.stage === 'signed_in' &&
      !isRecentlyVerified(found.session, request.server.twofold.deps.now())
    ) {
      const next = stepUp.returnTo ?? request.url;
      return reply.redirect(`/confirm-identity?${new URLSearchParams({ next }).toString()}`, 303);
    }
    return;
  }
  // Anyone else goes to where their login stands; a POST is never carried out.
  return reply.redirect(homeOf(found?.stage ?? null), 303);
}

/**
 * For an action on a person: finds them once, in the actor's own organisation (anyone
 * else is not found), and refuses the action when the table forbids it on them. A
 * preHandler, so that the id in the path has passed its schema first.
 */
async function targetGuard(request: FastifyRequest, reply: FastifyReply): Promise<void> {
  request.target = null;
  const action = request.routeOptions.config.action;
  if (action === undefined || PRIVILEGES[action].on !== 'person') return;
  const auth = authOrThrow(request);
  const { id } = request.params as { id?: unknown };
  if (typeof id !== 'string')
    throw new Error(`route ${request.routeOptions.url ?? ''} acts on a person without an :id`);
  const target = await auth.tenant.users.findById(id);
  if (target === null) {
    return renderError(request, reply, 404, 'user_not_found_title', 'user_not_found');
  }
  const refusal = refusalOf(auth.user, { action, person: target });
  if (refusal !== null) return refuse(request, reply, auth, action, refusal, target);
  request.target = target;
}

/**
 * A route-scoped refusal of linking a kind of device the person's organisation does not
 * allow (an app's set-up begun before the policy changed included).
 */
export function onlyIfAllowed(kind: DeviceKind) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (allowsKind(authOrThrow(request).organisation.allowedFactors, kind)) return;
    return renderError(
      request,
      reply,
      403,
      'factor_not_allowed_title',
      kind === 'totp' ? 'app_not_allowed' : 'key_not_allowed',
    );
  };
}

export const authPlugin = fp(async (app: FastifyInstance) => {
  app.decorateRequest('auth', null);
  app.decorateRequest('target', null);
  app.addHook('onRequest', guard);
  app.addHook('preHandler', targetGuard);
});

/** For handlers of routes whose access guarantees a session. */
export function authOrThrow(request: FastifyRequest): Auth {
  if (request.auth === null) throw new Error(`route ${request.routeOptions.url ?? ''} reached without a session`);
  return request.auth;
}

/** For handlers of routes whose action is on a person: the session and that person. */
export function authAndTargetOf(request: FastifyRequest): { auth: Auth; target: User } {
  const auth = authOrThrow(request);
  if (request.target === null) throw new Error(`route ${request.routeOptions.url ?? ''} reached without its person`);
  return { auth, target: request.target };
}
