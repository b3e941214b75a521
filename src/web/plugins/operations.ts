// What operators and their tools need: liveness and readiness checks for a load balancer,
// the Prometheus metrics when they are enabled, and a request id on every answer.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { databaseAnswers } from '../../store/health.js';
import type { Metrics } from '../metrics.js';

export const REQUEST_ID_HEADER = 'x-request-id';

/** An id from a proxy or a client is kept when it is a short token, harmless in a log line and a header. */
const SAFE_REQUEST_ID = /^[\w.:=+-]{1,128}$/;

/** The request's id, for the log and the answer's `x-request-id`. */
export function requestIdOf(request: IncomingMessage): string {
  const given = request.headers[REQUEST_ID_HEADER];
  return typeof given === 'string' && SAFE_REQUEST_ID.test(given) ? given : randomUUID();
}

/** A load balancer probes every few seconds; a database slower than this counts as down. */
const READINESS_TIMEOUT_MS = 2000;

/**
 * `metrics: null` leaves /metrics answering "not found". The routes skip the session
 * lookup: probes carry no cookie, and readiness must not depend on more than a query.
 */
export const operationsPlugin = fp(async (app: FastifyInstance, options: { metrics: Metrics | null }) => {
  const { metrics } = options;
  const { db } = app.twofold.deps;

  // Once closing, the answers to the requests still in flight end their connections, so
  // that the server closes as soon as they are done, not when idle keep-alives time out.
  let closing = false;
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  app.addHook('onSend', async (request, reply, payload) => {
    reply.header(REQUEST_ID_HEADER, request.id);
    if (closing) reply.header('connection', 'close');
    return payload;
  });
  if (metrics !== null) {
    app.addHook('onResponse', async (request, reply) => {
      // The route's pattern, so that ids and tokens in addresses never become labels.
      const route = request.routeOptions.url ?? 'unmatched';
      metrics.observeRequest(request.method, route, reply.statusCode, reply.elapsedTime / 1000);
    });
  }

  // Liveness: the process answers. Whether it should get traffic is /readyz.
  app.get('/healthz', { config: { access: 'asset' } }, async (_request, reply) =>
    reply.header('cache-control', 'no-store').send({ status: 'ok' }),
  );

  // While the server shuts down Fastify answers 503 itself, before any route runs.
  app.get('/readyz', { config: { access: 'asset' } }, async (request, reply) => {
    const ready = await databaseAnswers(db, READINESS_TIMEOUT_MS, (problem) =>
      request.log.warn(
        { reason: problem instanceof Error ? problem.message : String(problem) },
        'not ready: the database does not answer',
      ),
    );
    return reply
      .code(ready ? 200 : 503)
      .header('cache-control', 'no-store')
      .send({ status: ready ? 'ready' : 'unavailable' });
  });

  app.get('/metrics', { config: { access: 'asset' } }, async (_request, reply) => {
    if (metrics === null) return reply.callNotFound();
    const text = await metrics.registry.metrics();
    return reply.type(metrics.registry.contentType).header('cache-control', 'no-store').send(text);
  });
});
