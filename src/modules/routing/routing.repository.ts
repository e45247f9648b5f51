import { and, asc, eq, isNotNull, isNull, lt, lte, ne, or, sql, type SQL } from 'drizzle-orm';
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

export interface Assignment {
  conversationId: string;
  assigneeId: string;
}

/** Most conversations one routing pass assigns (a team with unlimited capacity and a long queue loops). */
export const ROUTING_BATCH = 200;

/** A Postgres array literal of uuids (ids come from our own rows, never from clients). */
const uuidArray = (ids: readonly string[]) => `{${ids.join(',')}}`;

/** Live (OPEN or PENDING), unassigned, in a team: in its team's queue (held, unchecked or ready). */
function inQueue(): SQL {
  return and(isNotNull(conversations.teamId), isNull(conversations.assigneeId), ne(conversations.status, ConversationStatus.RESOLVED))!;
}

/**
 * How long an opening may stay unchecked (route_after null) before the sweep takes it for one a
 * crash left behind. Younger ones are in flight: the process that opened them runs their guards
 * and a pass within OPENINGS_WINDOW_MS or so. Under a burst of openings the sweep otherwise ran a
 * pass of its own for every team, every interval, doubling routing's statements.
 */
export const UNCHECKED_GRACE_SECONDS = 30;

/**
 * In the queue and not held: either ready (the beforeRouting guards ran and let it through:
 * route_after is when, or when a hold ended) or not checked yet (route_after null: just opened, and
 * the process that opened it may have died before its guards ran). Teams with such work get a pass.
 * `sweep`: unchecked ones only once older than UNCHECKED_GRACE_SECONDS.
 */
function waitingInQueue(sweep = false): SQL {
  const unchecked = sweep
    ? and(isNull(conversations.routeAfter), lt(conversations.queuedAt, sql`now() - interval '${sql.raw(String(UNCHECKED_GRACE_SECONDS))} seconds'`))
    : isNull(conversations.routeAfter);
  return and(inQueue(), or(unchecked, lte(conversations.routeAfter, sql`now()`)))!;
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
 * Automatic assignment, in the database (the pass itself: routeTeams, below, one call of the
 * database function route_pass). One pass over one team's queue is one transaction that takes, in
 * this order, the team row (FOR NO KEY UPDATE: passes of one team run one at a time, on any
 * instance), then its ONLINE members' presence rows ordered by user id (FOR UPDATE: every
 * automatic assignment to an agent, from any team and any instance, is serialised on that row,
 * and the fixed order rules out deadlocks), then, in a new statement (so it sees every assignment
 * committed before the locks were granted), reads the members' live load and locks the waiting
 * conversations the spare capacity can take (FOR UPDATE SKIP LOCKED: a conversation being changed
 * by a transfer is left to the next pass). Capacity therefore holds, and no conversation is
 * assigned twice, across processes. The choice (strategy.ts states the rules; route_pass follows
 * them, and a test holds the two to the same answers) runs while the locks are held.
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

/** Every tenant's teams with routable work (the sweep, across tenants: a system job; unchecked openings after UNCHECKED_GRACE_SECONDS). */
export async function teamsWithWorkAnywhere(db: Db, limit = 1000): Promise<Array<{ tenantId: string; teamId: string }>> {
  const rows = await db
    .selectDistinct({ tenantId: conversations.tenantId, teamId: conversations.teamId })
    .from(conversations)
    .innerJoin(teams, and(eq(teams.tenantId, conversations.tenantId), eq(teams.id, conversations.teamId)))
    .where(and(waitingInQueue(true), routableTeam()))
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
 * A pass over several teams' queues (the openings of a burst, whatever their tenants): one call
 * of the database function route_pass (migration 0020_routing_pass_sql), one statement and one
 * round trip whatever the number of teams. The function takes the locks of a one-team pass (see
 * RoutingRepository) in one global order: every team row first, sorted by (tenant, id), then the
 * ONLINE members' presence rows sorted by (tenant, user id); so passes of any shape cannot
 * deadlock. Then, in a new snapshot, the members' live load and the waiting conversations the
 * spare capacity can take (FOR UPDATE SKIP LOCKED), the choice of pickAssignee (strategy.ts,
 * which the function follows rule for rule), and one statement that assigns, records the
 * CONVERSATION_ASSIGNED webhook events, the members' turns and the verdict of the checked
 * openings left waiting. A member of two teams of the pass is one candidate with one load.
 * Sent as BEGIN, four statements and COMMIT before, the round trips were most of what routing
 * cost the server per opening.
 */
export async function routeTeams(db: Db, work: readonly TeamWork[]): Promise<TeamAssignments[]> {
  if (work.length === 0) return [];
  const checked = work.flatMap((w) => w.checked.map((id) => ({ tenantId: w.tenantId, id })));
  const rows = rowsOf<{ tenantId: string; teamId: string; conversationId: string; assigneeId: string }>(
    await db.execute(sql`
      select r_tenant_id as "tenantId", r_team_id as "teamId", r_conversation_id as "conversationId", r_assignee_id as "assigneeId"
      from route_pass(${uuidArray(work.map((w) => w.tenantId))}::uuid[], ${uuidArray(work.map((w) => w.teamId))}::uuid[],
        ${uuidArray(checked.map((k) => k.tenantId))}::uuid[], ${uuidArray(checked.map((k) => k.id))}::uuid[], ${ROUTING_BATCH}::int)`),
  );
  const done = new Map<string, TeamAssignments>();
  for (const r of rows) {
    const key = `${r.tenantId}:${r.teamId}`;
    let team = done.get(key);
    if (!team) done.set(key, (team = { tenantId: r.tenantId, teamId: r.teamId, assignments: [] }));
    team.assignments.push({ conversationId: r.conversationId, assigneeId: r.assigneeId });
  }
  return [...done.values()];
}
