import { sql } from 'drizzle-orm';
import { rowsOf } from '../../db/client.js';
import { TenantRepository } from '../../db/tenant-repository.js';

export interface Totals {
  conversationsOpened: number;
  conversationsResolved: number;
  messagesReceived: number;
  messagesSent: number;
  medianFirstResponseSeconds: number | null;
  medianResolutionSeconds: number | null;
}

export interface AgentFigures {
  agentId: string;
  conversationsResolved: number;
  medianFirstResponseSeconds: number | null;
}

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

/**
 * Report figures in SQL over indexed columns only: conversations by (tenant_id, created_at) and
 * (tenant_id, resolved_at), whose first inbound text and first agent reply are kept on the row
 * (ingest and replies maintain them), and messages by (tenant_id, created_at, direction).
 */
export class ReportsRepository extends TenantRepository {
  async totals(from: Date, to: Date): Promise<Totals> {
    const t = this.tenantId;
    const f = from.toISOString();
    const u = to.toISOString();
    const [row] = rowsOf<Record<string, unknown>>(
      await this.db.execute(sql`
        with opened as (
          select count(*)::int as n,
            percentile_cont(0.5) within group (order by extract(epoch from (c.first_response_at - c.first_inbound_at)))
              filter (where c.first_response_at is not null) as first_response
          from conversations c
          where c.tenant_id = ${t}::uuid and c.created_at >= ${f}::timestamptz and c.created_at < ${u}::timestamptz
        ),
        resolved as (
          select count(*)::int as n, percentile_cont(0.5) within group (order by extract(epoch from (c.resolved_at - c.created_at))) as resolution
          from conversations c
          where c.tenant_id = ${t}::uuid and c.resolved_at >= ${f}::timestamptz and c.resolved_at < ${u}::timestamptz
        ),
        traffic as (
          select count(*) filter (where m.direction = 'INBOUND')::int as received, count(*) filter (where m.direction = 'OUTBOUND')::int as sent
          from messages m
          where m.tenant_id = ${t}::uuid and m.created_at >= ${f}::timestamptz and m.created_at < ${u}::timestamptz
        )
        select opened.n as "conversationsOpened", resolved.n as "conversationsResolved", traffic.received as "messagesReceived",
          traffic.sent as "messagesSent", opened.first_response::float8 as "medianFirstResponseSeconds",
          resolved.resolution::float8 as "medianResolutionSeconds"
        from opened, resolved, traffic
      `),
    );
    return {
      conversationsOpened: Number(row!.conversationsOpened),
      conversationsResolved: Number(row!.conversationsResolved),
      messagesReceived: Number(row!.messagesReceived),
      messagesSent: Number(row!.messagesSent),
      medianFirstResponseSeconds: num(row!.medianFirstResponseSeconds),
      medianResolutionSeconds: num(row!.medianResolutionSeconds),
    };
  }

  async byAgent(from: Date, to: Date): Promise<AgentFigures[]> {
    const t = this.tenantId;
    const f = from.toISOString();
    const u = to.toISOString();
    const rows = rowsOf<Record<string, unknown>>(
      await this.db.execute(sql`
        with response as (
          select c.first_responder_id as agent_id,
            percentile_cont(0.5) within group (order by extract(epoch from (c.first_response_at - c.first_inbound_at)))::float8 as median
          from conversations c
          where c.tenant_id = ${t}::uuid and c.created_at >= ${f}::timestamptz and c.created_at < ${u}::timestamptz
            and c.first_responder_id is not null
          group by c.first_responder_id
        ),
        resolved as (
          select c.resolved_by_id as agent_id, count(*)::int as n from conversations c
          where c.tenant_id = ${t}::uuid and c.resolved_at >= ${f}::timestamptz and c.resolved_at < ${u}::timestamptz
            and c.resolved_by_id is not null
          group by c.resolved_by_id
        )
        select u.id as "agentId", coalesce(resolved.n, 0)::int as "conversationsResolved", response.median as "medianFirstResponseSeconds"
        from users u
        left join resolved on resolved.agent_id = u.id
        left join response on response.agent_id = u.id
        where u.tenant_id = ${t}::uuid
        order by u.name, u.id
        limit 1000
      `),
    );
    return rows.map((r) => ({
      agentId: String(r.agentId),
      conversationsResolved: Number(r.conversationsResolved),
      medianFirstResponseSeconds: num(r.medianFirstResponseSeconds),
    }));
  }
}
