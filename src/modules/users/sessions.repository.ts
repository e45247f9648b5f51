import { and, eq, isNull, ne, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { TenantRepository } from '../../db/tenant-repository.js';
import { isUuid } from '../../shared/ids.js';
import { Role } from './role.js';
import { users } from './users.schema.js';
import { sessions } from './sessions.schema.js';

/** A session and its user as every request needs them. */
export interface SessionState {
  sessionId: string;
  userId: string;
  tenantId: string;
  role: Role;
  active: boolean;
  revoked: boolean;
  expiresAt: number;
}

export class SessionsRepository extends TenantRepository {
  async create(userId: string, expiresAt: Date): Promise<string> {
    const [row] = await this.db.insert(sessions).values({ tenantId: this.tenantId, userId, expiresAt }).returning({ id: sessions.id });
    return row!.id;
  }

  /** Revokes one session; returns whether it was live. */
  async revoke(sessionId: string): Promise<boolean> {
    if (!isUuid(sessionId)) return false;
    const rows = await this.db
      .update(sessions)
      .set({ revokedAt: sql`now()` })
      .where(this.scoped(sessions, eq(sessions.id, sessionId), isNull(sessions.revokedAt)))
      .returning({ id: sessions.id });
    return rows.length > 0;
  }

  /** Revokes every session of the user, except `keep` when given. */
  async revokeAllOf(userId: string, keep?: string): Promise<void> {
    await this.db
      .update(sessions)
      .set({ revokedAt: sql`now()` })
      .where(this.scoped(sessions, eq(sessions.userId, userId), isNull(sessions.revokedAt), keep ? ne(sessions.id, keep) : undefined));
  }
}

/** One indexed lookup (primary key + the user's row); the token already named the tenant. */
export async function loadSessionState(db: Db, tenantId: string, sessionId: string): Promise<SessionState | null> {
  if (!isUuid(sessionId)) return null;
  const [row] = await db
    .select({
      sessionId: sessions.id,
      userId: sessions.userId,
      tenantId: sessions.tenantId,
      role: users.role,
      active: users.active,
      revokedAt: sessions.revokedAt,
      expiresAt: sessions.expiresAt,
    })
    .from(sessions)
    .innerJoin(users, and(eq(users.id, sessions.userId), eq(users.tenantId, sessions.tenantId)))
    .where(and(eq(sessions.id, sessionId), eq(sessions.tenantId, tenantId)))
    .limit(1);
  if (!row) return null;
  return {
    sessionId: row.sessionId,
    userId: row.userId,
    tenantId: row.tenantId,
    role: row.role === Role.ADMIN ? Role.ADMIN : Role.AGENT,
    active: row.active,
    revoked: row.revokedAt !== null,
    expiresAt: row.expiresAt.getTime(),
  };
}
