// The Applications page (super admins): the organisation's OpenID Connect applications,
// registering one, changing it, replacing its secret, deleting it; and the sites a reverse
// proxy protects with Twofold, adding and deleting them.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Application, ApplicationProblems } from '../../domain/applications.js';
import {
  createApplication,
  deleteApplication,
  rotateApplicationSecret,
  updateApplication,
  type ApplicationInput,
} from '../../services/applications.js';
import { addSite, deleteSite } from '../../services/sites.js';
import { authOrThrow, type Auth } from '../plugins/auth.js';
import { formSchema, idParams } from '../form-schema.js';
import { message } from '../messages.js';
import { contextOf, redirectWithFlash, renderError, renderPage, when } from '../respond.js';
import {
  applicationsPage,
  changeApplicationPage,
  credentialsIssued,
  deleteConfirmation,
  deleteSiteConfirmation,
  EMPTY_FORMS,
  rotateConfirmation,
  type ApplicationSentences,
  type ApplicationsForms,
  type ApplicationValues,
  valuesOf,
} from '../views/admin-applications.js';

/** What an application's form sends; a browser leaves out a box not ticked. */
interface ApplicationForm {
  name: string;
  redirectUris: string;
  postLogoutRedirectUris: string;
  requireTwoFactor?: string;
  requirePhishingResistant?: string;
  idTokenSigningAlg?: string;
}

const applicationFormSchema = formSchema(
  {
    name: 300,
    redirectUris: 6000,
    postLogoutRedirectUris: 6000,
    requireTwoFactor: 10,
    requirePhishingResistant: 10,
    idTokenSigningAlg: 10,
  },
  ['requireTwoFactor', 'requirePhishingResistant', 'idTokenSigningAlg'],
);

/** The lines of a textarea that hold something. */
function linesOf(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '');
}

/** The form as typed, to show again; without a signature chosen, `alg` is ticked. */
function valuesOfForm(body: ApplicationForm, alg: string): ApplicationValues {
  return {
    name: body.name,
    redirectUris: body.redirectUris,
    postLogoutRedirectUris: body.postLogoutRedirectUris,
    requireTwoFactor: body.requireTwoFactor === 'yes',
    requirePhishingResistant: body.requirePhishingResistant === 'yes',
    idTokenSigningAlg: body.idTokenSigningAlg ?? alg,
  };
}

/** Without a signature chosen, a new application signs with RS256 and a changed one as it did. */
function inputOf(body: ApplicationForm): ApplicationInput {
  return {
    name: body.name,
    redirectUris: linesOf(body.redirectUris),
    postLogoutRedirectUris: linesOf(body.postLogoutRedirectUris),
    requireTwoFactor: body.requireTwoFactor === 'yes',
    requirePhishingResistant: body.requirePhishingResistant === 'yes',
    idTokenSigningAlg: body.idTokenSigningAlg,
  };
}

function applicationSentences(problems: ApplicationProblems): ApplicationSentences {
  const sentences: ApplicationSentences = {};
  if (problems.name !== undefined) sentences.name = message(problems.name);
  if (problems.idTokenSigningAlg !== undefined) sentences.idTokenSigningAlg = message(problems.idTokenSigningAlg);
  for (const field of ['redirectUris', 'postLogoutRedirectUris'] as const) {
    const problem = problems[field];
    if (problem === undefined) continue;
    sentences[field] =
      problem.uri === null
        ? message(problem.problem)
        : `${message(problem.problem)} ${message('address_not_accepted', { uri: problem.uri })}`;
  }
  return sentences;
}

