// The Prometheus metrics of one app: a registry of its own (not prom-client's global one,
// so that a process can build several apps), the process's default metrics, the sign-in
// and code outcomes the services report, request durations and the database connections.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { SecondFactorPath } from '../services/second-factor.js';
import { LOGIN_OUTCOMES, type ServiceEvents } from '../services/deps.js';
import { connectionUseOf, type ConnectionUse, type Db } from '../store/db.js';

export interface Metrics {
  registry: Registry;
  /** Counts what the services report, then tells `forward`, when given, too. */
  events: ServiceEvents;
  /** `route` is the route's pattern (`/admin/users/:id`), never the address asked for. */
  observeRequest(method: string, route: string, statusCode: number, seconds: number): void;
}

const CODE_PATHS: readonly SecondFactorPath[] = ['login', 'device_confirmation', 'step_up'];

/** From a millisecond (a static answer) to two seconds (argon2 under load, a slow database). */
const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2];

export function createMetrics(db: Db, forward?: ServiceEvents): Metrics {
  const registry = new Registry();
  // Also starts an event-loop delay monitor and a GC observer, which live as long as the
  // process: build metrics once per server, not per request.
  collectDefaultMetrics({ register: registry });

  const logins = new Counter({
    name: 'twofold_logins_total',
    help: 'Steps of signing in, by how they ended.',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const codeFailures = new Counter({
    name: 'twofold_code_failures_total',
    help: 'Wrong or expired 6-digit codes counted against a user, by where they were given.',
    labelNames: ['path'] as const,
    registers: [registry],
  });
  const locks = new Counter({
    name: 'twofold_second_factor_locks_total',
    help: 'Second factors locked after too many wrong codes in a row.',
    registers: [registry],
  });
  const durations = new Histogram({
    name: 'twofold_http_request_duration_seconds',
    help: 'Time to answer an HTTP request, by method, route pattern and status code.',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: DURATION_BUCKETS,
    registers: [registry],
  });
  // Every series from the start, so that a rate over a quiet period is 0 rather than absent.
  for (const outcome of LOGIN_OUTCOMES) logins.inc({ outcome }, 0);
  for (const path of CODE_PATHS) codeFailures.inc({ path }, 0);
  registerConnectionGauges(registry, db);

  return {
    registry,
    events: {
      loginOutcome(outcome) {
        logins.inc({ outcome });
        forward?.loginOutcome(outcome);
      },
      codeFailure(path) {
        codeFailures.inc({ path });
        forward?.codeFailure(path);
      },
      secondFactorLocked() {
        locks.inc();
        forward?.secondFactorLocked();
      },
    },
    observeRequest(method, route, statusCode, seconds) {
      durations.observe({ method, route, status_code: String(statusCode) }, seconds);
    },
  };
}

type PoolUse = Extract<ConnectionUse, { kind: 'postgres' }>;

/** SQLite has its one connection; a PostgreSQL pool's counts are read at each scrape. */
function registerConnectionGauges(registry: Registry, db: Db): void {
  if (connectionUseOf(db).kind === 'sqlite') {
    new Gauge({
      name: 'twofold_db_pool_connections',
      help: 'Open database connections (SQLite: always 1).',
      registers: [registry],
    }).set(1);
    return;
  }
  const poolGauge = (name: string, help: string, read: (use: PoolUse) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        const use = connectionUseOf(db);
        if (use.kind === 'postgres') this.set(read(use));
      },
    });
  poolGauge('twofold_db_pool_connections', 'Open database connections (SQLite: always 1).', (use) => use.open);
  poolGauge('twofold_db_pool_idle_connections', 'Open PostgreSQL connections not in use.', (use) => use.idle);
  poolGauge(
    'twofold_db_pool_waiting_clients',
    'Queries waiting for a PostgreSQL connection, the pool being at its size.',
    (use) => use.waiting,
  );
}
