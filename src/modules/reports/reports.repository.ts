import { sql, type SQL } from 'drizzle-orm';
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

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

/**
 * Report figures in SQL over indexed columns only. Conversations are read once per statement:
 * those opened in the period (`conversations (tenant_id, created_at)`) or resolved in it
 * (`(tenant_id, resolved_at)`), a bitmap OR of the two indexes; each row keeps its first inbound
 * text, first agent reply and responder, resolution time and resolver (ingest, replies and
 * `setConversationStatus` maintain them). Messages are counted through
 * `messages (tenant_id, created_at, direction)` (joined to their conversation for a team), CSAT
 * ratings through `csat_surveys (tenant_id, resolved_by_id, resolved_at)` by the survey's resolution
 * time (a survey belongs to the resolution that asked for it).
 */
export class ReportsRepository extends TenantRepository {
  /** One row per conversation opened or resolved in the period (of the team). */
  private conversationsOf(r: ReportScope): SQL {
    const c = conversations;
    const f = r.from.toISOString();
    const u = r.to.toISOString();
    const opened = sql`(${c.createdAt} >= ${f}::timestamptz and ${c.createdAt} < ${u}::timestamptz)`;
    const resolved = sql`(${c.resolvedAt} >= ${f}::timestamptz and ${c.resolvedAt} < ${u}::timestamptz)`;
    return sql`
      select ${opened} as opened, coalesce(${resolved}, false) as resolved,
        extract(epoch from (${c.firstResponseAt} - ${c.firstInboundAt})) as response,
        extract(epoch from (${c.resolvedAt} - ${c.createdAt})) as resolution,
        ${c.firstResponderId} as responder_id, ${c.resolvedById} as resolver_id
      from ${c}
      where ${c.tenantId} = ${this.tenantId}::uuid and (${opened} or ${resolved})
        ${r.teamId ? sql`and ${c.teamId} = ${r.teamId}::uuid` : sql``}`;
  }

  /** Rated surveys of resolutions in the period (of the team). */
  private ratingsOf(r: ReportScope): SQL {
    const s = csatSurveys;
    const c = conversations;
    return sql`
      select ${s.resolvedById} as resolver_id, ${s.rating} as rating
      from ${s}
      ${r.teamId ? sql`join ${c} on ${c.tenantId} = ${s.tenantId} and ${c.id} = ${s.conversationId} and ${c.teamId} = ${r.teamId}::uuid` : sql``}
      where ${s.tenantId} = ${this.tenantId}::uuid and ${s.rating} is not null
        and ${s.resolvedAt} >= ${r.from.toISOString()}::timestamptz and ${s.resolvedAt} < ${r.to.toISOString()}::timestamptz`;
  }

  async totals(r: ReportScope): Promise<Totals> {
    const m = messages;
    const c = conversations;
    const t = this.tenantId;
    const [row] = rowsOf<Record<string, unknown>>(
      await this.db.execute(sql`
        with convs as (
          select count(*) filter (where opened)::int as opened,
            count(*) filter (where resolved)::int as resolved,
            percentile_cont(0.5) within group (order by response) filter (where opened) as first_response,
            percentile_cont(0.5) within group (order by resolution) filter (where resolved) as resolution
          from (${this.conversationsOf(r)}) base
        ),
        traffic as (
          select count(*) filter (where ${m.direction} = ${literal(MessageDirection.INBOUND)})::int as received,
            count(*) filter (where ${m.direction} = ${literal(MessageDirection.OUTBOUND)})::int as sent
          from ${m}
          ${r.teamId ? sql`join ${c} on ${c.tenantId} = ${m.tenantId} and ${c.id} = ${m.conversationId} and ${c.teamId} = ${r.teamId}::uuid` : sql``}
          where ${m.tenantId} = ${t}::uuid and ${m.createdAt} >= ${r.from.toISOString()}::timestamptz and ${m.createdAt} < ${r.to.toISOString()}::timestamptz
        ),
        csat as (select avg(rating)::float8 as average from (${this.ratingsOf(r)}) rated)
        select convs.opened as "conversationsOpened", convs.resolved as "conversationsResolved", traffic.received as "messagesReceived",
          traffic.sent as "messagesSent", convs.first_response::float8 as "medianFirstResponseSeconds",
          convs.resolution::float8 as "medianResolutionSeconds", csat.average as "csatAverage"
        from convs, traffic, csat
      `),
    );
    return {
      conversationsOpened: Number(row!.conversationsOpened),
      conversationsResolved: Number(row!.conversationsResolved),
      messagesReceived: Number(row!.messagesReceived),
      messagesSent: Number(row!.messagesSent),
      medianFirstResponseSeconds: num(row!.medianFirstResponseSeconds),
      medianResolutionSeconds: num(row!.medianResolutionSeconds),
      csatAverage: num(row!.csatAverage),
    };
  }

  /**
   * Every user of the tenant (for a team: its members, and whoever has figures in its
   * conversations): resolutions counted for whoever resolved, first response for whoever gave it.
   */
  async byAgent(r: ReportScope): Promise<AgentFigures[]> {
    const t = this.tenantId;
    const tm = teamMembers;
    const rows = rowsOf<Record<string, unknown>>(
      await this.db.execute(sql`
        with base as materialized (${this.conversationsOf(r)}),
        response as (
          select responder_id as agent_id, percentile_cont(0.5) within group (order by response)::float8 as median
          from base where opened and responder_id is not null
          group by responder_id
        ),
        resolved as (
          select resolver_id as agent_id, count(*)::int as n from base
          where resolved and resolver_id is not null
          group by resolver_id
        ),
        csat as (
          select resolver_id as agent_id, avg(rating)::float8 as average from (${this.ratingsOf(r)}) rated
          where resolver_id is not null group by resolver_id
        )
        select ${users.id} as "agentId", coalesce(resolved.n, 0)::int as "conversationsResolved", response.median as "medianFirstResponseSeconds",
          csat.average as "csatAverage"
        from ${users}
        left join resolved on resolved.agent_id = ${users.id}
        left join response on response.agent_id = ${users.id}
        left join csat on csat.agent_id = ${users.id}
        where ${users.tenantId} = ${t}::uuid
          ${
            r.teamId
              ? sql`and (resolved.n is not null or response.median is not null or csat.average is not null
                  or exists (select 1 from ${tm} where ${tm.tenantId} = ${t}::uuid and ${tm.teamId} = ${r.teamId}::uuid and ${tm.userId} = ${users.id}))`
              : sql``
          }
        order by ${users.name}, ${users.id}
        limit 1000
      `),
    );
    return rows.map((x) => ({
      agentId: String(x.agentId),
      conversationsResolved: Number(x.conversationsResolved),
      medianFirstResponseSeconds: num(x.medianFirstResponseSeconds),
      csatAverage: num(x.csatAverage),
    }));
  }
}
