import { sql } from 'drizzle-orm';
import { rowsOf, type Db } from '../../db/client.js';
import { TenantRepository } from '../../db/tenant-repository.js';
import { AssignmentStrategy } from '../teams/assignment-strategy.js';
import { pickAssignee, type Candidate } from './strategy.js';

export interface Assignment {
  conversationId: string;
  assigneeId: string;
}

/** Most conversations one routing pass assigns (a team with unlimited capacity and a long queue loops). */
export const ROUTING_BATCH = 200;

/** A Postgres array literal of uuids (ids come from our own rows, never from clients). */
const uuidArray = (ids: readonly string[]) => `{${ids.join(',')}}`;

/**
 * Automatic assignment, in the database. One pass over one team's queue is one transaction that
 * takes, in this order, the team row (FOR UPDATE: passes of one team run one at a time, on any
 * instance), then its ONLINE members' presence rows ordered by user id (FOR UPDATE: every
 * automatic assignment to an agent, from any team and any instance, is serialised on that row,
 * and the fixed order rules out deadlocks), then reads the members' live load (a new statement,
 * so it sees every assignment committed before the locks were granted) and the waiting
 * conversations (FOR UPDATE SKIP LOCKED: a conversation being changed by a transfer is left to
 * the next pass). Capacity therefore holds, and no conversation is assigned twice, across
 * processes. The choice itself (strategy.ts) runs between these statements while the locks are held.
 */
export class RoutingRepository extends TenantRepository {
  async routeTeam(teamId: string): Promise<Assignment[]> {
    const t = this.tenantId;
    return this.db.transaction(async (tx) => {
      const [team] = rowsOf<{ strategy: AssignmentStrategy; capacity: number | null }>(
        await tx.execute(sql`
          select strategy, agent_capacity as capacity from teams
          where tenant_id = ${t}::uuid and id = ${teamId}::uuid for update`),
      );
      if (!team || team.strategy === AssignmentStrategy.MANUAL) return [];

      const members = rowsOf<{ userId: string; lastAssignedAt: string | null }>(
        await tx.execute(sql`
          select p.user_id as "userId", to_char(m.last_assigned_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') as "lastAssignedAt"
          from team_members m
          join agent_presence p on p.tenant_id = m.tenant_id and p.user_id = m.user_id
          where m.tenant_id = ${t}::uuid and m.team_id = ${teamId}::uuid and p.availability = 'ONLINE'
          order by p.user_id
          for update of p`),
      );
      if (members.length === 0) return [];

      const loads = new Map(
        rowsOf<{ userId: string; load: number }>(
          await tx.execute(sql`
            select assignee_id as "userId", count(*)::int as load from conversations
            where tenant_id = ${t}::uuid and assignee_id = any(${uuidArray(members.map((m) => m.userId))}::uuid[])
              and status <> 'RESOLVED'
            group by assignee_id`),
        ).map((r) => [r.userId, Number(r.load)]),
      );
      const capacity = team.capacity ?? Number.POSITIVE_INFINITY;
      const candidates: Candidate[] = members.map((m) => ({
        userId: m.userId,
        load: loads.get(m.userId) ?? 0,
        // Fixed-width UTC text sorts in time order; never assigned (empty) sorts first.
        turn: m.lastAssignedAt ?? '',
      }));
      const spare = candidates.reduce((sum, c) => sum + Math.max(0, capacity - c.load), 0);
      if (spare <= 0) return [];

      const waiting = rowsOf<{ id: string; previousAssigneeId: string | null }>(
        await tx.execute(sql`
          select c.id, (
            select p.assignee_id from conversations p
            where p.tenant_id = c.tenant_id and p.phone_number_id = c.phone_number_id and p.contact_id = c.contact_id
              and p.status = 'RESOLVED' and p.created_at < c.created_at
            order by p.created_at desc limit 1
          ) as "previousAssigneeId"
          from conversations c
          where c.tenant_id = ${t}::uuid and c.team_id = ${teamId}::uuid and c.assignee_id is null
            and c.status <> 'RESOLVED' and (c.route_after is null or c.route_after <= now())
          order by c.queued_at, c.id
          limit ${Math.min(spare, ROUTING_BATCH)}
          for update of c skip locked`),
      );

      const assignments: Assignment[] = [];
      for (const conversation of waiting) {
        const chosen = pickAssignee(team.strategy, candidates, capacity, conversation.previousAssigneeId);
        if (!chosen) break;
        chosen.load += 1;
        chosen.turn = `~${String(assignments.length).padStart(6, '0')}`; // after every stored timestamp
        assignments.push({ conversationId: conversation.id, assigneeId: chosen.userId });
      }
      if (assignments.length === 0) return [];

      const conversationIds = uuidArray(assignments.map((a) => a.conversationId));
      const assigneeIds = uuidArray(assignments.map((a) => a.assigneeId));
      await tx.execute(sql`
        update conversations c set assignee_id = v.assignee_id, updated_at = now()
        from unnest(${conversationIds}::uuid[], ${assigneeIds}::uuid[]) as v(id, assignee_id)
        where c.tenant_id = ${t}::uuid and c.id = v.id and c.assignee_id is null`);
      // The turn: each member's last assignment of this pass, in pass order, after every earlier
      // pass. statement_timestamp() is one value for the whole statement (clock_timestamp(), even
      // in a subquery, was read per row and scrambled the order), taken now, after the locks.
      await tx.execute(sql`
        update team_members m set last_assigned_at = statement_timestamp() + v.ord * interval '1 microsecond'
        from (
          select assignee_id, max(ord) as ord
          from unnest(${assigneeIds}::uuid[]) with ordinality as a(assignee_id, ord)
          group by assignee_id
        ) v
        where m.tenant_id = ${t}::uuid and m.team_id = ${teamId}::uuid and m.user_id = v.assignee_id`);
      return assignments;
    });
  }

