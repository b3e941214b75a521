// Linking a security key or passkey: at the setup screen a sign-in is held at, and on the
// 2FA page (asking who you are again first). The page hands out a challenge and its button
// has the browser make a key; the key's answer is checked and the key linked in one go.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { DeviceLinked } from '../../services/devices.js';
import { addSecurityKey, securityKeyCreation } from '../../services/security-keys.js';
import { formSchema } from '../form-schema.js';
import { message } from '../messages.js';
import { authOrThrow, onlyIfAllowed, type Access } from '../plugins/auth.js';
import { allowScriptsFromSelf, clientOf, renderPage } from '../respond.js';
import { newSecurityKeyForm } from '../views/security-keys.js';

export type OnLinked = (request: FastifyRequest, reply: FastifyReply, linked: DeviceLinked) => FastifyReply;

/** GET and POST `${base}/security-keys`; `onLinked` answers once the key is linked. */
export function securityKeyEnrolment(
  app: FastifyInstance,
  base: '/setup' | '/2fa',
  access: Access,
  onLinked: OnLinked,
) {
  const { deps } = app.twofold;
  const action = `${base}/security-keys`;
  // Adding a key to a signed-in account asks who you are again; the first device of a
  // sign-in held at the setup screen does not (the password was just given).
  const stepUp = base === '/2fa' ? { stepUp: {} } : {};

  const show = async (request: FastifyRequest, reply: FastifyReply, name: string, problem: string | null) => {
    const auth = authOrThrow(request);
    const options = await securityKeyCreation(deps, auth.tenant, auth.user, auth.organisation.name);
    allowScriptsFromSelf(reply);
    return renderPage(
      request,
      reply,
      'Add a security key or passkey',
      (ctx) => newSecurityKeyForm(ctx, action, options, name, problem, base),
      problem === null ? 200 : 400,
    );
  };

  const keysOnly = onlyIfAllowed('webauthn');
  app.get(action, { config: { access, ...stepUp }, preHandler: keysOnly }, (request, reply) =>
    show(request, reply, '', null),
  );

  app.post<{ Body: { name: string; answer?: string } }>(
    action,
    {
      config: { access, ...stepUp },
      schema: formSchema({ name: 200, answer: 12_000 }, ['answer']),
      preHandler: keysOnly,
    },
    async (request, reply) => {
      const auth = authOrThrow(request);
      const result = await addSecurityKey(
        deps,
        auth.tenant,
        auth.user,
        auth.session,
        { name: request.body.name, answer: request.body.answer ?? '' },
        clientOf(request),
        base === '/setup',
      );
      if (result.ok) return onLinked(request, reply, result);
      return show(request, reply, request.body.name, message(result.problem));
    },
  );
}
