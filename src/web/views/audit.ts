// The administrators' audit log: the filter form, the events table and its pager, and the
// same events as CSV lines for a spreadsheet.
import { AUDIT_ACTIONS, AUDIT_LABELS, type AuditDetail, type RecordedAuditEvent } from '../../domain/audit.js';
import { browserOf } from './account.js';
import { errorSummary, field } from './forms.js';
import { html, type Html } from './html.js';

type When = (at: Date) => string;

/** The filters as typed, shown back in the form whether or not they are valid. */
export interface AuditFilterValues {
  action: string;
  person: string;
  from: string;
  until: string;
}

export type AuditFilterProblems = Partial<Record<keyof AuditFilterValues, string>>;

export interface AuditLogData {
  values: AuditFilterValues;
  problems: AuditFilterProblems;
  events: RecordedAuditEvent[];
  total: number;
  page: number;
  pages: number;
  timeZone: string;
}

/** The query string of these filters (empty ones left out), for the pager and the CSV link. */
export function filterQuery(values: AuditFilterValues, page?: number): string {
  const params = new URLSearchParams(Object.entries(values).filter(([, value]) => value !== ''));
  if (page !== undefined) params.set('page', String(page));
  const query = params.toString();
  return query === '' ? '' : `?${query}`;
}

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const CODE_WORD = /^[a-z0-9]+(_[a-z0-9]+)+$/;
/** Details that are someone's own words or an identifier, never a code to reword. */
const AS_TYPED = new Set(['device', 'application', 'client_id', 'name']);

function detailValue(key: string, value: AuditDetail[string], when: When): string {
  if (value === null) return 'none';
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (typeof value === 'number') return String(value);
  if (ISO_INSTANT.test(value)) return when(new Date(value));
  // Names and ids are shown as typed; other such strings are codes like wrong_password.
  if (!AS_TYPED.has(key) && CODE_WORD.test(value)) return value.replace(/_/g, ' ');
  return value;
}

function detailLines(detail: AuditDetail, when: When): Html {
  return html`${Object.entries(detail).map(
    ([key, value], i) => html`${i > 0 ? html`<br />` : ''}${key.replace(/_/g, ' ')}: ${detailValue(key, value, when)}`,
  )}`;
}

function eventRow(event: RecordedAuditEvent, when: When): Html {
  return html`<tr>
    <td data-label="When">${when(event.at)}</td>
    <td data-label="What">${AUDIT_LABELS[event.action]}</td>
    <td data-label="Who"><div>${event.actor?.email ?? '—'}</div></td>
    <td data-label="Whom"><div>${event.subject?.email ?? '—'}</div></td>
    <td data-label="Details"><div>${detailLines(event.detail, when)}</div></td>
    <td data-label="From">
      <div>${event.client === null ? '—' : html`${event.client.ip}<br />${browserOf(event.client.userAgent)}`}</div>
    </td>
  </tr>`;
}

function dateField(name: 'from' | 'until', label: string, value: string, error: string | undefined): Html {
  const id = `field-${name}`;
  const described = `days-hint${error ? ` ${id}-error` : ''}`;
  return html`<div class="field${error ? ' has-error' : ''}">
    <label for="${id}">${label}</label>
    ${error ? html`<p class="error" id="${id}-error">${error}</p>` : ''}
    <input
      id="${id}"
      name="${name}"
      type="date"
      value="${value}"
      aria-describedby="${described}"
      ${error ? html`aria-invalid="true"` : ''}
    />
  </div>`;
}

function filterForm(d: AuditLogData): Html {
  const { values, problems } = d;
  return html`<form method="get" action="/admin/audit" class="card" role="search" aria-label="Filter the audit log">
    <div class="field${problems.action ? ' has-error' : ''}">
      <label for="field-action">What happened</label>
      ${problems.action ? html`<p class="error" id="field-action-error">${problems.action}</p>` : ''}
      <select
        id="field-action"
        name="action"
        ${problems.action ? html`aria-describedby="field-action-error" aria-invalid="true"` : ''}
      >
        <option value="">All</option>
        ${AUDIT_ACTIONS.map(
          (a) => html`<option value="${a}" ${a === values.action ? html`selected` : ''}>${AUDIT_LABELS[a]}</option>`,
        )}
      </select>
    </div>
    ${field({
      label: 'Person',
      name: 'person',
      type: 'search',
      value: values.person,
      error: problems.person,
      hint: 'An email address or part of one: who acted, or whom it was about.',
    })}
    <p class="hint" id="days-hint">Days run from midnight to midnight in ${d.timeZone}.</p>
    ${dateField('from', 'From (date)', values.from, problems.from)}
    ${dateField('until', 'Until (date, included)', values.until, problems.until)}
    <button type="submit">Show events</button>
    <a href="/admin/audit">Clear the filters</a>
  </form>`;
}

export function auditLogPage(d: AuditLogData, when: When): Html {
  const filtered = Object.values(d.values).some((v) => v !== '');
  const count = filtered
    ? d.total === 1
      ? '1 event matching the filters, newest first.'
      : `${d.total} events matching the filters, newest first.`
    : d.total === 1
      ? '1 event, newest first.'
      : `${d.total} events, newest first.`;
  return html`${errorSummary(d.problems)} ${filterForm(d)}
    ${
      Object.keys(d.problems).length > 0
        ? ''
        : html`<p>
              ${count}
              <a href="/admin/audit.csv${filterQuery(d.values)}">Download as CSV</a>
            </p>
            ${
              d.events.length === 0
                ? ''
                : html`<div class="table-scroll">
                    <table class="stack">
                      <caption>
                        Events, newest first
                      </caption>
                      <thead>
                        <tr>
                          <th scope="col">When</th>
                          <th scope="col">What</th>
                          <th scope="col">Who</th>
                          <th scope="col">Whom</th>
                          <th scope="col">Details</th>
                          <th scope="col">From</th>
                        </tr>
                      </thead>
                      <tbody>
                        ${d.events.map((e) => eventRow(e, when))}
                      </tbody>
                    </table>
                  </div>`
            }
            ${
              d.pages > 1
                ? html`<nav aria-label="Pages" class="pager">
                    ${d.page > 1 ? html`<a href="/admin/audit${filterQuery(d.values, d.page - 1)}" rel="prev">Previous</a>` : ''}
                    <span>Page ${d.page} of ${d.pages}</span>
                    ${d.page < d.pages ? html`<a href="/admin/audit${filterQuery(d.values, d.page + 1)}" rel="next">Next</a>` : ''}
                  </nav>`
                : ''
            }`
    }`;
}

export const AUDIT_CSV_COLUMNS = [
  'at',
  'action',
  'actor_email',
  'subject_email',
  'ip',
  'user_agent',
  'detail',
] as const;

/**
 * One CSV field (RFC 4180), safe to open in a spreadsheet: a value a spreadsheet would read
 * as a formula (=, +, -, @, tab, CR first) is made text by a leading apostrophe.
 */
export function csvField(value: string): string {
  const text = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvLine(fields: readonly string[]): string {
  return `${fields.map(csvField).join(',')}\r\n`;
}

export function auditCsvLine(event: RecordedAuditEvent): string {
  return csvLine([
    event.at.toISOString(),
    event.action,
    event.actor?.email ?? '',
    event.subject?.email ?? '',
    event.client?.ip ?? '',
    event.client?.userAgent ?? '',
    JSON.stringify(event.detail),
  ]);
}