  /** Teams of this tenant (or just `teamId`) with routable waiting conversations and an ONLINE member. */
  async teamsWithWork(teamId?: string | null): Promise<string[]> {
    const rows = rowsOf<{ teamId: string }>(
      await this.db.execute(sql`
        select distinct c.team_id as "teamId" from conversations c
        join teams t on t.tenant_id = c.tenant_id and t.id = c.team_id and t.strategy <> 'MANUAL'
        where c.tenant_id = ${this.tenantId}::uuid and c.team_id is not null and c.assignee_id is null
          and c.status <> 'RESOLVED' and (c.route_after is null or c.route_after <= now())
          ${teamId ? sql`and c.team_id = ${teamId}::uuid` : sql``}
          and exists (
            select 1 from team_members m join agent_presence p on p.tenant_id = m.tenant_id and p.user_id = m.user_id
            where m.tenant_id = c.tenant_id and m.team_id = c.team_id and p.availability = 'ONLINE')`),
    );
    return rows.map((r) => r.teamId);
  }

  /** Holds automatic assignment of one conversation until `until` (a beforeRouting guard's answer). */
  async holdUntil(conversationId: string, until: Date): Promise<void> {
    await this.db.execute(sql`
      update conversations set route_after = ${until.toISOString()}::timestamptz
      where tenant_id = ${this.tenantId}::uuid and id = ${conversationId}::uuid`);
  }

  /** Whether an opened conversation is still waiting for an agent of an automatic team (onQueued). */
  async stillQueued(conversationId: string): Promise<boolean> {
    const [row] = rowsOf<{ queued: boolean }>(
      await this.db.execute(sql`
        select (c.assignee_id is null and c.status <> 'RESOLVED' and t.strategy <> 'MANUAL'
          and (c.route_after is null or c.route_after <= now())) as queued
        from conversations c join teams t on t.tenant_id = c.tenant_id and t.id = c.team_id
        where c.tenant_id = ${this.tenantId}::uuid and c.id = ${conversationId}::uuid`),
    );
    return row?.queued === true;
  }
}

/** Every tenant's teams with routable work (the sweep, across tenants: a system job). */
export async function teamsWithWorkAnywhere(db: Db, limit = 1000): Promise<Array<{ tenantId: string; teamId: string }>> {
  return rowsOf<{ tenantId: string; teamId: string }>(
    await db.execute(sql`
      select distinct c.tenant_id as "tenantId", c.team_id as "teamId" from conversations c
      join teams t on t.tenant_id = c.tenant_id and t.id = c.team_id and t.strategy <> 'MANUAL'
      where c.team_id is not null and c.assignee_id is null and c.status <> 'RESOLVED'
        and (c.route_after is null or c.route_after <= now())
        and exists (
          select 1 from team_members m join agent_presence p on p.tenant_id = m.tenant_id and p.user_id = m.user_id
          where m.tenant_id = c.tenant_id and m.team_id = c.team_id and p.availability = 'ONLINE')
      limit ${limit}`),
  );
}
