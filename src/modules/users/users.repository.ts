import { and, asc, eq } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { TenantRepository } from '../../db/tenant-repository.js';
import { isUuid } from '../../shared/ids.js';
import { tenants } from '../tenants/tenants.schema.js';
import { users, type UserRow } from './users.schema.js';
import { Role } from './role.js';

export class UsersRepository extends TenantRepository {
  async findById(id: string): Promise<UserRow | undefined> {
    if (!isUuid(id)) return undefined;
    const [row] = await this.db.select().from(users).where(this.scoped(users, eq(users.id, id))).limit(1);
    return row;
  }

  async findByIds(ids: readonly string[]): Promise<UserRow[]> {
    return this.rowsByIds(users, ids);
  }

  /** At most 1,000, oldest first. */
  async list(filter: { role?: Role | null; active?: boolean | null }): Promise<UserRow[]> {
    return this.db
      .select()
      .from(users)
      .where(
        this.scoped(
          users,
          filter.role ? eq(users.role, filter.role) : undefined,
          filter.active === null || filter.active === undefined ? undefined : eq(users.active, filter.active),
        ),
      )
      .orderBy(asc(users.createdAt), asc(users.id))
      .limit(1000);
  }

  /**
   * Locks the tenant's active admins in id order (inside a transaction), so concurrent demotions
   * and deactivations of admins serialise instead of each seeing another admin left.
   */
  async lockActiveAdmins(): Promise<string[]> {
    const rows = await this.db
      .select({ id: users.id })
      .from(users)
      .where(this.scoped(users, eq(users.role, Role.ADMIN), eq(users.active, true)))
      .orderBy(asc(users.id))
      .for('update');
    return rows.map((r) => r.id);
  }

  async update(id: string, values: { name?: string; role?: Role; active?: boolean; passwordHash?: string }): Promise<UserRow | undefined> {
    if (Object.keys(values).length === 0) return this.findById(id);
    const [row] = await this.db.update(users).set(values).where(this.scoped(users, eq(users.id, id))).returning();
    return row;
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
