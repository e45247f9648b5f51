import { sql } from 'drizzle-orm';
import { rowsOf } from '../../db/client.js';
import { literal } from '../../db/sql.js';
import { TenantRepository } from '../../db/tenant-repository.js';
import { conversations } from '../conversations/conversations.schema.js';
import { MessageDirection } from '../messages/message.enums.js';
import { messages } from '../messages/messages.schema.js';
import { users } from '../users/users.schema.js';

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
    const c = conversations;
    const m = messages;
    const t = this.tenantId;
    const f = from.toISOString();
    const u = to.toISOString();
    const [row] = rowsOf<Record<string, unknown>>(
      await this.db.execute(sql`
        with opened as (
          select count(*)::int as n,
            percentile_cont(0.5) within group (order by extract(epoch from (${c.firstResponseAt} - ${c.firstInboundAt})))
              filter (where ${c.firstResponseAt} is not null) as first_response
          from ${c}
          where ${c.tenantId} = ${t}::uuid and ${c.createdAt} >= ${f}::timestamptz and ${c.createdAt} < ${u}::timestamptz
        ),
        resolved as (
          select count(*)::int as n, percentile_cont(0.5) within group (order by extract(epoch from (${c.resolvedAt} - ${c.createdAt}))) as resolution
          from ${c}
          where ${c.tenantId} = ${t}::uuid and ${c.resolvedAt} >= ${f}::timestamptz and ${c.resolvedAt} < ${u}::timestamptz
        ),
        traffic as (
          select count(*) filter (where ${m.direction} = ${literal(MessageDirection.INBOUND)})::int as received,
            count(*) filter (where ${m.direction} = ${literal(MessageDirection.OUTBOUND)})::int as sent
          from ${m}
          where ${m.tenantId} = ${t}::uuid and ${m.createdAt} >= ${f}::timestamptz and ${m.createdAt} < ${u}::timestamptz
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
    const c = conversations;
    const t = this.tenantId;
    const f = from.toISOString();
    const u = to.toISOString();
    const rows = rowsOf<Record<string, unknown>>(
      await this.db.execute(sql`
        with response as (
          select ${c.firstResponderId} as agent_id,
            percentile_cont(0.5) within group (order by extract(epoch from (${c.firstResponseAt} - ${c.firstInboundAt})))::float8 as median
          from ${c}
          where ${c.tenantId} = ${t}::uuid and ${c.createdAt} >= ${f}::timestamptz and ${c.createdAt} < ${u}::timestamptz
            and ${c.firstResponderId} is not null
          group by ${c.firstResponderId}
        ),
        resolved as (
          select ${c.resolvedById} as agent_id, count(*)::int as n from ${c}
          where ${c.tenantId} = ${t}::uuid and ${c.resolvedAt} >= ${f}::timestamptz and ${c.resolvedAt} < ${u}::timestamptz
            and ${c.resolvedById} is not null
          group by ${c.resolvedById}
        )
        select ${users.id} as "agentId", coalesce(resolved.n, 0)::int as "conversationsResolved", response.median as "medianFirstResponseSeconds"
        from ${users}
        left join resolved on resolved.agent_id = ${users.id}
        left join response on response.agent_id = ${users.id}
        where ${users.tenantId} = ${t}::uuid
        order by ${users.name}, ${users.id}
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
