import { and, eq, getTableColumns, isNotNull, sql, type Column, type SQL } from 'drizzle-orm';
import { rowsOf, type Db } from '../../db/client.js';
import { columnList } from '../../db/sql.js';
import { TenantRepository } from '../../db/tenant-repository.js';
import { webhookEvents } from '../webhook-events/webhook-events.schema.js';
import { webhookDeliveries, webhookEndpoints } from './webhooks.schema.js';

export interface ClaimedDelivery {
  id: number;
  tenantId: string;
  endpointId: string;
  webhookId: string;
  payload: unknown;
  attempts: number;
  url: string;
  signingSecretSealed: string;
}

export interface QueuedEvent {
  /** WebhookEventType. */
  type: string;
  /** Deliveries of one key reach an endpoint in order (a conversation, a campaign). */
  orderingKey: string;
  /** The `webhook-id` header (the same for every endpoint and every retry). */
  webhookId: string;
  /** The JSON body: `{ type, timestamp, data }`. */
  payload: string;
}

/**
 * The tenant's side of the delivery queue: one delivery per enabled endpoint that wants the event
 * type. Called inside the transaction of the change it announces (CAMPAIGN_COMPLETED), or by the
 * converter of webhook_events rows; idempotent per (endpoint, webhook id). Returns the rows written.
 */
export class WebhookQueueRepository extends TenantRepository {
  async queueEvent(event: QueuedEvent): Promise<number> {
    const t = this.tenantId;
    const d = webhookDeliveries;
    const e = webhookEndpoints;
    const result = await this.db.execute(sql`
      insert into ${d} (${columnList(d.tenantId, d.endpointId, d.webhookId, d.eventType, d.orderingKey, d.payload)})
      select ${t}::uuid, ${e.id}, ${event.webhookId}, ${event.type}, ${event.orderingKey}, ${event.payload}::jsonb
      from ${e}
      where ${e.tenantId} = ${t}::uuid and ${e.enabled} and ${event.type} = any(${e.events})
      order by ${e.id}
      on conflict (${columnList(d.endpointId, d.webhookId)}) do nothing
      returning ${d.id}
    `);
    return rowsOf(result).length;
  }
}

export interface ClaimedWebhookEvent {
  id: number;
  tenantId: string;
  eventType: string;
  subjectId: string;
  conversationId: string;
  createdAt: Date | string;
}

/**
 * The converter's claim, across tenants: the oldest webhook_events rows not held by another
 * instance (FOR UPDATE SKIP LOCKED, until the caller's transaction ends), minus those whose
 * conversation has an older event this claim did not get (another instance holds it: converting
 * the newer one first would put the conversation's deliveries out of order).
 */
export async function claimWebhookEvents(tx: Db, limit: number): Promise<ClaimedWebhookEvent[]> {
  const v = webhookEvents;
  const result = await tx.execute(sql`
    with locked as (
      select ${v.id} as id, ${v.tenantId} as tenant_id, ${v.eventType} as event_type, ${v.subjectId} as subject_id,
        ${v.conversationId} as conversation_id, ${v.createdAt} as created_at
      from ${v}
      order by ${v.id}
      limit ${limit}
      for update skip locked
    )
    select l.id, l.tenant_id as "tenantId", l.event_type as "eventType", l.subject_id as "subjectId",
      l.conversation_id as "conversationId", l.created_at as "createdAt"
    from locked l
    where not exists (
      select 1 from ${v} p
      where p.conversation_id = l.conversation_id and p.id < l.id and p.id not in (select id from locked)
    )
    order by l.id
  `);
  return rowsOf<ClaimedWebhookEvent>(result).map((r) => ({ ...r, id: Number(r.id) }));
}

/** The claimed events, converted: gone in the transaction that wrote their deliveries. */
export async function deleteWebhookEvents(tx: Db, ids: readonly number[]): Promise<void> {
  if (ids.length === 0) return;
  await tx.execute(sql`delete from ${webhookEvents} where ${webhookEvents.id} = any(${`{${ids.join(',')}}`}::bigint[])`);
}

/** A slow or hanging endpoint holds at most this many of the worker slots (all instances together). */
export const MAX_IN_FLIGHT_PER_ENDPOINT = 2;
export const LEASE_SECONDS = 60;

/**
 * The worker's claim, across tenants: the oldest pending delivery of each (endpoint, ordering key)
 * that is due and not leased, at most MAX_IN_FLIGHT_PER_ENDPOINT in flight per endpoint, leased to
 * this worker (SKIP LOCKED: instances share the queue).
 */
