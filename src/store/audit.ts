// The audit log of one organisation.
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import {
  isAuditAction,
  type AuditAction,
  type AuditDetail,
  type AuditEvent,
  type RecordedAuditEvent,
} from '../domain/audit.js';
import { compiledOnce } from './compiled.js';
import type { Executor } from './db.js';
import { iso } from './rows.js';
import type { AuditEventsTable } from './schema.js';
import type { Selectable } from 'kysely';

export interface AuditFilter {
  action: AuditAction | null;
  /** Matches the actor's or the subject's email. */
  email: string;
  from: Date | null;
  until: Date | null;
}

export const AUDIT_PAGE_SIZE = 50;

let recorded = 0;

/**
 * Ids sort in the order events were recorded (wall-clock time, then a counter), so events
 * of the same instant, like a wrong code and the lock it caused, list in their true order.
 */
function nextEventId(): string {
  recorded = (recorded + 1) % 1_000_000;
  return `${Date.now().toString().padStart(15, '0')}-${String(recorded).padStart(6, '0')}-${randomUUID().slice(0, 8)}`;
}

function eventFromRow(row: Selectable<AuditEventsTable>): RecordedAuditEvent {
  if (!isAuditAction(row.action)) throw new Error(`audit event ${row.id} has an unknown action`);
  return {
    id: row.id,
    at: new Date(row.at),
    action: row.action,
    actor: row.actor_id === null ? null : { id: row.actor_id, email: row.actor_email ?? '' },
    subject: row.subject_id === null ? null : { id: row.subject_id, email: row.subject_email ?? '' },
    client: row.ip === null ? null : { ip: row.ip, userAgent: row.user_agent ?? '' },
    detail: JSON.parse(row.detail) as AuditDetail,
  };
}

const AUDIT_COLUMNS = [
  'id',
  'organisation_id',
  'at',
  'action',
  'actor_id',
  'actor_email',
  'subject_id',
  'subject_email',
  'ip',
  'user_agent',
  'detail',
] as const;

/** Every sign-in records one or two events. */
const insertEvent = compiledOnce(AUDIT_COLUMNS, (db, values) => db.insertInto('audit_events').values(values));

export function auditRepository(db: Executor, organisationId: string) {
  const filtered = (filter: AuditFilter) => {
    let query = db.selectFrom('audit_events').where('organisation_id', '=', organisationId);
    if (filter.action !== null) query = query.where('action', '=', filter.action);
    if (filter.from !== null) query = query.where('at', '>=', iso(filter.from));
    if (filter.until !== null) query = query.where('at', '<', iso(filter.until));
    const email = filter.email.trim().toLowerCase();
    if (email !== '') {
      const pattern = `%${email.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      query = query.where((eb) =>
        eb.or([
          eb(sql`lower(actor_email)`, 'like', sql`${pattern} escape ${'\\'}`),
          eb(sql`lower(subject_email)`, 'like', sql`${pattern} escape ${'\\'}`),
        ]),
      );
    }
    return query;
  };

  return {
    async record(event: AuditEvent, at: Date): Promise<void> {
      await insertEvent(db, {
        id: nextEventId(),
        organisation_id: organisationId,
        at: iso(at),
        action: event.action,
        actor_id: event.actor?.id ?? null,
        actor_email: event.actor?.email ?? null,
        subject_id: event.subject?.id ?? null,
        subject_email: event.subject?.email ?? null,
        ip: event.client?.ip ?? null,
        user_agent: event.client?.userAgent.slice(0, 300) ?? null,
        detail: JSON.stringify(event.detail),
      });
    },

    /** Newest first. */
    async list(filter: AuditFilter, page: number): Promise<{ events: RecordedAuditEvent[]; total: number }> {
      const counted = await filtered(filter)
        .select((eb) => eb.fn.countAll<number | string>().as('total'))
        .executeTakeFirstOrThrow();
      const rows = await filtered(filter)
        .selectAll()
        .orderBy('at', 'desc')
        .orderBy('id', 'desc')
        .limit(AUDIT_PAGE_SIZE)
        .offset((Math.max(1, page) - 1) * AUDIT_PAGE_SIZE)
        .execute();
      return { events: rows.map(eventFromRow), total: Number(counted.total) };
    },

    /** Every matching event, newest first, in pages of `batch`, for the CSV export. */
    async *each(filter: AuditFilter, batch = 500): AsyncGenerator<RecordedAuditEvent> {
      for (let offset = 0; ; offset += batch) {
        const rows = await filtered(filter)
          .selectAll()
          .orderBy('at', 'desc')
          .orderBy('id', 'desc')
          .limit(batch)
          .offset(offset)
          .execute();
        for (const row of rows) yield eventFromRow(row);
        if (rows.length < batch) return;
      }
    },

    /** Events about one user after `since` (all when null), oldest first. */
    async aboutUserSince(
      userId: string,
      actions: readonly AuditAction[],
      since: Date | null,
    ): Promise<RecordedAuditEvent[]> {
      let query = db
        .selectFrom('audit_events')
        .selectAll()
        .where('organisation_id', '=', organisationId)
        .where('subject_id', '=', userId)
        .where('action', 'in', [...actions]);
      if (since !== null) query = query.where('at', '>', iso(since));
      return (await query.orderBy('at').orderBy('id').limit(50).execute()).map(eventFromRow);
    },
  };
}

export type AuditRepository = ReturnType<typeof auditRepository>;
