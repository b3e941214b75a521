// The user's "Two-Factor Authentication (2FA)" page, and the setup screen a login is held
// at when a device must be linked before anything else.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { mayRemoveDevice, type TwoFactorStatus } from '../../domain/enforcement.js';
import {
  confirmDevice,
  pendingDevice,
  removeDevice,
  startLinkingDevice,
  type DeviceLinked,
} from '../../services/devices.js';
import { authOrThrow, onlyIfAllowed, type Access } from '../plugins/auth.js';
import { formSchema, idParams } from '../form-schema.js';
import {
  clientOf,
  isReturnPath,
  redirectWithFlash,
  rememberReturn,
  renderError,
  renderPage,
  setSessionCookie,
  takeReturn,
  when,
} from '../respond.js';
import { message, secondFactorProblemMessage, setupReasonMessage } from '../messages.js';
import { recoveryCodesLeft } from '../../services/recovery-codes.js';
import { securityKeyEnrolment, type OnLinked } from './security-keys.js';
import { html } from '../views/html.js';
import { recoveryCodesSummary } from '../views/recovery-codes.js';
import { allowsKind } from '../../domain/factor-policy.js';
import { showNewRecoveryCodes } from './recovery-codes.js';
import {
  addDeviceForm,
  APPS_SENTENCE,
  confirmDeviceSteps,
  keysOnlySetup,
  devicesTable,
  removeDeviceConfirmation,
} from '../views/two-factor.js';

function statusSentence(request: FastifyRequest, status: TwoFactorStatus): string {
  switch (status.kind) {
    case 'enrolled':
      return message(status.required ? 'status_enrolled_required' : 'status_enrolled_optional');
    case 'not_required':
      return message('status_not_required');
    case 'grace':
      return message('status_grace', { deadline: when(request, status.deadline) });
    case 'must_set_up':
      return setupReasonMessage(status.reason);
    case 'blocked':
      return message('status_blocked');
  }
}

/**
 * On to `next` (the account, the 2FA page, or the application or site that sent the person)
 * with what happened; by way of the recovery codes that came with a first device, shown
 * once as the answer to the confirming form, with a link on to `next`.
 */
function goOnAfterLinking(
  request: FastifyRequest,
  reply: FastifyReply,
  linked: DeviceLinked,
  said: string,
  next: string,
): FastifyReply {
  if (linked.recoveryCodes === null) return redirectWithFlash(reply, next, said);
  return showNewRecoveryCodes(request, reply, linked.recoveryCodes, said, next);
}

/** The add / confirm steps, mounted under /setup (during login) and /2fa (signed in). */
function enrolmentSteps(app: FastifyInstance, base: '/setup' | '/2fa', access: Access, onConfirmed: OnLinked) {
  const { deps } = app.twofold;
  // Adding a device to a signed-in account asks who you are again; the first device of a
  // login held at the setup screen does not (the password was just given).
  const stepUpFor = (returnTo?: string) =>
    base === '/2fa' ? { stepUp: returnTo === undefined ? {} : { returnTo } } : {};
  const title = base === '/setup' ? 'Set up two-factor authentication' : 'Add a device';
  const appsOnly = onlyIfAllowed('totp');

  app.post<{ Body: { name: string } }>(
    `${base}/devices`,
    { config: { access, ...stepUpFor('/2fa') }, schema: formSchema({ name: 200 }), preHandler: appsOnly },
    async (request, reply) => {
      const auth = authOrThrow(request);
      const result = await startLinkingDevice(deps, auth.tenant, auth.user, request.body.name);
      if (!result.ok) {
        return renderPage(
          request,
          reply,
          title,
          (ctx) => addDeviceForm(ctx, `${base}/devices`, request.body.name, message(result.problem)),
          400,
        );
      }
      return reply.redirect(`${base}/devices/${result.deviceId}`, 303);
    },
  );

  const showConfirm = async (
    request: FastifyRequest<{ Params: { id: string } }>,
    reply: FastifyReply,
    problem?: string,
  ) => {
    const auth = authOrThrow(request);
    const pending = await pendingDevice(deps, auth.tenant, auth.organisation, auth.user, request.params.id);
    if (pending === null) {
      return redirectWithFlash(reply, base, message('setup_gone'));
    }
    return renderPage(
      request,
      reply,
      `Link ${pending.device.name}`,
      (ctx) => confirmDeviceSteps(ctx, `${base}/devices/${pending.device.id}`, pending, problem, base),
      problem ? 400 : 200,
    );
  };

  app.get<{ Params: { id: string } }>(
    `${base}/devices/:id`,
    { config: { access, ...stepUpFor() }, schema: idParams, preHandler: appsOnly },
    (request, reply) => showConfirm(request, reply),
  );

  app.post<{ Params: { id: string }; Body: { code: string } }>(
    `${base}/devices/:id`,
    {
      config: { access, ...stepUpFor() },
      schema: { ...idParams, ...formSchema({ code: 100 }) },
      preHandler: appsOnly,
    },
    async (request, reply) => {
      const auth = authOrThrow(request);
      const result = await confirmDevice(
        deps,
        auth.tenant,
        auth.user,
        auth.session,
        request.params.id,
        request.body.code,
        clientOf(request),
        base === '/setup',
      );
      if (result.ok) return onConfirmed(request, reply, result);
      if (result.reason === 'gone') return showConfirm(request, reply);
      return showConfirm(
        request,
        reply,
        secondFactorProblemMessage(result.problem, (at) => when(request, at)),
      );
    },
  );
}

