// Failures that are the database's, not Twofold's: it cannot be reached, its disk is full,
// or it only reads. The error handler answers them with a page that says so (503), and
// the log says which, instead of "something went wrong" (500).

import type { SentenceCode } from './messages.js';

export type DatabaseFault = 'unreachable' | 'disk_full' | 'read_only';

export interface FaultAnswer {
  title: SentenceCode;
  message: SentenceCode;
  /** The log line's message, for the operator. */
  log: string;
  /** Seconds for Retry-After, when waiting helps; null when someone has to act first. */
  retryAfterSeconds: number | null;
}

export const FAULT_ANSWERS: Record<DatabaseFault, FaultAnswer> = {
  unreachable: {
    title: 'database_unreachable_title',
    message: 'database_unreachable',
    log: 'the database cannot be reached',
    retryAfterSeconds: 5,
  },
  disk_full: {
    title: 'cannot_save_title',
    message: 'database_disk_full',
    log: 'the database disk is full: writes fail until space is freed',
    retryAfterSeconds: null,
  },
  read_only: {
    title: 'cannot_save_title',
    message: 'database_read_only',
    log: 'the database is read-only: writes fail until it is writable again',
    retryAfterSeconds: null,
  },
};

/** PostgreSQL: the server is shutting down, crashed, or is starting up; class 08 is any lost connection. */
const POSTGRES_UNAVAILABLE = new Set(['57P01', '57P02', '57P03']);
/** The connection to PostgreSQL could not be made or was cut. */
const NETWORK_FAILURES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
/** node-postgres's own errors for a connection it could not get or lost; they carry no code. */
const LOST_CONNECTION = [
  /^timeout exceeded when trying to connect$/,
  /^Connection terminated/,
  /^Client has encountered a connection error and is not queryable$/,
  /^Cannot use a pool after calling end on the pool$/,
];

function faultOfOne(error: object): DatabaseFault | null {
  const code = 'code' in error && typeof error.code === 'string' ? error.code : '';
  if (code === 'SQLITE_FULL' || code === '53100') return 'disk_full';
  if (code.startsWith('SQLITE_READONLY') || code === '25006') return 'read_only';
  if (POSTGRES_UNAVAILABLE.has(code) || /^08[0-9A-Z]{3}$/.test(code) || NETWORK_FAILURES.has(code)) {
    return 'unreachable';
  }
  const message = error instanceof Error ? error.message : '';
  if (code === '' && LOST_CONNECTION.some((pattern) => pattern.test(message))) return 'unreachable';
  return null;
}

/** The error and what it wraps: its cause, or the attempts of an AggregateError (one per address tried). */
function* errorsIn(error: unknown, depth = 0): Generator<object> {
  if (typeof error !== 'object' || error === null || depth > 4) return;
  yield error;
  if (error instanceof AggregateError) for (const each of error.errors) yield* errorsIn(each, depth + 1);
  if ('cause' in error) yield* errorsIn(error.cause, depth + 1);
}

export function databaseFaultOf(error: unknown): DatabaseFault | null {
  for (const each of errorsIn(error)) {
    const fault = faultOfOne(each);
    if (fault !== null) return fault;
  }
  return null;
}

/** The driver's code and text, for the log: neither holds a password nor a query's values. */
export function faultDetailOf(error: unknown): { code: string | null; reason: string } {
  const code = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : null;
  return { code, reason: error instanceof Error ? error.message : String(error) };
}
