import { sql } from 'drizzle-orm';
import { rowsOf, type Db } from '../../db/client.js';
import { TenantRepository } from '../../db/tenant-repository.js';
import { Availability } from './availability.js';
import type { AgentPresenceRow } from './routing.schema.js';
import { agentPresence } from './routing.schema.js';
import { and, eq, inArray } from 'drizzle-orm';

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
      .where(and(eq(agentPresence.tenantId, this.tenantId), inArray(agentPresence.userId, [...userIds])));
  }
}

/** Users with an open socket on this instance were seen now (one statement for all of them). */
export async function recordSeen(db: Db, users: ReadonlyArray<{ tenantId: string; userId: string }>): Promise<void> {
  if (users.length === 0) return;
  const tenantIds = `{${users.map((u) => u.tenantId).join(',')}}`;
  const userIds = `{${users.map((u) => u.userId).join(',')}}`;
  await db.execute(sql`
    insert into agent_presence (tenant_id, user_id, last_seen_at)
    select tenant_id, user_id, now() from unnest(${tenantIds}::uuid[], ${userIds}::uuid[]) as s(tenant_id, user_id)
    where exists (select 1 from users u where u.id = s.user_id and u.tenant_id = s.tenant_id)
    on conflict (tenant_id, user_id) do update set last_seen_at = now()`);
}

/**
 * Agents not seen on any instance for the offline delay become OFFLINE (their conversations stay
 * assigned). One statement: with several instances sweeping, each change is reported by one.
 */
export async function expirePresence(db: Db, offlineAfterSeconds: number): Promise<Array<{ tenantId: string; userId: string }>> {
  return rowsOf<{ tenantId: string; userId: string }>(
    await db.execute(sql`
      update agent_presence set availability = ${Availability.OFFLINE}, updated_at = now()
      where availability <> ${Availability.OFFLINE} and last_seen_at < now() - make_interval(secs => ${offlineAfterSeconds})
      returning tenant_id as "tenantId", user_id as "userId"`),
  );
}