export async function twoFactorRoutes(app: FastifyInstance): Promise<void> {
  const { deps, cookies } = app.twofold;

  app.get('/setup', { config: { access: 'setup' } }, async (request, reply) => {
    const auth = authOrThrow(request);
    const allowed = auth.organisation.allowedFactors;
    const lead = auth.mustAddAllowedDevice
      ? message(allowsKind(allowed, 'webauthn') ? 'setup_add_allowed_key' : 'setup_add_allowed_app')
      : statusSentence(request, auth.status);
    if (!allowsKind(allowed, 'totp')) {
      return renderPage(request, reply, 'Add a security key or passkey', () =>
        keysOnlySetup(lead, auth.confirmedKeys > 0),
      );
    }
    return renderPage(
      request,
      reply,
      'Set up two-factor authentication',
      (ctx) =>
        html` <p class="lead">${lead}</p>
          <ol class="steps">
            <li>Install an authenticator app on your phone if you do not have one. ${APPS_SENTENCE}</li>
            <li>
              Name the device you will use, and press Add. You will see a QR code to scan with the app, and a key to
              type if you cannot scan.
            </li>
            <li>
              Enter the 6-digit code the app shows to confirm. Then you are signed in, and from now on you give a code
              at every sign-in.
            </li>
            <li>Keep the ten recovery codes you are then shown: they sign you in if you lose the device.</li>
          </ol>
          ${addDeviceForm(ctx, '/setup/devices', '', undefined)}
          ${
            allowsKind(allowed, 'webauthn')
              ? html`<p>
                  Or, instead of an app: <a href="/setup/security-keys">use a security key or passkey</a> (a key such
                  as a YubiKey, or the passkeys of your phone, computer or password manager).
                </p>`
              : ''
          }`,
    );
  });

  const linkedAtSetup: OnLinked = (request, reply, linked) => {
    if (linked.signedInToken === null) throw new Error('a device linked at the setup screen signed no one in');
    setSessionCookie(reply, cookies, linked.signedInToken);
    const next = takeReturn(request, reply) ?? '/account';
    return goOnAfterLinking(
      request,
      reply,
      linked,
      message('device_linked_signed_in', { device: linked.deviceName }),
      next,
    );
  };
  enrolmentSteps(app, '/setup', 'setup', linkedAtSetup);
  securityKeyEnrolment(app, '/setup', 'setup', linkedAtSetup);

  app.get<{ Querystring: { back?: string } }>('/2fa', async (request, reply) => {
    const auth = authOrThrow(request);
    // From the reminder on the way to an application: once a device is linked, back there.
    const back = request.query.back;
    if (typeof back === 'string' && isReturnPath(back)) rememberReturn(reply, back);
    const devices = (await auth.tenant.devices.listForUser(auth.user.id)).filter((d) => d.confirmedAt !== null);
    const lastDeviceStays = !mayRemoveDevice(auth.organisation.policy, auth.user.twoFactor, devices.length, true).ok;
    const codesLeft = await recoveryCodesLeft(auth.tenant, auth.user.id);
    const allowed = auth.organisation.allowedFactors;
    return renderPage(
      request,
      reply,
      'Two-Factor Authentication (2FA)',
      (ctx) =>
        html` <p class="lead">${statusSentence(request, auth.status)}</p>
          ${devicesTable(ctx, devices, (at) => when(request, at), lastDeviceStays)}
          <h2 id="add-device">Add a device</h2>
          ${
            allowsKind(allowed, 'totp')
              ? html`<p>
                    Link an authenticator app on your phone or computer. ${APPS_SENTENCE} You can link several devices,
                    and sign in with a code from any of them.
                  </p>
                  ${addDeviceForm(ctx, '/2fa/devices', '', undefined)}`
              : html`<p>${message('app_not_allowed')}</p>`
          }
          <h2 id="add-security-key">Add a security key or passkey</h2>
          ${
            allowsKind(allowed, 'webauthn')
              ? html`<p>
                  A security key or a passkey signs you in with a touch or your screen lock, and a fake sign-in page
                  cannot trick it. <a href="/2fa/security-keys">Add a security key or passkey</a>
                </p>`
              : html`<p>${message('key_not_allowed')}</p>`
          }
          <h2 id="recovery-codes">Recovery codes</h2>
          ${recoveryCodesSummary(codesLeft, devices.length > 0)}`,
    );
  });

  const linkedOnTwoFactorPage: OnLinked = (request, reply, linked) =>
    goOnAfterLinking(
      request,
      reply,
      linked,
      message('device_linked', { device: linked.deviceName }),
      takeReturn(request, reply) ?? '/2fa',
    );
  enrolmentSteps(app, '/2fa', 'signed_in', linkedOnTwoFactorPage);
  securityKeyEnrolment(app, '/2fa', 'signed_in', linkedOnTwoFactorPage);

  const removal = { config: { stepUp: {} }, schema: idParams };
  app.get<{ Params: { id: string } }>('/2fa/devices/:id/remove', removal, async (request, reply) => {
    const auth = authOrThrow(request);
    const found = await auth.tenant.devices.findForUser(auth.user.id, request.params.id);
    if (!found) return renderError(request, reply, 404, 'device_not_found_title', 'own_device_not_found');
    const confirmed = await auth.tenant.devices.countConfirmed(auth.user.id);
    const removal = mayRemoveDevice(
      auth.organisation.policy,
      auth.user.twoFactor,
      confirmed,
      found.device.confirmedAt !== null,
    );
    const title = removal.ok ? `Remove ${found.device.name}` : `${found.device.name} cannot be removed`;
    return renderPage(request, reply, title, (ctx) => removeDeviceConfirmation(ctx, found.device, removal));
  });

  app.post<{ Params: { id: string } }>(
    '/2fa/devices/:id/remove',
    { config: { stepUp: {} }, schema: { ...idParams, ...formSchema({}) } },
    async (request, reply) => {
      const auth = authOrThrow(request);
      const context = { actor: auth.user, client: clientOf(request) };
      const result = await removeDevice(deps, auth.organisation, auth.user, request.params.id, context);
      if (!result.ok && result.reason === 'not_found') {
        return renderError(request, reply, 404, 'device_not_found_title', 'own_device_not_found');
      }
      if (!result.ok) {
        return redirectWithFlash(reply, '/2fa', message('last_device_stays'));
      }
      const device = result.deviceName;
      return redirectWithFlash(
        reply,
        '/2fa',
        message(result.turnedOffTwoFactor ? 'device_removed_turned_off' : 'device_removed', { device }),
      );
    },
  );
}
