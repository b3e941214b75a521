// The per-organisation composition root: every repository here is built for one
// organisation and filters by its id. Nothing finds "the current organisation" globally.
import type { Transaction } from 'kysely';
import { inOneCommit, inTransaction, type Db, type Executor } from './db.js';
import type { Database } from './schema.js';
import { applicationsRepository } from './applications.js';
import { auditRepository } from './audit.js';
import { devicesRepository } from './devices.js';
import { mailOutboxRepository } from './mail-outbox.js';
import { organisationRepository } from './organisations.js';
import { passwordLinksRepository } from './password-links.js';
import { recoveryCodesRepository } from './recovery-codes.js';
import { sessionsRepository } from './sessions.js';
import { sitesRepository } from './sites.js';
import { usersRepository } from './users.js';
import { webauthnChallengesRepository } from './webauthn-challenges.js';

export function tenantFor(db: Executor, organisationId: string) {
  return {
    organisationId,
    organisation: organisationRepository(db, organisationId),
    users: usersRepository(db, organisationId),
    devices: devicesRepository(db, organisationId),
    sessions: sessionsRepository(db, organisationId),
    passwordLinks: passwordLinksRepository(db, organisationId),
    audit: auditRepository(db, organisationId),
    applications: applicationsRepository(db, organisationId),
    sites: sitesRepository(db, organisationId),
    recoveryCodes: recoveryCodesRepository(db, organisationId),
    webauthnChallenges: webauthnChallengesRepository(db, organisationId),
    mailOutbox: mailOutboxRepository(db, organisationId),
  };
}

export type Tenant = ReturnType<typeof tenantFor>;

declare const inACommit: unique symbol;

/**
 * A tenant whose repositories are bound to an open transaction: what a step that must be
 * written with others (accepting a second factor, settling an attempt) takes first, so that
 * it cannot run outside the use case's one commit.
 */
export type TenantInTransaction = Tenant & { readonly [inACommit]: true };

/**
 * Runs `work` in one transaction, with the tenant's repositories bound to it, as if alone
 * (see inTransaction: on PostgreSQL `work` may run again after a conflict).
 */
export function atomically<T>(
  db: Db,
  organisationId: string,
  work: (tenant: TenantInTransaction) => Promise<T>,
): Promise<T> {
  return inTransaction(db, (trx) => work(tenantInTransaction(trx, organisationId)));
}

/**
 * Runs `work` in one commit, at read committed on PostgreSQL, never again (see inOneCommit):
 * for writes whose conditions are in their statements.
 */
export function inOneCommitOf<T>(
  db: Db,
  organisationId: string,
  work: (tenant: TenantInTransaction) => Promise<T>,
): Promise<T> {
  return inOneCommit(db, (trx) => work(tenantInTransaction(trx, organisationId)));
}

/** The tenant's repositories bound to a transaction already open. */
export function tenantInTransaction(trx: Transaction<Database>, organisationId: string): TenantInTransaction {
  return tenantFor(trx, organisationId) as TenantInTransaction;
}
