// The person's recovery codes: how many are left, and a new set (step-up first), shown once.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { recoveryCodesFile } from '../../domain/recovery-codes.js';
import { issueRecoveryCodes, recoveryCodesLeft } from '../../services/recovery-codes.js';
import { authOrThrow } from '../plugins/auth.js';
import { formSchema } from '../form-schema.js';
import { message } from '../messages.js';
import { clientOf, pageContextOfEnrolled, renderError, renderPage, when } from '../respond.js';
import { newRecoveryCodesPage, recoveryCodesPage } from '../views/recovery-codes.js';

const TITLE = 'Recovery codes';

/** The codes as a downloadable file, in the page itself: they are never stored to be fetched again. */
export function downloadOf(codes: readonly string[], account: string, organisation: string, made: string): string {
  const text = recoveryCodesFile(codes, account, organisation, made);
  return `data:text/plain;charset=utf-8;base64,${Buffer.from(text, 'utf8').toString('base64')}`;
}

/**
 * A new set, shown once, with what just happened above it and where to go on to: the
 * answer to the form that made it (this page, or the link of a first device), so that the
 * codes are never in an address, a redirect or anything kept to be fetched again.
 */
export function showNewRecoveryCodes(
  request: FastifyRequest,
  reply: FastifyReply,
  codes: readonly string[],
  lead: string | null,
  next: string,
): FastifyReply {
  const auth = authOrThrow(request);
  const { deps } = request.server.twofold;
  const download = downloadOf(codes, auth.user.email, auth.organisation.name, when(request, deps.now()));
  return renderPage(
    request,
    reply,
    'Your recovery codes',
    () => newRecoveryCodesPage(codes, download, next, lead),
    200,
    pageContextOfEnrolled(request, reply),
  );
}

export async function recoveryCodeRoutes(app: FastifyInstance): Promise<void> {
  const { deps } = app.twofold;

  app.get('/2fa/recovery-codes', async (request, reply) => {
    const auth = authOrThrow(request);
    const left = await recoveryCodesLeft(auth.tenant, auth.user.id);
    const hasDevice = (await auth.tenant.devices.countConfirmed(auth.user.id)) > 0;
    return renderPage(request, reply, TITLE, (ctx) => recoveryCodesPage(ctx, left, hasDevice));
  });

  app.post(
    '/2fa/recovery-codes',
    { config: { stepUp: { returnTo: '/2fa/recovery-codes' } }, schema: formSchema({}) },
    async (request, reply) => {
      const auth = authOrThrow(request);
      if ((await auth.tenant.devices.countConfirmed(auth.user.id)) === 0) {
        return renderError(request, reply, 400, 'recovery_codes_need_device_title', 'recovery_codes_need_device');
      }
      const codes = await issueRecoveryCodes(deps, auth.tenant, auth.user, clientOf(request));
      return showNewRecoveryCodes(request, reply, codes, message('recovery_codes_replaced'), '/2fa');
    },
  );
}
