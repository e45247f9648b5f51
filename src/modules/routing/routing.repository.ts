import { and, asc, eq, getTableName, inArray, isNotNull, isNull, lte, ne, or, sql, type SQL } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import { rowsOf, type Db } from '../../db/client.js';
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
 * Automatic assignment, in the database (the pass itself: routeTeams, below). One pass over one team's queue is one transaction that
 * takes, in this order, the team row (FOR NO KEY UPDATE: passes of one team run one at a time, on any
 * instance), then its ONLINE members' presence rows ordered by user id (FOR UPDATE: every
 * automatic assignment to an agent, from any team and any instance, is serialised on that row,
 * and the fixed order rules out deadlocks), then, in a new statement (so it sees every assignment
 * committed before the locks were granted), reads the members' live load and locks the waiting
 * conversations the spare capacity can take (FOR UPDATE SKIP LOCKED: a conversation being changed
 * by a transfer is left to the next pass). Capacity therefore holds, and no conversation is
 * assigned twice, across processes. The choice itself (strategy.ts) runs between these statements
 * while the locks are held. Hand-written SQL: this runs for every burst of openings, and drizzle's
 * query builder cost more CPU than the statements themselves.
 */
export class RoutingRepository extends TenantRepository {
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

  /**
   * Which of these opened conversations still wait for an agent of an automatic team, ready
   * (guards ran, not held): onQueued.
   */
  async stillQueued(conversationIds: readonly string[]): Promise<string[]> {
    if (conversationIds.length === 0) return [];
    const rows = rowsOf<{ id: string }>(
      await this.db.execute(sql`
        select ${conversations.id} as id from ${conversations}
        join ${teams} on ${teams.tenantId} = ${conversations.tenantId} and ${teams.id} = ${conversations.teamId}
        where ${conversations.tenantId} = ${this.tenantId}::uuid and ${conversations.id} = any(${uuidArray(conversationIds)}::uuid[])
          and ${readyInQueue()} and ${teams.strategy} <> ${literal(AssignmentStrategy.MANUAL)}`),
    );
    return rows.map((r) => r.id);
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



/**
 * One team's part of a pass. `checked`: conversations of this team whose beforeRouting guards
 * just let them through, not recorded yet (route_after null): the pass may assign them, and
 * records the verdict (route_after = now()) of those it does not assign, in its transaction (one
 * statement less than recording first; should the pass fail, they stay unchecked and the next
 * pass runs their guards again).
 */
export interface TeamWork {
  tenantId: string;
  teamId: string;
  checked: readonly string[];
}

export interface TeamAssignments {
  tenantId: string;
  teamId: string;
  assignments: Assignment[];
}

/**
 * A pass over several teams' queues (the openings of a burst, whatever their tenants), in one
 * transaction of five statements whatever the number of teams. The locks are those of a one-team
 * pass (see RoutingRepository), taken in one global order: every team row first, sorted by
 * (tenant, id), then the ONLINE members' presence rows sorted by (tenant, user id); a one-team
 * pass follows the same order, so passes of any shape cannot deadlock. A member of two teams of
 * the pass is one candidate with one load across both.
 */
export async function routeTeams(db: Db, work: readonly TeamWork[]): Promise<TeamAssignments[]> {
  if (work.length === 0) return [];
  const checked = work.flatMap((w) => w.checked.map((id) => ({ tenantId: w.tenantId, id })));
  return db.transaction(async (tx) => {
    const recordChecked = async (except: ReadonlySet<string> = new Set()) => {
      const rest = checked.filter((k) => !except.has(k.id));
      if (rest.length === 0) return;
      await tx.execute(sql`
        update ${conversations} set ${sql.identifier(conversations.routeAfter.name)} = now()
        from unnest(${uuidArray(rest.map((k) => k.tenantId))}::uuid[], ${uuidArray(rest.map((k) => k.id))}::uuid[]) as k(tenant_id, id)
        where ${conversations.tenantId} = k.tenant_id and ${conversations.id} = k.id and ${conversations.routeAfter} is null`);
    };
    const teamRows = rowsOf<{ tenantId: string; teamId: string; strategy: AssignmentStrategy; capacity: number | null }>(
      await tx.execute(sql`
        select ${teams.tenantId} as "tenantId", ${teams.id} as "teamId", ${teams.strategy} as strategy, ${teams.agentCapacity} as capacity
        from ${teams}
        where (${teams.tenantId}, ${teams.id}) in (
          select * from unnest(${uuidArray(work.map((w) => w.tenantId))}::uuid[], ${uuidArray(work.map((w) => w.teamId))}::uuid[]))
        order by ${teams.tenantId}, ${teams.id}
        -- Not FOR UPDATE: that would also block the foreign-key checks (FOR KEY SHARE) of every
        -- ingest opening a conversation in the team until the pass commits.
        for no key update`),
    ).filter((t) => t.strategy !== AssignmentStrategy.MANUAL);
    if (teamRows.length === 0) {
      await recordChecked();
      return [];
    }

    const members = rowsOf<{ tenantId: string; teamId: string; userId: string; turn: string | null }>(
      await tx.execute(sql`
        select ${teamMembers.tenantId} as "tenantId", ${teamMembers.teamId} as "teamId", ${agentPresence.userId} as "userId",
          -- Fixed-width UTC text sorts in time order; never assigned (null → '') sorts first.
          to_char(${teamMembers.lastAssignedAt} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') as turn
        from ${teamMembers}
        join ${agentPresence} on ${agentPresence.tenantId} = ${teamMembers.tenantId} and ${agentPresence.userId} = ${teamMembers.userId}
        -- A deactivated user may still be marked ONLINE: never eligible.
        join ${users} on ${users.tenantId} = ${teamMembers.tenantId} and ${users.id} = ${teamMembers.userId} and ${users.active}
        where (${teamMembers.tenantId}, ${teamMembers.teamId}) in (
            select * from unnest(${uuidArray(teamRows.map((t) => t.tenantId))}::uuid[], ${uuidArray(teamRows.map((t) => t.teamId))}::uuid[]))
          and ${agentPresence.availability} = ${literal(Availability.ONLINE)}
        order by ${agentPresence.tenantId}, ${agentPresence.userId}
        for update of ${agentPresence}`),
    );
    const staffed = teamRows.filter((t) => members.some((m) => m.tenantId === t.tenantId && m.teamId === t.teamId));
    if (staffed.length === 0) {
      await recordChecked();
      return [];
    }

    // The members' live load and, per team, the waiting conversations its spare capacity can
    // take, in one statement (its snapshot is taken after the locks above were granted).
    // greatest() ignores nulls: no capacity is written as one no load reaches.
    const rows = rowsOf<{ kind: 'load' | 'waiting'; tenantId: string; teamId: string | null; id: string; previous: string | null; n: number }>(
      await tx.execute(sql`
        with m as (
          select * from unnest(${uuidArray(members.map((x) => x.tenantId))}::uuid[], ${uuidArray(members.map((x) => x.teamId))}::uuid[],
            ${uuidArray(members.map((x) => x.userId))}::uuid[]) as m(tenant_id, team_id, user_id)
        ),
        team as (
          select * from unnest(${uuidArray(staffed.map((t) => t.tenantId))}::uuid[], ${uuidArray(staffed.map((t) => t.teamId))}::uuid[],
            ${`{${staffed.map((t) => t.capacity ?? 2_000_000_000).join(',')}}`}::int[]) as t(tenant_id, team_id, capacity)
        ),
        loads as (
          select ${conversations.tenantId} as tenant_id, ${conversations.assigneeId} as id, count(*)::int as n from ${conversations}
          where (${conversations.tenantId}, ${conversations.assigneeId}) in (select tenant_id, user_id from m)
            and ${conversations.status} <> ${literal(ConversationStatus.RESOLVED)}
          group by ${conversations.tenantId}, ${conversations.assigneeId}
        ),
        spare as (
          select team.tenant_id, team.team_id, least(${ROUTING_BATCH}::int, sum(greatest(0, team.capacity - coalesce(loads.n, 0))))::int as n
          from team join m on m.tenant_id = team.tenant_id and m.team_id = team.team_id
          left join loads on loads.tenant_id = m.tenant_id and loads.id = m.user_id
          group by team.tenant_id, team.team_id
        ),
        ranked as (
          select q.* from spare cross join lateral (
            select ${conversations.tenantId} as tenant_id, ${conversations.id} as id,
              row_number() over (order by ${conversations.queuedAt}, ${conversations.id}) as rn
            from ${conversations}
            where ${conversations.tenantId} = spare.tenant_id and ${conversations.teamId} = spare.team_id and ${waitingToRoute(checked)}
            order by ${conversations.queuedAt}, ${conversations.id}
            limit spare.n) q
        ),
        waiting as (
          select ${conversations.tenantId} as tenant_id, ${conversations.teamId} as team_id, ${conversations.id} as id, ranked.rn, (
            select ${p(conversations.assigneeId)} from ${conversations} ${sql.identifier(PREVIOUS)}
            where ${p(conversations.tenantId)} = ${c(conversations.tenantId)} and ${p(conversations.phoneNumberId)} = ${c(conversations.phoneNumberId)}
              and ${p(conversations.contactId)} = ${c(conversations.contactId)}
              and ${p(conversations.status)} = ${literal(ConversationStatus.RESOLVED)} and ${p(conversations.createdAt)} < ${c(conversations.createdAt)}
            order by ${p(conversations.createdAt)} desc limit 1) as previous
          from ${conversations} join ranked on ranked.tenant_id = ${conversations.tenantId} and ranked.id = ${conversations.id}
          -- Checked again on the row found after a lock wait.
          where ${waitingToRoute(checked)}
          for update of ${conversations} skip locked
        )
        select 'waiting' as kind, tenant_id as "tenantId", team_id as "teamId", id, previous, rn::int as n from waiting
        union all
        select 'load', tenant_id, null, id, null, n from loads`),
    );

    const key = (tenantId: string, userId: string) => `${tenantId}:${userId}`;
    const loads = new Map(rows.filter((r) => r.kind === 'load').map((r) => [key(r.tenantId, r.id), Number(r.n)]));
    const done: TeamAssignments[] = [];
    const all: Array<Assignment & { tenantId: string; teamId: string }> = [];
    for (const team of staffed) {
      const waiting = rows
        .filter((r) => r.kind === 'waiting' && r.tenantId === team.tenantId && r.teamId === team.teamId)
        .sort((a, b) => Number(a.n) - Number(b.n));
      const candidates: Candidate[] = members
        .filter((m) => m.tenantId === team.tenantId && m.teamId === team.teamId)
        .map((m) => ({ userId: m.userId, load: 0, turn: m.turn ?? '' }));
      const capacity = team.capacity ?? Number.POSITIVE_INFINITY;
      const assignments: Assignment[] = [];
      for (const conversation of waiting) {
        // One load per agent across the pass's teams.
        for (const cand of candidates) cand.load = loads.get(key(team.tenantId, cand.userId)) ?? 0;
        const chosen = pickAssignee(team.strategy, candidates, capacity, conversation.previous);
        if (!chosen) break;
        loads.set(key(team.tenantId, chosen.userId), chosen.load + 1);
        chosen.turn = `~${String(assignments.length).padStart(6, '0')}`; // after every stored timestamp
        assignments.push({ conversationId: conversation.id, assigneeId: chosen.userId });
        all.push({ tenantId: team.tenantId, teamId: team.teamId, conversationId: conversation.id, assigneeId: chosen.userId });
      }
      if (assignments.length > 0) done.push({ tenantId: team.tenantId, teamId: team.teamId, assignments });
    }
    if (all.length === 0) {
      await recordChecked();
      return [];
    }
    await assign(tx, all, checked);
    return done;
  });
}

/** In the queue, and either ready (guards ran, hold over) or one of `checked` (guards just ran, verdict not stored yet). */
function waitingToRoute(checked: ReadonlyArray<{ id: string }>): SQL {
  return sql`${inQueue()} and (${lte(conversations.routeAfter, sql`statement_timestamp()`)}
    or (${conversations.routeAfter} is null and ${conversations.id} = any(${uuidArray(checked.map((k) => k.id))}::uuid[])))`;
}

/**
 * The assignment statement of a pass, in its transaction, with the rows locked: the chosen
 * assignees, the members' turn, and the verdict of the pass's checked conversations left waiting.
 * The turn: each member's last assignment of this pass, in pass order, after every earlier pass.
 * statement_timestamp() is one value for the whole statement (clock_timestamp(), even in a
 * subquery, was read per row and scrambled the order), taken now, after the locks.
 */
async function assign(
  tx: Db,
  all: ReadonlyArray<Assignment & { tenantId: string; teamId: string }>,
  checked: ReadonlyArray<{ tenantId: string; id: string }>,
): Promise<void> {
  const assigned = new Set(all.map((a) => a.conversationId));
  // A row is updated once per statement: the checked ones this pass assigned are not in this list.
  const leftWaiting = checked.filter((k) => !assigned.has(k.id));
  await tx.execute(sql`
    with v as (
      select * from unnest(${uuidArray(all.map((a) => a.tenantId))}::uuid[], ${uuidArray(all.map((a) => a.teamId))}::uuid[],
        ${uuidArray(all.map((a) => a.conversationId))}::uuid[], ${uuidArray(all.map((a) => a.assigneeId))}::uuid[])
        with ordinality as v(tenant_id, team_id, id, assignee_id, ord)
    ),
    assigned as (
      update ${conversations} set ${sql.identifier(conversations.assigneeId.name)} = v.assignee_id,
        ${sql.identifier(conversations.updatedAt.name)} = now(),
        ${sql.identifier(conversations.routeAfter.name)} = coalesce(${conversations.routeAfter}, now())
      from v
      where ${conversations.tenantId} = v.tenant_id and ${conversations.id} = v.id and ${conversations.assigneeId} is null
      returning ${conversations.tenantId} as tenant_id, ${conversations.id} as id, v.ord
    ),
    -- CONVERSATION_ASSIGNED webhook events, committed with the assignments.
    webhook_events as (${insertWebhookEvents(sql`
      select assigned.tenant_id, 'CONVERSATION_ASSIGNED' as event_type, assigned.id as subject_id, assigned.id as conversation_id, assigned.ord::int as ord
      from assigned
    `)}
      returning 1
    ),
    turns as (
      update ${teamMembers} set ${sql.identifier(teamMembers.lastAssignedAt.name)} = statement_timestamp() + last.ord * interval '1 microsecond'
      from (select tenant_id, team_id, assignee_id, max(ord) as ord from v group by tenant_id, team_id, assignee_id) last
      where ${teamMembers.tenantId} = last.tenant_id and ${teamMembers.teamId} = last.team_id and ${teamMembers.userId} = last.assignee_id
      returning 1
    ),
    checked as (
      update ${conversations} set ${sql.identifier(conversations.routeAfter.name)} = now()
      from unnest(${uuidArray(leftWaiting.map((k) => k.tenantId))}::uuid[], ${uuidArray(leftWaiting.map((k) => k.id))}::uuid[]) as k(tenant_id, id)
      where ${conversations.tenantId} = k.tenant_id and ${conversations.id} = k.id and ${conversations.routeAfter} is null
      returning 1
    )
    select (select count(*) from assigned) as assigned, (select count(*) from turns) as turns, (select count(*) from checked) as checked`);
}
