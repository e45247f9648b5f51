import { and, asc, eq, getTableName, inArray, isNotNull, isNull, lte, ne, or, sql, type SQL } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import type { Db } from '../../db/client.js';
import { literal } from '../../db/sql.js';
import { TenantRepository } from '../../db/tenant-repository.js';
import { ConversationStatus } from '../conversations/conversation-status.js';
import { conversations } from '../conversations/conversations.schema.js';
import { phoneNumbers } from '../phone-numbers/phone-numbers.schema.js';
import { AssignmentStrategy } from '../teams/assignment-strategy.js';
import { teamMembers, teams } from '../teams/teams.schema.js';
import { Availability } from './availability.js';
import { users } from '../users/users.schema.js';
import { agentPresence } from './routing.schema.js';
import { pickAssignee, type Candidate } from './strategy.js';
import { insertWebhookEvents } from '../webhook-events/webhook-events.sql.js';

export interface Assignment {
  conversationId: string;
  assigneeId: string;
}

/** Most conversations one routing pass assigns (a team with unlimited capacity and a long queue loops). */
export const ROUTING_BATCH = 200;

/** A Postgres array literal of uuids (ids come from our own rows, never from clients). */
const uuidArray = (ids: readonly string[]) => `{${ids.join(',')}}`;

/**
 * The same thread's earlier conversation (a reopened one's previous assignee), in a subquery of a
 * one-table select, where drizzle leaves column names unqualified: qualified by hand here.
 */
const PREVIOUS = 'previous';
const p = (column: PgColumn) => sql`${sql.identifier(PREVIOUS)}.${sql.identifier(column.name)}`;
const c = (column: PgColumn) => sql`${sql.identifier(getTableName(conversations))}.${sql.identifier(column.name)}`;

/** Live (OPEN or PENDING), unassigned, in a team: in its team's queue (held, unchecked or ready). */
function inQueue(): SQL {
  return and(isNotNull(conversations.teamId), isNull(conversations.assigneeId), ne(conversations.status, ConversationStatus.RESOLVED))!;
}

/**
 * In the queue and not held: either ready (the beforeRouting guards ran and let it through:
 * route_after is when, or when a hold ended) or not checked yet (route_after null: just opened, and
 * the process that opened it may have died before its guards ran). Teams with such work get a pass.
 */
function waitingInQueue(): SQL {
  return and(inQueue(), or(isNull(conversations.routeAfter), lte(conversations.routeAfter, sql`now()`)))!;
}

/**
 * What a pass may assign: the guards ran (route_after set) and any hold is over. statement_timestamp(),
 * not now(): a pass transaction that began before a guard's verdict committed still sees it as due.
 */
function readyInQueue(): SQL {
  return and(inQueue(), lte(conversations.routeAfter, sql`statement_timestamp()`))!;
}

