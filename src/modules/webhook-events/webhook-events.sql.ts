import { sql, type SQL } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { columnList } from '../../db/sql.js';
import { webhookEvents } from './webhook-events.schema.js';

/** The WebhookEventType values written through the outbox (CAMPAIGN_COMPLETED queues its deliveries directly). */
export type WebhookEventName =
  | 'MESSAGE_RECEIVED'
  | 'MESSAGE_STATUS_CHANGED'
  | 'CONVERSATION_OPENED'
  | 'CONVERSATION_ASSIGNED'
  | 'CONVERSATION_RESOLVED'
  | 'CONTACT_OPTED_OUT';

/**
 * `insert into webhook_events ...` of the rows `source` selects (columns tenant_id uuid,
 * event_type text, subject_id uuid, conversation_id uuid, ord: any sortable value), kept only where the tenant
 * has an enabled endpoint subscribed to that type. A CTE body (`webhook_events as (...)`) of the
 * statement that makes the change, or a statement of its transaction: committed with the change
 * or not at all. `ord` orders the rows of one statement (their ids are the delivery order).
 *
 * The gate is an index lookup (webhook_endpoints_tenant_idx) over a tenant's few endpoints, so
 * tenants without endpoints pay one empty probe. webhook_endpoints is named in SQL, not imported:
 * it belongs to the webhooks module, which sits above every module that writes events.
 */
export function insertWebhookEvents(source: SQL): SQL {
  const w = webhookEvents;
  return sql`
    insert into ${w} (${columnList(w.tenantId, w.eventType, w.subjectId, w.conversationId)})
    select r.tenant_id, r.event_type, r.subject_id, r.conversation_id
    from (${source}) r
    where exists (
      select 1 from webhook_endpoints we
      where we.tenant_id = r.tenant_id and we.enabled and r.event_type = any(we.events)
    )
    order by r.ord
  `;
}

export interface WebhookEventRef {
  type: WebhookEventName;
  subjectId: string;
  conversationId: string;
}

/** The same rows as one statement of the caller's transaction (for changes made by several statements). */
export async function recordWebhookEvents(tx: Db, tenantId: string, events: readonly WebhookEventRef[]): Promise<void> {
  if (events.length === 0) return;
  await tx.execute(
    insertWebhookEvents(sql`
      select ${tenantId}::uuid as tenant_id, e.event_type, e.subject_id, e.conversation_id, e.ord::int as ord
      from unnest(${`{${events.map((e) => e.type).join(',')}}`}::text[], ${`{${events.map((e) => e.subjectId).join(',')}}`}::uuid[],
        ${`{${events.map((e) => e.conversationId).join(',')}}`}::uuid[]) with ordinality as e(event_type, subject_id, conversation_id, ord)
    `),
  );
}
