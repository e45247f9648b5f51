import { and, eq, type SQL } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import type { Db } from './client.js';

/**
 * Base of every tenant-owned repository: bound to one tenant at construction, and the only
 * place the tenant filter is written. Subclasses build every WHERE through `scoped()` and every
 * INSERT with `this.tenantId`.
 */
export abstract class TenantRepository {
  constructor(
    protected readonly db: Db,
    readonly tenantId: string,
  ) {}

  protected scoped(table: { tenantId: PgColumn }, ...conditions: Array<SQL | undefined>): SQL {
    return and(eq(table.tenantId, this.tenantId), ...conditions)!;
  }
}