/** The conversation's team has automatic assignment and at least one ONLINE member. */
function routableTeam(): SQL {
  return sql`${teams.strategy} <> ${literal(AssignmentStrategy.MANUAL)} and exists (
    select 1 from ${teamMembers} join ${agentPresence}
      on ${agentPresence.tenantId} = ${teamMembers.tenantId} and ${agentPresence.userId} = ${teamMembers.userId}
      join ${users} on ${users.tenantId} = ${teamMembers.tenantId} and ${users.id} = ${teamMembers.userId} and ${users.active}
    where ${teamMembers.tenantId} = ${conversations.tenantId} and ${teamMembers.teamId} = ${conversations.teamId}
      and ${agentPresence.availability} = ${literal(Availability.ONLINE)})`;
}

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
      const [team] = await tx
        .select({ strategy: teams.strategy, capacity: teams.agentCapacity })
        .from(teams)
        .where(and(eq(teams.tenantId, t), eq(teams.id, teamId)))
        .for('update');
      if (!team || team.strategy === AssignmentStrategy.MANUAL) return [];

      const members = await tx
        .select({
          userId: agentPresence.userId,
          // Fixed-width UTC text sorts in time order; never assigned (null → '') sorts first.
          lastAssignedAt: sql<string | null>`to_char(${teamMembers.lastAssignedAt} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US')`,
        })
        .from(teamMembers)
        .innerJoin(agentPresence, and(eq(agentPresence.tenantId, teamMembers.tenantId), eq(agentPresence.userId, teamMembers.userId)))
        // A deactivated user may still be marked ONLINE: never eligible.
        .innerJoin(users, and(eq(users.tenantId, teamMembers.tenantId), eq(users.id, teamMembers.userId), eq(users.active, true)))
        .where(and(eq(teamMembers.tenantId, t), eq(teamMembers.teamId, teamId), eq(agentPresence.availability, Availability.ONLINE)))
        .orderBy(asc(agentPresence.userId))
        .for('update', { of: agentPresence });
      if (members.length === 0) return [];

      const loads = new Map(
        (
          await tx
            .select({ userId: conversations.assigneeId, load: sql<number>`count(*)::int` })
            .from(conversations)
            .where(
              and(
                eq(conversations.tenantId, t),
                inArray(conversations.assigneeId, members.map((m) => m.userId)),
                ne(conversations.status, ConversationStatus.RESOLVED),
              ),
            )
            .groupBy(conversations.assigneeId)
        ).map((r) => [r.userId, Number(r.load)]),
      );
      const capacity = team.capacity ?? Number.POSITIVE_INFINITY;
      const candidates: Candidate[] = members.map((m) => ({
        userId: m.userId,
        load: loads.get(m.userId) ?? 0,
        turn: m.lastAssignedAt ?? '',
      }));
      const spare = candidates.reduce((sum, c) => sum + Math.max(0, capacity - c.load), 0);
      if (spare <= 0) return [];

      const waiting = await tx
        .select({
          id: conversations.id,
          previousAssigneeId: sql<string | null>`(
            select ${p(conversations.assigneeId)} from ${conversations} ${sql.identifier(PREVIOUS)}
            where ${p(conversations.tenantId)} = ${c(conversations.tenantId)} and ${p(conversations.phoneNumberId)} = ${c(conversations.phoneNumberId)}
              and ${p(conversations.contactId)} = ${c(conversations.contactId)}
              and ${p(conversations.status)} = ${literal(ConversationStatus.RESOLVED)} and ${p(conversations.createdAt)} < ${c(conversations.createdAt)}
            order by ${p(conversations.createdAt)} desc limit 1)`,
        })
        .from(conversations)
        .where(and(eq(conversations.tenantId, t), eq(conversations.teamId, teamId), readyInQueue()))
        .orderBy(asc(conversations.queuedAt), asc(conversations.id))
        .limit(Math.min(spare, ROUTING_BATCH))
        .for('update', { of: conversations, skipLocked: true });

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
      // CONVERSATION_ASSIGNED webhook events are written by the same statement (committed with the assignment).
      await tx.execute(sql`
        with assigned as (
          update ${conversations} set ${sql.identifier(conversations.assigneeId.name)} = v.assignee_id,
            ${sql.identifier(conversations.updatedAt.name)} = now()
          from unnest(${conversationIds}::uuid[], ${assigneeIds}::uuid[]) with ordinality as v(id, assignee_id, ord)
          where ${conversations.tenantId} = ${t}::uuid and ${conversations.id} = v.id and ${conversations.assigneeId} is null
          returning ${conversations.id}, v.ord
        )
        ${insertWebhookEvents(sql`
          select ${t}::uuid as tenant_id, 'CONVERSATION_ASSIGNED' as event_type, assigned.id as subject_id, assigned.id as conversation_id, assigned.ord::int as ord
          from assigned
        `)}`);
      // The turn: each member's last assignment of this pass, in pass order, after every earlier
      // pass. statement_timestamp() is one value for the whole statement (clock_timestamp(), even
      // in a subquery, was read per row and scrambled the order), taken now, after the locks.
      await tx.execute(sql`
        update ${teamMembers} set ${sql.identifier(teamMembers.lastAssignedAt.name)} = statement_timestamp() + v.ord * interval '1 microsecond'
        from (
          select assignee_id, max(ord) as ord
          from unnest(${assigneeIds}::uuid[]) with ordinality as a(assignee_id, ord)
          group by assignee_id
        ) v
        where ${teamMembers.tenantId} = ${t}::uuid and ${teamMembers.teamId} = ${teamId}::uuid and ${teamMembers.userId} = v.assignee_id`);
      return assignments;
    });
  }

  /** Teams of this tenant (or just `teamId`) with routable waiting conversations and an ONLINE member. */
  async teamsWithWork(teamId?: string | null): Promise<string[]> {
    const rows = await this.db
      .selectDistinct({ teamId: conversations.teamId })
      .from(conversations)
      .innerJoin(teams, and(eq(teams.tenantId, conversations.tenantId), eq(teams.id, conversations.teamId)))
      .where(
        and(
          eq(conversations.tenantId, this.tenantId),
          teamId ? eq(conversations.teamId, teamId) : undefined,
          waitingInQueue(),
          routableTeam(),
        ),
      );
    return rows.map((r) => r.teamId!);
  }

  /**
   * Queued conversations of the team whose beforeRouting guards have not run (route_after null),
   * oldest first: opened by a process that died before its guards ran, or queued by a path that
   * does not run them (transfers, team moves). A pass runs the guards on these first.
   */
  async unchecked(teamId: string, limit = ROUTING_BATCH): Promise<string[]> {
    const rows = await this.db
      .select({ id: conversations.id })
      .from(conversations)
      .where(this.scoped(conversations, eq(conversations.teamId, teamId), inQueue(), isNull(conversations.routeAfter)))
      .orderBy(asc(conversations.queuedAt), asc(conversations.id))
      .limit(limit);
    return rows.map((r) => r.id);
  }

  /**
   * Records the guards' verdicts, in one statement: held until a date, or (null) ready now. Only
   * rows still unchecked: a verdict recorded meanwhile (by the opening process, or another
   * instance's pass) stands.
   */
  async recordVerdicts(verdicts: ReadonlyArray<{ conversationId: string; holdUntil: Date | null }>): Promise<void> {
    if (verdicts.length === 0) return;
    const ids = uuidArray(verdicts.map((v) => v.conversationId));
    const untils = `{${verdicts.map((v) => (v.holdUntil ? `"${v.holdUntil.toISOString()}"` : 'NULL')).join(',')}}`;
    await this.db.execute(sql`
      update ${conversations} set ${sql.identifier(conversations.routeAfter.name)} = coalesce(v.until, now())
      from unnest(${ids}::uuid[], ${untils}::timestamptz[]) as v(id, until)
      where ${conversations.tenantId} = ${this.tenantId}::uuid and ${conversations.id} = v.id and ${conversations.routeAfter} is null`);
  }

  /**
   * Team deletion, in the caller's transaction: the team's live conversations move to `moveTo`
   * (unassigned and queued there: routed by its strategy) or, without it, become team-less
   * (assignees kept); resolved ones follow (reports by team), and numbers pointing at the team
   * lose it. Returns the live conversations with who held them, read under lock before the move.
   */
  async moveTeamAway(teamId: string, moveTo: string | null): Promise<Array<{ id: string; assigneeId: string | null }>> {
    const inTeam = this.scoped(conversations, eq(conversations.teamId, teamId));
    const isLive = and(inTeam, ne(conversations.status, ConversationStatus.RESOLVED));
    const live = await this.db
      .select({ id: conversations.id, assigneeId: conversations.assigneeId })
      .from(conversations)
      .where(isLive)
      .for('update');
    await this.db
      .update(conversations)
      .set(
        moveTo === null
          ? { teamId: null, updatedAt: sql`now()` }
          : { teamId: moveTo, assigneeId: null, queuedAt: sql`now()`, updatedAt: sql`now()` },
      )
      .where(isLive);
    await this.db.update(conversations).set({ teamId: moveTo }).where(inTeam);
    await this.db.update(phoneNumbers).set({ teamId: null }).where(this.scoped(phoneNumbers, eq(phoneNumbers.teamId, teamId)));
    return live;
  }

  /** Whether an opened conversation is still waiting for an agent of an automatic team (onQueued). */
  async stillQueued(conversationId: string): Promise<boolean> {
    const [row] = await this.db
      .select({ id: conversations.id })
      .from(conversations)
      .innerJoin(teams, and(eq(teams.tenantId, conversations.tenantId), eq(teams.id, conversations.teamId)))
      .where(
        and(
          this.scoped(conversations, eq(conversations.id, conversationId), readyInQueue()),
          ne(teams.strategy, AssignmentStrategy.MANUAL),
        ),
      );
    return row !== undefined;
  }
}

/** Every tenant's teams with routable work (the sweep, across tenants: a system job). */
export async function teamsWithWorkAnywhere(db: Db, limit = 1000): Promise<Array<{ tenantId: string; teamId: string }>> {
  const rows = await db
    .selectDistinct({ tenantId: conversations.tenantId, teamId: conversations.teamId })
    .from(conversations)
    .innerJoin(teams, and(eq(teams.tenantId, conversations.tenantId), eq(teams.id, conversations.teamId)))
    .where(and(waitingInQueue(), routableTeam()))
    .limit(limit);
  return rows.map((r) => ({ tenantId: r.tenantId, teamId: r.teamId! }));
}

