// Builds the Fastify application from a configuration and the services' dependencies.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import fastifyCookie from '@fastify/cookie';
import fastifyCsrf from '@fastify/csrf-protection';
import fastifyFormbody from '@fastify/formbody';
import { fastifyHelmet } from '@fastify/helmet';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply } from 'fastify';
import { WrongSecretKeyError } from '../domain/secret-box.js';
import type { Deps } from '../services/deps.js';
import { databaseFaultOf, FAULT_ANSWERS, faultDetailOf } from './database-faults.js';
import { keyFor } from './keys.js';
import { createMetrics } from './metrics.js';
import { audienceOf, authPlugin, type Audience } from './plugins/auth.js';
import { operationsPlugin, requestIdOf } from './plugins/operations.js';
import { cookieNamesFor, cookieOptionsOf, renderError, type CookieNames } from './respond.js';
import { accountRoutes } from './routes/account.js';
import { adminApplicationRoutes } from './routes/admin-applications.js';
import { adminAuditRoutes } from './routes/admin-audit.js';
import { adminEmailRoutes } from './routes/admin-email.js';
import { adminPolicyRoutes } from './routes/admin-policy.js';
import { adminUserRoutes } from './routes/admin-users.js';
import { forgottenPasswordRoutes } from './routes/forgotten-password.js';
import { forwardAuthRoutes } from './routes/forward-auth.js';
import { loginRoutes } from './routes/login.js';
import { applicationSignIns, oidcRoutes } from './routes/oidc.js';
import { recoveryCodeRoutes } from './routes/recovery-codes.js';
import { sessionRoutes } from './routes/sessions.js';
import { twoFactorRoutes } from './routes/two-factor.js';

export interface AppOptions {
  deps: Deps;
  publicUrl: string;
  secureCookies: boolean;
  /** TWOFOLD_COOKIE_DOMAIN: the Domain of every cookie, for sites behind a proxy on other hosts under it. */
  cookieDomain?: string | null;
  trustProxy: boolean;
  /** false for none, or pino options; set-password tokens are always kept out of it. */
  logger: false | { level: string; stream?: { write(line: string): void } };
  /** Serve Prometheus metrics at /metrics (TWOFOLD_METRICS); without it /metrics is not found. */
  metrics?: boolean;
}

