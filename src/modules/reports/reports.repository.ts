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
 * Report figures in SQL over indexed columns: conversations by (tenant_id, created_at) and
 * (tenant_id, resolved_at), messages by (tenant_id, created_at) and, per conversation, by
 * (tenant_id, conversation_id, created_at).
 */
export class ReportsRepository extends TenantRepository {
  private firstResponses(from: Date, to: Date) {
    const t = this.tenantId;
    return sql`
      opened as (
        select c.id from conversations c
        where c.tenant_id = ${t}::uuid and c.created_at >= ${from.toISOString()}::timestamptz and c.created_at < ${to.toISOString()}::timestamptz
      ),
      first_in as (
        select o.id, (
          select m.created_at from messages m
          where m.tenant_id = ${t}::uuid and m.conversation_id = o.id and m.direction = 'INBOUND'
          order by m.created_at, m.id limit 1
        ) as inbound_at
        from opened o
      ),
      first_reply as (
        select f.id, r.author_id, extract(epoch from (r.created_at - f.inbound_at))::float8 as seconds
        from first_in f
        join lateral (
          select m.created_at, m.author_id from messages m
          where m.tenant_id = ${t}::uuid and m.conversation_id = f.id and m.direction = 'OUTBOUND' and m.source = 'AGENT'
            and m.created_at >= f.inbound_at
          order by m.created_at, m.id limit 1
        ) r on true
        where f.inbound_at is not null
      )`;
  }

  async totals(from: Date, to: Date): Promise<Totals> {
    const t = this.tenantId;
    const f = from.toISOString();
    const u = to.toISOString();
    const [row] = rowsOf<Record<string, unknown>>(
      await this.db.execute(sql`
        with ${this.firstResponses(from, to)},
        resolved as (
          select extract(epoch from (c.resolved_at - c.created_at))::float8 as seconds from conversations c
          where c.tenant_id = ${t}::uuid and c.resolved_at >= ${f}::timestamptz and c.resolved_at < ${u}::timestamptz
        ),
        traffic as (
          select count(*) filter (where m.direction = 'INBOUND') as received, count(*) filter (where m.direction = 'OUTBOUND') as sent
          from messages m
          where m.tenant_id = ${t}::uuid and m.created_at >= ${f}::timestamptz and m.created_at < ${u}::timestamptz
        )
        select
          (select count(*) from opened)::int as "conversationsOpened",
          (select count(*) from resolved)::int as "conversationsResolved",
          (select received from traffic)::int as "messagesReceived",
          (select sent from traffic)::int as "messagesSent",
          (select percentile_cont(0.5) within group (order by seconds) from first_reply)::float8 as "medianFirstResponseSeconds",
          (select percentile_cont(0.5) within group (order by seconds) from resolved)::float8 as "medianResolutionSeconds"
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
    const rows = rowsOf<Record<string, unknown>>(
      await this.db.execute(sql`
        with ${this.firstResponses(from, to)},
        response as (
          select author_id as agent_id, percentile_cont(0.5) within group (order by seconds)::float8 as median
          from first_reply where author_id is not null group by author_id
        ),
        resolved as (
          select c.resolved_by_id as agent_id, count(*)::int as n from conversations c
          where c.tenant_id = ${t}::uuid and c.resolved_by_id is not null
            and c.resolved_at >= ${from.toISOString()}::timestamptz and c.resolved_at < ${to.toISOString()}::timestamptz
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