export async function claimDueDeliveries(db: Db, workerId: string, limit: number): Promise<ClaimedDelivery[]> {
  const W = webhookDeliveries;
  const E = webhookEndpoints;
  // Aliased columns from the schema: d, p, w are deliveries, e the endpoint, f the in-flight counts.
  const d = aliased('d', W);
  const p = aliased('p', W);
  const w = aliased('w', W);
  const e = aliased('e', E);
  const result = await db.execute(sql`
    with in_flight as (
      select ${W.endpointId} as endpoint_id, count(*) as n from ${W}
      where ${W.status} = 'PENDING' and ${W.lockedUntil} > now()
      group by ${W.endpointId}
    ),
    candidates as (
      select ${d.id} as id, row_number() over (partition by ${d.endpointId} order by ${d.id}) + coalesce(f.n, 0) as slot
      from ${W} d
      join ${E} e on ${e.id} = ${d.endpointId} and ${e.tenantId} = ${d.tenantId} and ${e.enabled}
      left join in_flight f on f.endpoint_id = ${d.endpointId}
      where ${d.status} = 'PENDING' and ${d.nextAttemptAt} <= now()
        and (${d.lockedUntil} is null or ${d.lockedUntil} < now())
        and not exists (
          select 1 from ${W} p
          where ${p.endpointId} = ${d.endpointId} and ${p.orderingKey} = ${d.orderingKey} and ${p.status} = 'PENDING' and ${p.id} < ${d.id}
        )
    ),
    due as (
      select ${d.id} as id from ${W} d
      where ${d.id} in (select id from candidates where slot <= ${MAX_IN_FLIGHT_PER_ENDPOINT})
      order by ${d.id}
      limit ${limit}
      for update of d skip locked
    )
    update ${W} w
    set ${sql.identifier(W.lockedUntil.name)} = now() + ${LEASE_SECONDS} * interval '1 second', ${sql.identifier(W.lockedBy.name)} = ${workerId},
      ${sql.identifier(W.attempts.name)} = ${w.attempts} + 1
    from due, ${E} e
    where ${w.id} = due.id and ${e.id} = ${w.endpointId}
    returning ${w.id} as id, ${w.tenantId} as "tenantId", ${w.endpointId} as "endpointId", ${w.webhookId} as "webhookId", ${w.payload} as payload,
      ${w.attempts} as attempts, ${e.url} as url, ${e.signingSecretSealed} as "signingSecretSealed"
  `);
  return rowsOf<ClaimedDelivery>(result).map((r) => ({ ...r, id: Number(r.id) }));
}

/** A 2xx: delivered (if this worker still holds the lease), and the endpoint is no longer failing. */
export async function markDelivered(db: Db, workerId: string, d: { id: number; endpointId: string }, status: number): Promise<void> {
  const W = webhookDeliveries;
  await db
    .update(W)
    .set({ status: 'DELIVERED', deliveredAt: sql`now()`, lastResponseStatus: status, lastError: null, lockedUntil: null })
    .where(and(eq(W.id, d.id), eq(W.lockedBy, workerId)));
  await db
    .update(webhookEndpoints)
    .set({ failingSince: null })
    .where(and(eq(webhookEndpoints.id, d.endpointId), isNotNull(webhookEndpoints.failingSince)));
}

/**
 * A failed attempt: retried after `delayMs`, or FAILED once older than the retry window; the
 * endpoint is disabled when every delivery failed for that long. One transaction, so both
 * statements see the same now(). Returns the endpoint's state after.
 */
export async function markFailed(
  db: Db,
  workerId: string,
  d: { id: number; endpointId: string },
  outcome: { status: number | null; error: string; delayMs: number; retryWindowSeconds: number },
): Promise<{ enabled: boolean; tenantId: string } | undefined> {
  const W = webhookDeliveries;
  const E = webhookEndpoints;
  const { retryWindowSeconds } = outcome;
  const rows = await db.transaction(async (tx) => {
    await tx
      .update(W)
      .set({
        lastResponseStatus: outcome.status,
        lastError: outcome.error,
        lockedUntil: null,
        status: sql`case when ${W.createdAt} < now() - ${retryWindowSeconds} * interval '1 second' then 'FAILED' else 'PENDING' end`,
        nextAttemptAt: sql`now() + ${outcome.delayMs} * interval '1 millisecond'`,
      })
      .where(and(eq(W.id, d.id), eq(W.lockedBy, workerId)));
    // Failing since the event it could not take was created (not since the first attempt): so the
    // attempt that gives up on a delivery after the window also finds the endpoint failing that long.
    const since = sql`coalesce(${E.failingSince}, (select ${W.createdAt} from ${W} where ${W.id} = ${d.id}))`;
    const tooLong = sql`${since} < now() - ${retryWindowSeconds} * interval '1 second'`;
    return tx
      .update(E)
      .set({
        failingSince: since,
        enabled: sql`case when ${tooLong} then false else ${E.enabled} end`,
        disabledReason: sql`case when ${tooLong} then 'every delivery failed for ' || ${retryWindowSeconds}::int || ' s' else ${E.disabledReason} end`,
      })
      .where(eq(E.id, d.endpointId))
      .returning({ enabled: E.enabled, tenantId: E.tenantId });
  });
  return rows[0];
}

/** `alias.column` for every column of a table, for statements that use one table under several aliases. */
function aliased<T extends { _: { columns: Record<string, Column> } }>(alias: string, table: T): Record<keyof T['_']['columns'], SQL> {
  const columns = getTableColumns(table as never) as Record<string, Column>;
  return Object.fromEntries(Object.entries(columns).map(([key, c]) => [key, sql`${sql.raw(alias)}.${sql.identifier(c.name)}`])) as never;
}