/** Set-password tokens travel in the path: the log never sees them. */
function requestForLog(request: { method: string; url: string; id?: string }) {
  return { method: request.method, url: request.url.replace(/\/set-password\/[^/?#]+/, '/set-password/[redacted]') };
}

/** Every route and who it admits, for the authorization matrix test. */
export interface RouteInfo {
  method: string;
  url: string;
  access: Audience;
  stepUp: boolean;
}

declare module 'fastify' {
  interface FastifyInstance {
    twofold: { deps: Deps; cookies: CookieNames; publicUrl: string; routes: RouteInfo[] };
  }
}

const PLAIN_BAD_REQUEST =
  '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Bad request · Twofold</title></head>' +
  '<body><main><h1>Bad request</h1><p>This address cannot be understood. <a href="/">Go to the start page</a></p></main></body></html>';

function holdsNul(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('\u0000');
  if (Array.isArray(value)) return value.some(holdsNul);
  if (value !== null && typeof value === 'object') return Object.values(value).some(holdsNul);
  return false;
}

/** Form posts are small; anything larger is refused with 413 before it is parsed. */
const BODY_LIMIT_BYTES = 16 * 1024;
const STYLESHEET = readFileSync(new URL('../../public/app.css', import.meta.url), 'utf8');
/**
 * The scripts of the pages that offer security keys and passkeys, and only those: SimpleWebAuthn's
 * browser library, from the installed package (no CDN), and Twofold's own (public/security-key.js).
 */
const SCRIPTS: Record<string, string> = {
  '/static/simplewebauthn-browser.js': readFileSync(
    join(
      dirname(createRequire(import.meta.url).resolve('@simplewebauthn/browser')),
      '..',
      'dist',
      'bundle',
      'index.umd.min.js',
    ),
    'utf8',
  ),
  '/static/security-key.js': readFileSync(new URL('../../public/security-key.js', import.meta.url), 'utf8'),
};

/**
 * The policy of every answer: Twofold's own stylesheet and nothing inline, no script at
 * all, forms posted only here, and no framing.
 */
function contentSecurityPolicy(secure: boolean) {
  return {
    directives: {
      'style-src': ["'self'"],
      'script-src': ["'none'"],
      'form-action': ["'self'"],
      'frame-ancestors': ["'none'"],
      // Over plain http (a test or a private network) upgrading would break every form.
      'upgrade-insecure-requests': secure ? [] : null,
    },
  };
}

export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const policy = contentSecurityPolicy(options.secureCookies);
  const setPolicy = fastifyHelmet.contentSecurityPolicy(policy);
  const app = Fastify({
    logger: options.logger === false ? false : { ...options.logger, serializers: { req: requestForLog } },
    genReqId: requestIdOf,
    trustProxy: options.trustProxy,
    bodyLimit: BODY_LIMIT_BYTES,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
    // A path Fastify cannot route (bad percent-encoding, an overlong parameter) gets a plain
    // HTML answer like every other error, never Fastify's JSON.
    // No hook runs for these answers: they carry the policy and headers set here.
    frameworkErrors: (error, request, reply: FastifyReply) => {
      const status =
        error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 400;
      setPolicy(request.raw, reply.raw, () => {});
      void reply
        .code(status)
        .headers({ 'x-content-type-options': 'nosniff', 'cache-control': 'no-store' })
        .type('text/html; charset=utf-8')
        .send(PLAIN_BAD_REQUEST);
    },
  });
  const cookies = cookieNamesFor(options.secureCookies, options.cookieDomain ?? null);
  const routes: RouteInfo[] = [];
  const metrics = options.metrics === true ? createMetrics(options.deps.db, options.deps.events) : null;
  const deps = metrics === null ? options.deps : { ...options.deps, events: metrics.events };
  app.decorate('twofold', { deps, cookies, publicUrl: options.publicUrl, routes });
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) {
      routes.push({
        method,
        url: route.url,
        access: audienceOf(route.config),
        stepUp: route.config?.stepUp !== undefined,
      });
    }
  });

  // The first secret signs, every one verifies: signed cookies survive a key rotation.
  const { current, previous } = options.deps.secretKey;
  await app.register(fastifyCookie, { secret: [current, ...previous].map((key) => keyFor(key, 'cookie signing')) });
  await app.register(fastifyFormbody, { bodyLimit: BODY_LIMIT_BYTES });
  await app.register(fastifyHelmet, {
    contentSecurityPolicy: policy,
    hsts: options.secureCookies ? { maxAge: 31536000, includeSubDomains: true } : false,
  });
  await app.register(fastifyCsrf, {
    cookieKey: cookies.csrf,
    cookieOpts: { ...cookieOptionsOf(cookies), signed: true },
  });
  await app.register(authPlugin);

  // Every form post carries the CSRF token; the check needs the parsed body.
  // No form field, query or path parameter may carry a NUL: PostgreSQL refuses it in text.
  app.addHook('preValidation', (request, _reply, done) => {
    if ([request.body, request.query, request.params].some(holdsNul)) {
      done(Object.assign(new Error('a NUL character in the request'), { statusCode: 400, validation: [] }));
    } else done();
  });

  app.addHook('preHandler', (request, reply, done) => {
    if (request.method === 'POST' && request.routeOptions.config.access !== 'protocol') {
      app.csrfProtection(request, reply, done);
    } else done();
  });
  app.addHook('onSend', async (_request, reply, payload) => {
    if (String(reply.getHeader('content-type') ?? '').startsWith('text/html'))
      reply.header('cache-control', 'no-store');
    return payload;
  });

  app.get('/static/app.css', { config: { access: 'asset' } }, async (_request, reply) =>
    reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=3600').send(STYLESHEET),
  );
  for (const [path, script] of Object.entries(SCRIPTS)) {
    app.get(path, { config: { access: 'asset' } }, async (_request, reply) =>
      reply.type('text/javascript; charset=utf-8').header('cache-control', 'public, max-age=3600').send(script),
    );
  }

  // Set before the routes are registered, so every route's context inherits them.
  app.setNotFoundHandler((request, reply) => renderError(request, reply, 404, 'not_found_title', 'not_found'));
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error.code === 'FST_CSRF_INVALID_TOKEN' || error.code === 'FST_CSRF_MISSING_SECRET') {
      return renderError(request, reply, 403, 'form_expired_title', 'form_expired');
    }
    if (error.validation !== undefined || error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      return renderError(request, reply, 400, 'bad_request_title', 'form_malformed');
    }
    if (error.statusCode === 413) {
      return renderError(request, reply, 413, 'too_large_title', 'too_large');
    }
    if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
      return renderError(request, reply, error.statusCode, 'bad_request_title', 'request_malformed');
    }
    const fault = databaseFaultOf(error);
    if (fault !== null) {
      const answer = FAULT_ANSWERS[fault];
      request.log.error({ fault, ...faultDetailOf(error) }, answer.log);
      if (answer.retryAfterSeconds !== null) reply.header('retry-after', String(answer.retryAfterSeconds));
      return renderError(request, reply, 503, answer.title, answer.message);
    }
    request.log.error({ err: error }, 'request failed');
    const what = error instanceof WrongSecretKeyError ? 'wrong_secret_key' : 'failure';
    return renderError(request, reply, 500, 'failure_title', what);
  });
  await app.register(operationsPlugin, { metrics });
  const signIns = applicationSignIns(app);
  await app.register(loginRoutes, { signIns });
  await app.register(forgottenPasswordRoutes);
  await app.register(twoFactorRoutes);
  await app.register(recoveryCodeRoutes);
  await app.register(accountRoutes);
  await app.register(sessionRoutes);
  await app.register(adminUserRoutes);
  await app.register(adminPolicyRoutes);
  await app.register(adminAuditRoutes);
  await app.register(adminApplicationRoutes);
  await app.register(adminEmailRoutes);
  await app.register(oidcRoutes, { signIns });
  await app.register(forwardAuthRoutes);

  return app;
}
