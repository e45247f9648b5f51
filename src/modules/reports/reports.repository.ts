import { sql, type SQL } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import { rowsOf } from '../../db/client.js';
import { literal } from '../../db/sql.js';
import { TenantRepository } from '../../db/tenant-repository.js';
import { csatSurveys } from '../automations/automations.schema.js';
import { conversations } from '../conversations/conversations.schema.js';
import { MessageDirection } from '../messages/message.enums.js';
import { messages } from '../messages/messages.schema.js';
import { teamMembers } from '../teams/teams.schema.js';
import { users } from '../users/users.schema.js';

export interface Totals {
  conversationsOpened: number;
  conversationsResolved: number;
  messagesReceived: number;
  messagesSent: number;
  medianFirstResponseSeconds: number | null;
  medianResolutionSeconds: number | null;
  csatAverage: number | null;
}

export interface AgentFigures {
  agentId: string;
  conversationsResolved: number;
  medianFirstResponseSeconds: number | null;
  csatAverage: number | null;
}

/** The period, and optionally one team (the conversation's team now: a transferred one counts where it ended). */
export interface ReportScope {
  from: Date;
  to: Date;
  teamId: string | null;
}

/** One figure for the whole scope (`agentId` null) or for one agent. */
interface FigureRow {
  agentId: string | null;
  n: number;
  value: number | null;
}

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

/**
 * Report figures in SQL, each statement an index-only scan of one index that holds every column
 * it reads (the report's columns are trailing key columns of the period indexes):
 * - opened: `conversations (tenant_id, created_at, team_id, first_responder_id, first_inbound_at, first_response_at)`
 *   gives the count, the median first response and each responder's median, in one aggregate
 *   (GROUPING SETS);
 * - resolved: `conversations (tenant_id, resolved_at, team_id, resolved_by_id, created_at)`;
 * - traffic: `messages (tenant_id, created_at, direction, team_id)` (messages.team_id is the
 *   conversation's team now, kept by database triggers);
 * - ratings: `csat_surveys (tenant_id, resolved_at, resolved_by_id, rating, team_id)`, by the
 *   survey's resolution time (a survey belongs to the resolution that asked for it); team_id as
 *   messages'.
 * They are independent, so `report()` sends them at once, each on its own pooled connection. Over
 * 100,000 conversations in 90 days, the two statements before this read every row from the heap
 * and computed `extract()`'s numeric per row: 165 ms each (see bench/results.md). `date_part`
 * gives float8 seconds directly.
 */
export class ReportsRepository extends TenantRepository {
  private inPeriod(column: PgColumn, r: ReportScope): SQL {
    return sql`${column} >= ${r.from.toISOString()}::timestamptz and ${column} < ${r.to.toISOString()}::timestamptz`;
  }

  /**
   * `is not distinct from`, not `=`: no index serves it, so the planner keeps the period index
   * (index-only, team_id in it) instead of fetching the team's every conversation from the heap
   * through `conversations_tenant_team_idx` (measured for a team of 50,000: 88 ms against ~30).
   */
  private ofTeam(r: ReportScope): SQL {
    return r.teamId ? sql`and ${conversations.teamId} is not distinct from ${r.teamId}::uuid` : sql``;
  }

  /**
   * One statement in its own transaction without Postgres's parallel workers. The report already
   * sends its four statements at once on separate connections; parallel workers on top of that
   * oversubscribe the cores (the messages count took 37–43 ms in one process against 47 ms of wall
   * time spread over three), and that is where the report's tail latency came from.
   */
  private async serial(statement: SQL): Promise<unknown> {
    return this.db.transaction(async (tx) => {
      await tx.execute(sql`set local max_parallel_workers_per_gather = 0`);
      return tx.execute(statement);
    });
  }

  private figures(rows: unknown): FigureRow[] {
    return rowsOf<Record<string, unknown>>(rows).map((x) => ({ agentId: x.agentId === null ? null : String(x.agentId), n: Number(x.n), value: num(x.value) }));
  }

  /** Conversations opened in the period: count and median first response, in total and per responder. */
  private async opened(r: ReportScope): Promise<FigureRow[]> {
    const c = conversations;
    return this.figures(
      await this.serial(sql`
        select case when grouping(${c.firstResponderId}) = 0 then ${c.firstResponderId} end as "agentId",
          count(*)::int as n,
          percentile_cont(0.5) within group (order by date_part('epoch', ${c.firstResponseAt} - ${c.firstInboundAt})) as value
        from ${c}
        where ${c.tenantId} = ${this.tenantId}::uuid and ${this.inPeriod(c.createdAt, r)} ${this.ofTeam(r)}
        group by grouping sets ((), (${c.firstResponderId}))
        having grouping(${c.firstResponderId}) = 1 or ${c.firstResponderId} is not null`),
    );
  }

