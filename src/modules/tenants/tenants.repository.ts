import { eq, isNotNull, like, or, sql } from 'drizzle-orm';
import { anyUuid } from '../../db/sql.js';
import type { Db } from '../../db/client.js';
import { tenants, type TenantRow } from './tenants.schema.js';

/**
 * Tenants are the root of isolation, so this repository is not tenant-bound: it is used at
 * sign-up and log-in (before there is a tenant) and by loaders keyed by the caller's own tenant id.
 */
export class TenantsRepository {
  constructor(private readonly db: Db) {}

  async create(name: string, slug: string): Promise<TenantRow> {
    const [row] = await this.db.insert(tenants).values({ name, slug }).returning();
    return row!;
  }

  /** Only the caller's own tenant: the id comes from the verified token. */
  async update(id: string, changes: { name?: string; retentionDays?: number | null }): Promise<TenantRow | undefined> {
    const [row] = await this.db.update(tenants).set(changes).where(eq(tenants.id, id)).returning();
    return row;
  }

  /** Tenants with a retention period, for the retention job. */
  withRetention(): Promise<Array<{ id: string; retentionDays: number }>> {
    return this.db
      .select({ id: tenants.id, retentionDays: sql<number>`${tenants.retentionDays}` })
      .from(tenants)
      .where(isNotNull(tenants.retentionDays));
  }

  async findByIds(ids: readonly string[]): Promise<TenantRow[]> {
    if (ids.length === 0) return [];
    return this.db.select().from(tenants).where(anyUuid(tenants.id, ids));
  }

  /** Slugs already taken among `base` and `base-N`, to pick a free one in one query. */
  async slugsLike(base: string): Promise<string[]> {
    const rows = await this.db
      .select({ slug: tenants.slug })
      .from(tenants)
      .where(or(eq(tenants.slug, base), like(tenants.slug, `${base}-%`)));
    return rows.map((r) => r.slug);
  }
}
