// Admins' audit log of their organisation: a filtered, paged page, and the same as a CSV file.
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { isAuditAction, type AuditAction, type RecordedAuditEvent } from '../../domain/audit.js';
import { parseLocalDateTime, toLocalInputValue } from '../../domain/time-zones.js';
import { AUDIT_PAGE_SIZE, type AuditFilter } from '../../store/audit.js';
import { pageNumberOf } from '../form-schema.js';
import { message } from '../messages.js';
import { authOrThrow } from '../plugins/auth.js';
import { renderPage, when } from '../respond.js';
import {
  AUDIT_CSV_COLUMNS,
  auditCsvLine,
  auditLogPage,
  csvLine,
  type AuditFilterProblems,
  type AuditFilterValues,
} from '../views/audit.js';

interface FilterQuery {
  action?: string;
  person?: string;
  from?: string;
  until?: string;
  page?: string;
}

const filterSchema = {
  querystring: {
    type: 'object',
    properties: {
      action: { type: 'string', maxLength: 100 },
      person: { type: 'string', maxLength: 300 },
      from: { type: 'string', maxLength: 40 },
      until: { type: 'string', maxLength: 40 },
      page: { type: 'string', maxLength: 9 },
    },
  },
} as const;

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** Midnight at the start of a "YYYY-MM-DD" day in `timeZone`, or null when it is not a day. */
function startOfDay(day: string, timeZone: string): Date | null {
  return DAY.test(day) ? parseLocalDateTime(`${day}T00:00`, timeZone) : null;
}

/** Midnight at the end of the day: "until" includes the whole of its day. */
function endOfDay(day: string, timeZone: string): Date | null {
  const start = startOfDay(day, timeZone);
  if (start === null) return null;
  const [year = 0, month = 1, date = 1] = day.split('-').map(Number);
  return startOfDay(new Date(Date.UTC(year, month - 1, date + 1)).toISOString().slice(0, 10), timeZone);
}

function valuesOf(query: FilterQuery): AuditFilterValues {
  return {
    action: (query.action ?? '').trim(),
    person: (query.person ?? '').trim(),
    from: (query.from ?? '').trim(),
    until: (query.until ?? '').trim(),
  };
}

type ReadFilter = { ok: true; filter: AuditFilter } | { ok: false; problems: AuditFilterProblems };

/** The filter the form describes, its days read in the organisation's time zone. */
function filterOf(values: AuditFilterValues, timeZone: string): ReadFilter {
  const problems: AuditFilterProblems = {};
  let action: AuditAction | null = null;
  if (isAuditAction(values.action)) action = values.action;
  else if (values.action !== '') problems.action = message('audit_action_unknown');
  const from = values.from === '' ? null : startOfDay(values.from, timeZone);
  if (values.from !== '' && from === null) problems.from = message('audit_from_unreadable');
  const until = values.until === '' ? null : endOfDay(values.until, timeZone);
  if (values.until !== '' && until === null) problems.until = message('audit_until_unreadable');
  if (from !== null && until !== null && from.getTime() >= until.getTime())
    problems.until = message('audit_until_before_from');
  if (Object.keys(problems).length > 0) return { ok: false, problems };
  return { ok: true, filter: { action, email: values.person, from, until } };
}

async function* csvOf(events: AsyncGenerator<RecordedAuditEvent>): AsyncGenerator<string> {
  yield csvLine(AUDIT_CSV_COLUMNS);
  for await (const event of events) yield auditCsvLine(event);
}

/** The admin, and the filter their query asks for, read in the organisation's time zone. */
function filterAsked(request: FastifyRequest<{ Querystring: FilterQuery }>) {
  const auth = authOrThrow(request);
  const timeZone = auth.organisation.timeZone;
  const values = valuesOf(request.query);
  return { auth, timeZone, values, read: filterOf(values, timeZone) };
}

export async function adminAuditRoutes(app: FastifyInstance): Promise<void> {
  const { deps } = app.twofold;
  const config = { action: 'view-audit' } as const;

  app.get<{ Querystring: FilterQuery }>('/admin/audit', { config, schema: filterSchema }, async (request, reply) => {
    const { auth, timeZone, values, read } = filterAsked(request);
    const page = pageNumberOf(request.query.page);
    const { events, total } = read.ok ? await auth.tenant.audit.list(read.filter, page) : { events: [], total: 0 };
    const pages = Math.max(1, Math.ceil(total / AUDIT_PAGE_SIZE));
    const problems = read.ok ? {} : read.problems;
    return renderPage(
      request,
      reply,
      'Audit log',
      () => auditLogPage({ values, problems, events, total, page, pages, timeZone }, (at) => when(request, at)),
      read.ok ? 200 : 400,
    );
  });

  app.get<{ Querystring: FilterQuery }>(
    '/admin/audit.csv',
    { config, schema: filterSchema },
    async (request, reply) => {
      const { auth, timeZone, values, read } = filterAsked(request);
      if (!read.ok) {
        return renderPage(
          request,
          reply,
          'Audit log',
          () =>
            auditLogPage({ values, problems: read.problems, events: [], total: 0, page: 1, pages: 1, timeZone }, (at) =>
              when(request, at),
            ),
          400,
        );
      }
      const today = toLocalInputValue(deps.now(), timeZone).slice(0, 10);
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="twofold-audit-${today}.csv"`)
        .header('cache-control', 'no-store')
        .send(Readable.from(csvOf(auth.tenant.audit.each(read.filter))));
    },
  );
}
