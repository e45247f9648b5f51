import { and, eq, inArray } from 'drizzle-orm';
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

  async create(values: { email: string; name: string; role: Role; passwordHash: string; signedUp?: boolean }): Promise<UserRow> {
    const [row] = await this.db.insert(users).values({ ...values, tenantId: this.tenantId }).returning();
    return row!;
  }
}

/**
 * Log-in happens before a tenant is known: the one lookup across tenants. At most one row: the
 * named tenant's, or without a slug the row signUp created (users_signed_up_email_uq).
 */
export async function findLoginCandidate(db: Db, email: string, tenantSlug: string | null): Promise<UserRow | undefined> {
  if (tenantSlug) {
    const [row] = await db
      .select({ user: users })
      .from(users)
      .innerJoin(tenants, eq(tenants.id, users.tenantId))
      .where(and(eq(users.email, email), eq(tenants.slug, tenantSlug)))
      .limit(1);
    return row?.user;
  }
  const [row] = await db.select().from(users).where(and(eq(users.email, email), eq(users.signedUp, true))).limit(1);
  return row;
}

export async function emailExistsAnywhere(db: Db, email: string): Promise<boolean> {
  const rows = await db.select({ id: users.id }).from(users).where(eq(users.email, email)).limit(1);
  return rows.length > 0;
}
