import { eq, inArray } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { TenantRepository } from '../../db/tenant-repository.js';
import { tenants } from '../tenants/tenants.schema.js';
import { users, type UserRow } from './users.schema.js';
import type { Role } from './role.js';

export class UsersRepository extends TenantRepository {
  async findById(id: string): Promise<UserRow | undefined> {
    const [row] = await this.db.select().from(users).where(this.scoped(users, eq(users.id, id))).limit(1);
    return row;
  }

  async findByIds(ids: readonly string[]): Promise<UserRow[]> {
    if (ids.length === 0) return [];
    return this.db.select().from(users).where(this.scoped(users, inArray(users.id, [...ids])));
  }

  async create(values: { email: string; name: string; role: Role; passwordHash: string }): Promise<UserRow> {
    const [row] = await this.db.insert(users).values({ ...values, tenantId: this.tenantId }).returning();
    return row!;
  }
}

export interface LoginCandidate {
  user: UserRow;
  tenantSlug: string;
}

/** Log-in happens before a tenant is known: the one lookup across tenants, by email only. */
export async function findLoginCandidates(db: Db, email: string, tenantSlug?: string | null): Promise<LoginCandidate[]> {
  const rows = await db
    .select({ user: users, tenantSlug: tenants.slug })
    .from(users)
    .innerJoin(tenants, eq(tenants.id, users.tenantId))
    .where(eq(users.email, email))
    .limit(20);
  return tenantSlug ? rows.filter((r) => r.tenantSlug === tenantSlug) : rows;
}

export async function emailExistsAnywhere(db: Db, email: string): Promise<boolean> {
  const rows = await db.select({ id: users.id }).from(users).where(eq(users.email, email)).limit(1);
  return rows.length > 0;
}