  /** Conversations resolved in the period: count and median resolution time in total, count per resolver. */
  private async resolved(r: ReportScope): Promise<FigureRow[]> {
    const c = conversations;
    const where = sql`${c.tenantId} = ${this.tenantId}::uuid and ${this.inPeriod(c.resolvedAt, r)} ${this.ofTeam(r)}`;
    return this.figures(
      await this.serial(sql`
        select null::uuid as "agentId", count(*)::int as n,
          percentile_cont(0.5) within group (order by date_part('epoch', ${c.resolvedAt} - ${c.createdAt})) as value
        from ${c} where ${where}
        union all
        select ${c.resolvedById}, count(*)::int, null from ${c}
        where ${where} and ${c.resolvedById} is not null
        group by ${c.resolvedById}`),
    );
  }

  /** Texts received and sent in the period. */
  private async traffic(r: ReportScope): Promise<{ received: number; sent: number }> {
    const m = messages;
    const [row] = rowsOf<Record<string, unknown>>(
      await this.serial(sql`
        select count(*) filter (where ${m.direction} = ${literal(MessageDirection.INBOUND)})::int as received,
          count(*) filter (where ${m.direction} = ${literal(MessageDirection.OUTBOUND)})::int as sent
        from ${m}
        where ${m.tenantId} = ${this.tenantId}::uuid and ${this.inPeriod(m.createdAt, r)}
          ${r.teamId ? sql`and ${m.teamId} = ${r.teamId}::uuid` : sql``}`),
    );
    return { received: Number(row!.received), sent: Number(row!.sent) };
  }

  /** Average CSAT rating of resolutions in the period, in total and per resolver (`n` = ratings). */
  private async ratings(r: ReportScope): Promise<FigureRow[]> {
    const s = csatSurveys;
    return this.figures(
      await this.serial(sql`
        select case when grouping(${s.resolvedById}) = 0 then ${s.resolvedById} end as "agentId",
          count(*)::int as n, avg(${s.rating})::float8 as value
        from ${s}
        where ${s.tenantId} = ${this.tenantId}::uuid and ${s.rating} is not null and ${this.inPeriod(s.resolvedAt, r)}
          ${r.teamId ? sql`and ${s.teamId} is not distinct from ${r.teamId}::uuid` : sql``}
        group by grouping sets ((), (${s.resolvedById}))
        having grouping(${s.resolvedById}) = 1 or ${s.resolvedById} is not null`),
    );
  }

  /** The users a report lists: every user of the tenant, or a team's members. */
  private async listedUsers(r: ReportScope): Promise<string[]> {
    const tm = teamMembers;
    const rows = rowsOf<{ id: string }>(
      await this.db.execute(sql`
        select ${users.id} as id from ${users}
        where ${users.tenantId} = ${this.tenantId}::uuid
          ${r.teamId ? sql`and exists (select 1 from ${tm} where ${tm.tenantId} = ${users.tenantId} and ${tm.teamId} = ${r.teamId}::uuid and ${tm.userId} = ${users.id})` : sql``}`),
    );
    return rows.map((x) => String(x.id));
  }

  /**
   * The whole report: totals, and one row per listed user and per user with figures in the scope
   * (resolutions counted for whoever resolved, first response for whoever gave it).
   */
  async report(r: ReportScope): Promise<{ totals: Totals; byAgent: AgentFigures[] }> {
    const [opened, resolved, traffic, ratings, listed] = await Promise.all([this.opened(r), this.resolved(r), this.traffic(r), this.ratings(r), this.listedUsers(r)]);
    const total = (rows: FigureRow[]) => rows.find((x) => x.agentId === null) ?? { agentId: null, n: 0, value: null };
    const perAgent = (rows: FigureRow[]) => new Map(rows.flatMap((x) => (x.agentId === null ? [] : [[x.agentId, x] as const])));
    const [responses, resolutions, rated] = [perAgent(opened), perAgent(resolved), perAgent(ratings)];
    const agentIds = [...new Set([...listed, ...responses.keys(), ...resolutions.keys(), ...rated.keys()])];
    return {
      totals: {
        conversationsOpened: total(opened).n,
        conversationsResolved: total(resolved).n,
        messagesReceived: traffic.received,
        messagesSent: traffic.sent,
        medianFirstResponseSeconds: total(opened).value,
        medianResolutionSeconds: total(resolved).value,
        csatAverage: total(ratings).value,
      },
      byAgent: agentIds.map((agentId) => ({
        agentId,
        conversationsResolved: resolutions.get(agentId)?.n ?? 0,
        medianFirstResponseSeconds: responses.get(agentId)?.value ?? null,
        csatAverage: rated.get(agentId)?.value ?? null,
      })),
    };
  }
}
