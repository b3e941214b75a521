// Super admins' page of email not sent, and sending a failed message again.
import type { FastifyInstance } from 'fastify';
import { sendMailAgain, unsentMail } from '../../services/mail.js';
import { formSchema, idParams } from '../form-schema.js';
import { message } from '../messages.js';
import { authOrThrow } from '../plugins/auth.js';
import { contextOf, redirectWithFlash, renderPage, when } from '../respond.js';
import { unsentMailPage } from '../views/admin-email.js';

export async function adminEmailRoutes(app: FastifyInstance): Promise<void> {
  const { deps } = app.twofold;
  const config = { action: 'manage-email' } as const;

  app.get('/admin/email', { config }, async (request, reply) => {
    const auth = authOrThrow(request);
    const mails = await unsentMail(auth.tenant);
    return renderPage(request, reply, 'Email not sent', (ctx) => unsentMailPage(ctx, mails, (at) => when(request, at)));
  });

  app.post<{ Params: { id: string } }>(
    '/admin/email/:id/send-again',
    { config, schema: { ...idParams, ...formSchema({}) } },
    async (request, reply) => {
      const auth = authOrThrow(request);
      const result = await sendMailAgain(deps, auth.tenant, contextOf(request), request.params.id);
      return redirectWithFlash(
        reply,
        '/admin/email',
        result.ok ? message('email_sent_again', { recipient: result.mail.recipient }) : message('email_not_failed'),
      );
    },
  );
}
