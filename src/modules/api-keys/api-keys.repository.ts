import { and, desc, eq, isNull, lt, or, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { TenantRepository } from '../../db/tenant-repository.js';
import type { Role } from '../users/role.js';
import { apiKeys, type ApiKeyRow } from './api-keys.schema.js';

/** Most keys a tenant may hold (revoked ones included); lists stay one small page. */
export const MAX_API_KEYS_PER_TENANT = 100;

export class ApiKeysRepository extends TenantRepository {
  list(): Promise<ApiKeyRow[]> {
    return this.db.select().from(apiKeys).where(this.scoped(apiKeys)).orderBy(desc(apiKeys.createdAt)).limit(MAX_API_KEYS_PER_TENANT);
  }

  async count(): Promise<number> {
    const [row] = await this.db.select({ n: sql<number>`count(*)::int` }).from(apiKeys).where(this.scoped(apiKeys));
    return row?.n ?? 0;
  }

  async findById(id: string): Promise<ApiKeyRow | undefined> {
    const [row] = await this.db.select().from(apiKeys).where(this.scoped(apiKeys, eq(apiKeys.id, id))).limit(1);
    return row;
  }

  findByIds(ids: readonly string[]): Promise<ApiKeyRow[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return this.db.select().from(apiKeys).where(this.scoped(apiKeys, sql`${apiKeys.id} in ${[...ids]}`));
  }

  async create(values: { name: string; role: Role; prefix: string; secretHash: string; createdByUserId: string | null }): Promise<ApiKeyRow> {
    const [row] = await this.db.insert(apiKeys).values({ ...values, tenantId: this.tenantId }).returning();
    return row!;
  }

  /** Sets revoked_at once; a second revoke keeps the first time. */
  async revoke(id: string): Promise<ApiKeyRow | undefined> {
    const [row] = await this.db
      .update(apiKeys)
      .set({ revokedAt: sql`coalesce(${apiKeys.revokedAt}, now())` })
      .where(this.scoped(apiKeys, eq(apiKeys.id, id)))
      .returning();
    return row;
  }
}

/** Authentication happens before a tenant is known: the one lookup across tenants, by secret hash. */
export async function findActiveKeyByHash(db: Db, secretHash: string): Promise<ApiKeyRow | undefined> {
  const [row] = await db
    .select()
    .from(apiKeys)
    .where(and(eq(apiKeys.secretHash, secretHash), isNull(apiKeys.revokedAt)))
    .limit(1);
  return row;
}

/** Records use at most once a minute per key, whatever the request rate and however many instances. */
export async function touchLastUsed(db: Db, id: string): Promise<void> {
  await db
    .update(apiKeys)
    .set({ lastUsedAt: sql`now()` })
    .where(and(eq(apiKeys.id, id), or(isNull(apiKeys.lastUsedAt), lt(apiKeys.lastUsedAt, sql`now() - interval '1 minute'`))));
}
