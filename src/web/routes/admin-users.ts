// Admins' users pages: list, create, edit, 2FA requirement, reset, set-password links.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { mayRemoveDevice, policyPhase, type OrganisationPolicy } from '../../domain/enforcement.js';
import { parseLocalDateTime, toLocalInputValue } from '../../domain/time-zones.js';
import type { User } from '../../domain/users.js';
import {
  createUser,
  INVITE_LINK_DAYS,
  issueResetLink,
  listUsers,
  overviewOf,
  RESET_LINK_HOURS,
  resetTwoFactor,
  unlockSecondFactor,
  setUserRequirement,
  updateUser,
  type FieldProblems,
} from '../../services/administration.js';
import { message, sentencesOf, type SentenceCode } from '../messages.js';
import { addMinutes } from '../../services/deps.js';
import { USERS_PAGE_SIZE } from '../../store/users.js';
import { authAndTargetOf, authOrThrow, type Auth } from '../plugins/auth.js';
import { formSchema, idParams, pageNumberOf } from '../form-schema.js';
import { contextOf, redirectWithFlash, renderError, renderPage, when } from '../respond.js';
import { removeDevice } from '../../services/devices.js';
import { linkIssued, newUserForm } from '../views/admin-new-user.js';
import type { ProfileValues } from '../views/admin-parts.js';
import { removeUserDeviceConfirmation, resetConfirmation } from '../views/admin-user-confirmations.js';
import { userPage, type UserPageData } from '../views/admin-user.js';
import { usersList } from '../views/admin-users.js';

/** The organisation-wide requirement as a user's page tells it. */
function requirementOf(policy: OrganisationPolicy, now: Date): UserPageData['requirement'] {
  const phase = policyPhase(policy, now);
  return phase === 'off' || policy.requireAllFrom === null ? { phase: 'off' } : { phase, start: policy.requireAllFrom };
}