export async function adminApplicationRoutes(app: FastifyInstance): Promise<void> {
  const { deps } = app.twofold;
  const config = { action: 'manage-applications' } as const;

  async function show(request: FastifyRequest, reply: FastifyReply, auth: Auth, forms: ApplicationsForms) {
    const applications = await auth.tenant.applications.list();
    const sites = await auth.tenant.sites.list();
    const refused = Object.keys(forms.application.problems).length + Object.keys(forms.site.problems).length > 0;
    return renderPage(
      request,
      reply,
      'Applications',
      (ctx) => applicationsPage(ctx, applications, sites, forms, (at) => when(request, at)),
      refused ? 400 : 200,
    );
  }

  const notFound = (request: FastifyRequest, reply: FastifyReply) =>
    renderError(request, reply, 404, 'application_not_found_title', 'application_not_found');

  /** The application of the path, in the actor's own organisation; anyone else's is not found. */
  async function applicationOf(
    request: FastifyRequest<{ Params: { id: string } }>,
    reply: FastifyReply,
  ): Promise<{ auth: Auth; application: Application } | null> {
    const auth = authOrThrow(request);
    const application = await auth.tenant.applications.find(request.params.id);
    if (application === null) {
      await notFound(request, reply);
      return null;
    }
    return { auth, application };
  }

  app.get('/admin/applications', { config }, (request, reply) =>
    show(request, reply, authOrThrow(request), EMPTY_FORMS),
  );

  app.post<{ Body: ApplicationForm }>(
    '/admin/applications',
    { config, schema: applicationFormSchema },
    async (request, reply) => {
      const auth = authOrThrow(request);
      const result = await createApplication(deps, auth.tenant, contextOf(request), inputOf(request.body));
      if (!result.ok) {
        const values = valuesOfForm(request.body, 'RS256');
        const problems = applicationSentences(result.problems);
        return show(request, reply, auth, { ...EMPTY_FORMS, application: { values, problems } });
      }
      return renderPage(
        request,
        reply,
        `${result.application.name} is registered`,
        () => credentialsIssued(result.application, result.clientSecret, false),
        201,
      );
    },
  );

  app.get<{ Params: { id: string } }>(
    '/admin/applications/:id/edit',
    { config, schema: idParams },
    async (request, reply) => {
      const found = await applicationOf(request, reply);
      if (found === null) return reply;
      const { application } = found;
      return renderPage(request, reply, `Change ${application.name}`, (ctx) =>
        changeApplicationPage(ctx, application, { values: valuesOf(application), problems: {} }),
      );
    },
  );

  app.post<{ Params: { id: string }; Body: ApplicationForm }>(
    '/admin/applications/:id/edit',
    { config, schema: { ...idParams, ...applicationFormSchema } },
    async (request, reply) => {
      // The service finds the application in its own transaction, in the actor's organisation only.
      const { tenant } = authOrThrow(request);
      const { body } = request;
      const result = await updateApplication(deps, tenant, contextOf(request), request.params.id, inputOf(body));
      switch (result.kind) {
        case 'not_found':
          return notFound(request, reply);
        case 'refused': {
          const { application } = result;
          const form = {
            values: valuesOfForm(body, application.idTokenSigningAlg),
            problems: applicationSentences(result.problems),
          };
          return renderPage(
            request,
            reply,
            `Change ${application.name}`,
            (ctx) => changeApplicationPage(ctx, application, form),
            400,
          );
        }
        case 'unchanged':
          return redirectWithFlash(
            reply,
            '/admin/applications',
            message('application_unchanged', { name: result.application.name }),
          );
        case 'changed':
          return redirectWithFlash(
            reply,
            '/admin/applications',
            message('application_changed', { name: result.application.name }),
          );
      }
    },
  );

  app.get<{ Params: { id: string } }>(
    '/admin/applications/:id/rotate-secret',
    { config, schema: idParams },
    async (request, reply) => {
      const found = await applicationOf(request, reply);
      if (found === null) return reply;
      return renderPage(request, reply, `Replace the secret of ${found.application.name}`, (ctx) =>
        rotateConfirmation(ctx, found.application),
      );
    },
  );

  app.post<{ Params: { id: string } }>(
    '/admin/applications/:id/rotate-secret',
    { config, schema: { ...idParams, ...formSchema({}) } },
    async (request, reply) => {
      // The service finds the application in its own transaction, in the actor's organisation only.
      const { tenant } = authOrThrow(request);
      const rotated = await rotateApplicationSecret(deps, tenant, contextOf(request), request.params.id);
      if (rotated === null) return notFound(request, reply);
      return renderPage(request, reply, `New secret for ${rotated.application.name}`, () =>
        credentialsIssued(rotated.application, rotated.clientSecret, true),
      );
    },
  );

  app.get<{ Params: { id: string } }>(
    '/admin/applications/:id/delete',
    { config, schema: idParams },
    async (request, reply) => {
      const found = await applicationOf(request, reply);
      if (found === null) return reply;
      return renderPage(request, reply, `Delete ${found.application.name}`, (ctx) =>
        deleteConfirmation(ctx, found.application),
      );
    },
  );

  app.post<{ Params: { id: string } }>(
    '/admin/applications/:id/delete',
    { config, schema: { ...idParams, ...formSchema({}) } },
    async (request, reply) => {
      const { tenant } = authOrThrow(request);
      const deleted = await deleteApplication(deps, tenant, contextOf(request), request.params.id);
      if (deleted === null) return notFound(request, reply);
      return redirectWithFlash(reply, '/admin/applications', message('application_deleted', { name: deleted.name }));
    },
  );
  app.post<{ Body: { host: string; requireTwoFactor?: string } }>(
    '/admin/applications/sites',
    { config, schema: formSchema({ host: 300, requireTwoFactor: 10 }, ['requireTwoFactor']) },
    async (request, reply) => {
      const auth = authOrThrow(request);
      const values = { host: request.body.host, requireTwoFactor: request.body.requireTwoFactor === 'yes' };
      const result = await addSite(deps, auth.tenant, contextOf(request), values);
      if (!result.ok) {
        return show(request, reply, auth, {
          ...EMPTY_FORMS,
          site: { values, problems: { host: message(result.problem) } },
        });
      }
      return redirectWithFlash(reply, '/admin/applications#sites', message('site_added', { host: result.site.host }));
    },
  );

  const siteNotFound = (request: FastifyRequest, reply: FastifyReply) =>
    renderError(request, reply, 404, 'site_not_found_title', 'site_not_found');

  app.get<{ Params: { id: string } }>(
    '/admin/applications/sites/:id/delete',
    { config, schema: idParams },
    async (request, reply) => {
      // In the actor's own organisation only: anyone else's site is not found.
      const site = await authOrThrow(request).tenant.sites.find(request.params.id);
      if (site === null) return siteNotFound(request, reply);
      return renderPage(request, reply, `Delete ${site.host}`, (ctx) => deleteSiteConfirmation(ctx, site));
    },
  );

  app.post<{ Params: { id: string } }>(
    '/admin/applications/sites/:id/delete',
    { config, schema: { ...idParams, ...formSchema({}) } },
    async (request, reply) => {
      const { tenant } = authOrThrow(request);
      const deleted = await deleteSite(deps, tenant, contextOf(request), { id: request.params.id });
      if (deleted === null) return siteNotFound(request, reply);
      return redirectWithFlash(reply, '/admin/applications#sites', message('site_deleted', { host: deleted.host }));
    },
  );
}
