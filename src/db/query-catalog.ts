import type { Db } from './client.js';

/**
 * SQL snapshots (docs/architecture.md, "SQL snapshots"): every repository method is called once
 * (or a few times, for its variants) against a migrated, seeded PGlite, the SQL it sends is
 * captured and committed under `test/queries/sql/<feature>.sql`, so a diff shows every statement a
 * change adds or alters, tenant filter included. `npm run sql:snapshots` rewrites the files;
 * `test/queries/sql-snapshots.test.ts` fails while they differ, while a repository method or an
 * exported repository function has no call here (the compiler insists for methods), and while a
 * statement does not carry the bound tenant's id among its parameters, unless its entry says
 * why it serves every tenant (`crossTenant`).
 */

/** Rows the snapshot database is seeded with; calls refer to them so that statements find rows. */
export const FIXTURE = Object.freeze({
  tenantId: '00000000-0000-4000-8000-00000000a001',
  userId: '00000000-0000-4000-8000-00000000b001',
  accountId: '00000000-0000-4000-8000-00000000c001',
  accountSid: `AC${'1'.repeat(32)}`,
  webhookKey: 'snapshot-webhook-key',
  phoneNumberId: '00000000-0000-4000-8000-00000000d001',
  e164: '+15550100001',
  contactId: '00000000-0000-4000-8000-00000000e001',
  contactPhone: '+15550100002',
  /** A contact without a conversation (opening one inserts). */
  newContactId: '00000000-0000-4000-8000-00000000e002',
  conversationId: '00000000-0000-4000-8000-00000000f001',
  messageId: '00000000-0000-4000-8000-000000010001',
  outboundMessageId: '00000000-0000-4000-8000-000000010002',
  outboxJobId: 1000,
  workerId: 'snapshot-worker',
  /** A fresh id for inserts. */
  newId: '00000000-0000-4000-8000-000000020001',
});

type AsyncMethodKeys<R> = {
  [K in keyof R]: R[K] extends (...args: never[]) => Promise<unknown> ? K : never;
}[keyof R] &
  string;

export type QueryCall<R> = (repository: R) => Promise<unknown>;

export interface RepositoryQueries<R> {
  /** The class, so the test can check that every method has a call. */
  repository: abstract new (...args: never[]) => R;
  /** Default: `new Repository(db, FIXTURE.tenantId)`. */
  create?: (db: Db) => R;
  /** One call per async method, or several variants by label (e.g. with and without a cursor). */
  calls: { [K in AsyncMethodKeys<R>]: QueryCall<R> | Record<string, QueryCall<R>> };
  /** Set when the statements serve every tenant on purpose (say why); their tenant check is skipped. */
  crossTenant?: string;
  /**
   * Rows this module's calls need beyond FIXTURE (e.g. a team), inserted before each call in its
   * transaction (not captured, rolled back with it). Use fixed ids so the calls can name them.
   */
  setUp?: (db: Db) => Promise<void>;
}

export interface FunctionQueries {
  /** Exported repository functions (not bound to a tenant), by name. */
  functions: Record<string, { run: (db: Db) => Promise<unknown>; crossTenant?: string; setUp?: (db: Db) => Promise<void> }>;
}

export type QueryCatalogEntry = RepositoryQueries<unknown> | FunctionQueries;

/** Typed helper for a catalog entry (`src/modules/<feature>/<feature>.queries.ts`). */
export function repositoryQueries<R>(entry: RepositoryQueries<R>): QueryCatalogEntry {
  return entry as unknown as QueryCatalogEntry;
}

export function functionQueries(functions: FunctionQueries['functions']): QueryCatalogEntry {
  return { functions };
}
