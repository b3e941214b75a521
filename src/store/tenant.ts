// The per-organisation composition root: every repository here is built for one
// organisation and filters by its id. Nothing finds "the current organisation" globally.
import { inTransaction, type Db, type Executor } from './db.js';
import { auditRepository } from './audit.js';
import { devicesRepository } from './devices.js';
import { organisationRepository } from './organisations.js';
import { passwordLinksRepository } from './password-links.js';
import { sessionsRepository } from './sessions.js';
import { usersRepository } from './users.js';

export function tenantFor(db: Executor, organisationId: string) {
  return {
    organisationId,
    organisation: organisationRepository(db, organisationId),
    users: usersRepository(db, organisationId),
    devices: devicesRepository(db, organisationId),
    sessions: sessionsRepository(db, organisationId),
    passwordLinks: passwordLinksRepository(db, organisationId),
    audit: auditRepository(db, organisationId),
  };
}

export type Tenant = ReturnType<typeof tenantFor>;

/**
 * Runs `work` in one transaction, with the tenant's repositories bound to it, as if alone
 * (see inTransaction: on PostgreSQL `work` may run again after a conflict).
 */
export function atomically<T>(db: Db, organisationId: string, work: (tenant: Tenant) => Promise<T>): Promise<T> {
  return inTransaction(db, (trx) => work(tenantFor(trx, organisationId)));
}
