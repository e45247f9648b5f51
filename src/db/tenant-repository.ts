import { and, eq, sql, type InferSelectModel, type SQL } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import { isUuid } from '../shared/ids.js';
import { rowsOf, type Db } from './client.js';
import { allColumns, builtOnce, tableRow, tenantParam } from './sql.js';

/** A tenant-owned table keyed by `id`. */
type TenantTable = PgTable & { id: PgColumn; tenantId: PgColumn };

/** rowsByIds's statement per table, built once each. */
const byIdsStatements = new WeakMap<PgTable, (values: Record<'tenantId' | 'ids', unknown>) => SQL>();

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

  /**
   * `scoped()` for a look-up by a key of the table: the tenant as a sub-select (tenantParam), so
   * the key's index is used whatever the statistics say of this tenant.
   */
  protected scopedToKey(table: { tenantId: PgColumn }, ...conditions: Array<SQL | undefined>): SQL {
    return and(sql`${table.tenantId} = ${tenantParam(this.tenantId)}`, ...conditions)!;
  }

  /**
   * This tenant's rows of `table` with these ids (a DataLoader's batch; ids that are not uuids
   * match nothing), in any order. One statement text for any number of ids, built by drizzle
   * once per table (builtOnce): the inbox list runs three of these per request, and building
   * them through the query builder each time was a large share of the request's CPU (issue 16).
   */
  protected async rowsByIds<T extends TenantTable>(table: T, ids: readonly string[]): Promise<Array<InferSelectModel<T>>> {
    const valid = ids.filter(isUuid);
    if (valid.length === 0) return [];
    let statement = byIdsStatements.get(table);
    if (!statement) {
      statement = builtOnce<'tenantId' | 'ids'>(
        () => sql`select ${allColumns(table)} from ${table}
          where ${table.tenantId} = ${sql.placeholder('tenantId')}::uuid and ${table.id} = any(${sql.placeholder('ids')}::uuid[])`,
      );
      byIdsStatements.set(table, statement);
    }
    const rows = rowsOf<Record<string, unknown>>(await this.db.execute(statement({ tenantId: this.tenantId, ids: `{${valid.join(',')}}` })));
    return rows.map((r) => tableRow(table, r));
  }
}
