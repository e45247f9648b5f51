import { and, eq, lt, ne, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { columnList, anyUuid } from '../../db/sql.js';
import { TenantRepository } from '../../db/tenant-repository.js';
import { users } from '../users/users.schema.js';
import { Availability } from './availability.js';
import { agentPresence, type AgentPresenceRow } from './routing.schema.js';

export class PresenceRepository extends TenantRepository {
  /**
   * Sets a user's availability. A socket heartbeat older than the offline delay is dropped: the
   * user is evidently not on a socket now, and presence must not turn them OFFLINE at once.
   */
  async setAvailability(userId: string, availability: Availability, offlineAfterSeconds: number): Promise<AgentPresenceRow> {
    const [row] = await this.db
      .insert(agentPresence)
      .values({ tenantId: this.tenantId, userId, availability })
      .onConflictDoUpdate({
        target: [agentPresence.tenantId, agentPresence.userId],
        set: {
          availability,
          lastSeenAt: sql`case when ${agentPresence.lastSeenAt} < now() - make_interval(secs => ${offlineAfterSeconds}) then null else ${agentPresence.lastSeenAt} end`,
          updatedAt: sql`now()`,
        },
      })
      .returning();
    return row!;
  }

  async findByUserIds(userIds: readonly string[]): Promise<AgentPresenceRow[]> {
    if (userIds.length === 0) return [];
    return this.db
      .select()
      .from(agentPresence)
      .where(and(eq(agentPresence.tenantId, this.tenantId), anyUuid(agentPresence.userId, userIds)));
  }
}

/** Users with an open socket on this instance were seen now (one statement for all of them). */
export async function recordSeen(db: Db, seen: ReadonlyArray<{ tenantId: string; userId: string }>): Promise<void> {
  if (seen.length === 0) return;
  const tenantIds = `{${seen.map((u) => u.tenantId).join(',')}}`;
  const userIds = `{${seen.map((u) => u.userId).join(',')}}`;
  await db.execute(sql`
    insert into ${agentPresence} (${columnList(agentPresence.tenantId, agentPresence.userId, agentPresence.lastSeenAt)})
    select s.tenant_id, s.user_id, now() from unnest(${tenantIds}::uuid[], ${userIds}::uuid[]) as s(tenant_id, user_id)
    where exists (select 1 from ${users} where ${users.id} = s.user_id and ${users.tenantId} = s.tenant_id)
    on conflict (${columnList(agentPresence.tenantId, agentPresence.userId)})
      do update set ${sql.identifier(agentPresence.lastSeenAt.name)} = now()`);
}

/**
 * Agents not seen on any instance for the offline delay become OFFLINE (their conversations stay
 * assigned). One statement: with several instances sweeping, each change is reported by one.
 */
export async function expirePresence(db: Db, offlineAfterSeconds: number): Promise<Array<{ tenantId: string; userId: string }>> {
  return db
    .update(agentPresence)
    .set({ availability: Availability.OFFLINE, updatedAt: sql`now()` })
    .where(
      and(
        ne(agentPresence.availability, Availability.OFFLINE),
        lt(agentPresence.lastSeenAt, sql`now() - make_interval(secs => ${offlineAfterSeconds})`),
      ),
    )
    .returning({ tenantId: agentPresence.tenantId, userId: agentPresence.userId });
}