export async function adminUserRoutes(app: FastifyInstance): Promise<void> {
  const { deps, publicUrl } = app.twofold;

  async function showUser(
    request: FastifyRequest,
    reply: FastifyReply,
    auth: Auth,
    target: User,
    values: ProfileValues | null,
    problems: Partial<Record<keyof FieldProblems, SentenceCode>>,
    deadlineValue: string | null,
  ) {
    const devices = (await auth.tenant.devices.listForUser(target.id)).filter((d) => d.confirmedAt !== null);
    const tz = auth.organisation.timeZone;
    const overview = overviewOf(auth.organisation, target, devices.length, deps.now());
    const deadline = target.twoFactor.personalDeadline;
    const codeAttempts = await auth.tenant.users.codeAttemptsOf(target.id);
    const recoveryCodesLeft = await auth.tenant.recoveryCodes.countUnused(target.id);
    return renderPage(
      request,
      reply,
      target.name,
      (ctx) =>
        userPage(
          ctx,
          {
            actor: auth.user,
            overview,
            devices,
            recoveryCodesLeft,
            codeAttempts,
            now: deps.now(),
            values: values ?? { name: target.name, email: target.email, role: target.role, status: target.status },
            problems: sentencesOf(problems),
            deadlineValue: deadlineValue ?? (deadline === null ? '' : toLocalInputValue(deadline, tz)),
            timeZone: tz,
            requirement: requirementOf(auth.organisation.policy, deps.now()),
            lastDeviceStays: !mayRemoveDevice(auth.organisation.policy, target.twoFactor, devices.length, true).ok,
          },
          (at) => when(request, at),
        ),
      Object.keys(problems).length > 0 ? 400 : 200,
    );
  }

  app.get<{ Querystring: { q?: string; page?: string; without?: string } }>(
    '/admin/users',
    {
      config: { action: 'list-users' },
      schema: {
        querystring: {
          type: 'object',
          properties: {
            q: { type: 'string', maxLength: 200 },
            page: { type: 'string', maxLength: 9 },
            without: { type: 'string', maxLength: 10 },
          },
        },
      },
    },
    async (request, reply) => {
      const auth = authOrThrow(request);
      const search = request.query.q ?? '';
      const page = pageNumberOf(request.query.page);
      const withoutTwoFactor = request.query.without === '2fa';
      const { users, total } = await listUsers(deps, auth.tenant, auth.organisation, search, page, {
        withoutTwoFactor,
      });
      const pages = Math.max(1, Math.ceil(total / USERS_PAGE_SIZE));
      return renderPage(request, reply, 'Users', (ctx) =>
        usersList(ctx, auth.user, users, { search, withoutTwoFactor }, page, pages, total, (at) => when(request, at)),
      );
    },
  );

  app.get('/admin/users/new', { config: { action: 'create-user' } }, async (request, reply) => {
    const auth = authOrThrow(request);
    return renderPage(request, reply, 'Add a user', (ctx) =>
      newUserForm(ctx, auth.user.role, { name: '', email: '', role: 'user', status: 'active' }, {}),
    );
  });

  app.post<{ Body: { name: string; email: string; role: string } }>(
    '/admin/users',
    { config: { action: 'create-user' }, schema: formSchema({ name: 300, email: 300, role: 20 }) },
    async (request, reply) => {
      const auth = authOrThrow(request);
      const result = await createUser(deps, auth.tenant, contextOf(request), request.body);
      if (!result.ok) {
        return renderPage(
          request,
          reply,
          'Add a user',
          (ctx) =>
            newUserForm(ctx, auth.user.role, { ...request.body, status: 'active' }, sentencesOf(result.problems)),
          400,
        );
      }
      const user = await auth.tenant.users.findById(result.userId);
      if (user === null) throw new Error('created user not found');
      const validUntil = when(request, addMinutes(deps.now(), INVITE_LINK_DAYS * 24 * 60));
      return renderPage(
        request,
        reply,
        `${user.name} is added`,
        () => linkIssued(user, `${publicUrl}/set-password/${result.linkToken}`, validUntil, 'invite'),
        201,
      );
    },
  );

  app.get<{ Params: { id: string } }>(
    '/admin/users/:id',
    { config: { action: 'view-user' }, schema: idParams },
    async (request, reply) => {
      const { auth, target } = authAndTargetOf(request);
      return showUser(request, reply, auth, target, null, {}, null);
    },
  );

  app.post<{ Params: { id: string }; Body: { name: string; email: string; role: string; status: string } }>(
    '/admin/users/:id',
    {
      config: { action: 'edit-profile' },
      schema: { ...idParams, ...formSchema({ name: 300, email: 300, role: 20, status: 20 }) },
    },
    async (request, reply) => {
      const found = authAndTargetOf(request);
      const result = await updateUser(deps, found.auth.organisation, contextOf(request), found.target, request.body);
      if (!result.ok) return showUser(request, reply, found.auth, found.target, request.body, result.problems, null);
      return redirectWithFlash(reply, `/admin/users/${found.target.id}`, message('profile_saved'));
    },
  );

  app.post<{ Params: { id: string }; Body: { required?: string; deadline: string } }>(
    '/admin/users/:id/2fa',
    {
      config: { action: 'set-2fa-requirement' },
      schema: { ...idParams, ...formSchema({ required: 10, deadline: 40 }, ['required']) },
    },
    async (request, reply) => {
      const found = authAndTargetOf(request);
      const tz = found.auth.organisation.timeZone;
      const text = request.body.deadline.trim();
      const deadline = text === '' ? null : parseLocalDateTime(text, tz);
      if (text !== '' && deadline === null) {
        return showUser(request, reply, found.auth, found.target, null, { deadline: 'deadline_unreadable' }, text);
      }
      const result = await setUserRequirement(deps, found.auth.tenant, contextOf(request), found.target, {
        required: request.body.required === 'yes',
        personalDeadline: deadline,
      });
      if (!result.ok) return showUser(request, reply, found.auth, found.target, null, result.problems, text);
      return redirectWithFlash(reply, `/admin/users/${found.target.id}`, message('requirement_saved'));
    },
  );

  app.get<{ Params: { id: string } }>(
    '/admin/users/:id/reset-2fa',
    { config: { action: 'reset-2fa' }, schema: idParams },
    async (request, reply) => {
      const found = authAndTargetOf(request);
      const count = await found.auth.tenant.devices.countConfirmed(found.target.id);
      return renderPage(request, reply, 'Reset 2FA', (ctx) => resetConfirmation(ctx, found.target, count));
    },
  );

  app.post<{ Params: { id: string } }>(
    '/admin/users/:id/reset-2fa',
    { config: { action: 'reset-2fa' }, schema: { ...idParams, ...formSchema({}) } },
    async (request, reply) => {
      const found = authAndTargetOf(request);
      await resetTwoFactor(deps, found.auth.tenant, contextOf(request), found.target);
      return redirectWithFlash(
        reply,
        `/admin/users/${found.target.id}`,
        message('two_factor_reset_done', { name: found.target.name }),
      );
    },
  );

  app.post<{ Params: { id: string } }>(
    '/admin/users/:id/password-link',
    { config: { action: 'issue-password-link' }, schema: { ...idParams, ...formSchema({}) } },
    async (request, reply) => {
      const found = authAndTargetOf(request);
      const token = await issueResetLink(deps, found.auth.tenant, contextOf(request), found.target);
      const validUntil = when(request, addMinutes(deps.now(), RESET_LINK_HOURS * 60));
      return renderPage(request, reply, 'Set-password link', () =>
        linkIssued(found.target, `${publicUrl}/set-password/${token}`, validUntil, 'reset'),
      );
    },
  );

  app.post<{ Params: { id: string } }>(
    '/admin/users/:id/unlock-2fa',
    { config: { action: 'unlock-2fa' }, schema: { ...idParams, ...formSchema({}) } },
    async (request, reply) => {
      const found = authAndTargetOf(request);
      await unlockSecondFactor(deps, found.auth.tenant, contextOf(request), found.target);
      return redirectWithFlash(
        reply,
        `/admin/users/${found.target.id}`,
        message('second_factor_unlocked', { name: found.target.name }),
      );
    },
  );

  type DeviceRequest = FastifyRequest<{ Params: { id: string; deviceId: string } }>;
  const deviceParams = {
    params: {
      type: 'object',
      properties: { id: { type: 'string', maxLength: 64 }, deviceId: { type: 'string', maxLength: 64 } },
      required: ['id', 'deviceId'],
    },
  } as const;

  async function deviceOf(request: DeviceRequest, reply: FastifyReply) {
    const found = authAndTargetOf(request);
    const device = await found.auth.tenant.devices.findForUser(found.target.id, request.params.deviceId);
    if (device === null || device.device.confirmedAt === null) {
      await renderError(request, reply, 404, 'device_not_found_title', 'user_device_not_found');
      return null;
    }
    return { ...found, device: device.device };
  }

  app.get<{ Params: { id: string; deviceId: string } }>(
    '/admin/users/:id/devices/:deviceId/remove',
    { config: { action: 'remove-device' }, schema: deviceParams },
    async (request, reply) => {
      const found = await deviceOf(request, reply);
      if (found === null) return reply;
      const confirmed = await found.auth.tenant.devices.countConfirmed(found.target.id);
      const removal = mayRemoveDevice(found.auth.organisation.policy, found.target.twoFactor, confirmed, true);
      const title = removal.ok ? `Remove ${found.device.name}` : `${found.device.name} cannot be removed`;
      return renderPage(request, reply, title, (ctx) =>
        removeUserDeviceConfirmation(ctx, found.target, found.device, removal),
      );
    },
  );

  app.post<{ Params: { id: string; deviceId: string } }>(
    '/admin/users/:id/devices/:deviceId/remove',
    { config: { action: 'remove-device' }, schema: { ...deviceParams, ...formSchema({}) } },
    async (request, reply) => {
      const found = await deviceOf(request, reply);
      if (found === null) return reply;
      const result = await removeDevice(
        deps,
        found.auth.organisation,
        found.target,
        found.device.id,
        contextOf(request),
      );
      const back = `/admin/users/${found.target.id}`;
      if (!result.ok) {
        return redirectWithFlash(
          reply,
          back,
          message('user_last_device_stays', { device: found.device.name, name: found.target.name }),
        );
      }
      return redirectWithFlash(
        reply,
        back,
        message('user_device_removed', { device: found.device.name, name: found.target.name }),
      );
    },
  );
}
