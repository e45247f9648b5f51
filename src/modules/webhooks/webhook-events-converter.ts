import { randomUUID } from 'node:crypto';
import type { LiveEvent } from '../../events/event-bus.js';
import type { Db } from '../../db/client.js';
import type { AppDeps } from '../../shared/deps.js';
import { claimWebhookEvents, deleteWebhookEvents, WebhookQueueRepository, type ClaimedWebhookEvent } from './webhook-queue.repository.js';
import { conversationPayload, messagePayload } from './webhook-payloads.js';
import { WebhookEventType } from './webhook.type.js';

/** Events turned into deliveries per transaction. */
export const CONVERT_BATCH = 100;

/**
 * Turns committed webhook_events rows (the transactional outbox: each written by the statement or
 * transaction of the change it announces, see webhook-events/webhook-events.sql.ts) into
 * deliveries: in one transaction, claims the oldest events (FOR UPDATE SKIP LOCKED: instances
 * share the work), loads each payload as it is now, writes one delivery per enabled endpoint
 * that wants the type, and deletes the events. A crash anywhere before the commit leaves the
 * events for the next run; after it, the deliveries are durable. So every committed change that a
 * subscribed endpoint wants is delivered at least once.
 *
 * Order: an event whose conversation has an older event held by another instance is left for
 * later, so a conversation's deliveries are written (and numbered) in the order of its events.
 * Returns how many events were claimed and how many deliveries written.
 */
export async function convertWebhookEvents(deps: AppDeps, limit = CONVERT_BATCH): Promise<{ events: number; deliveries: number }> {
  return deps.db.transaction(async (tx) => {
    const events = await claimWebhookEvents(tx, limit);
    if (events.length === 0) return { events: 0, deliveries: 0 };
    let deliveries = 0;
    for (const event of events) {
      const data = await payloadData(deps, tx, event);
      if (!data) continue; // deleted meanwhile (e.g. erased): nothing to announce
      const payload = JSON.stringify({ type: event.eventType, timestamp: new Date(event.createdAt).toISOString(), data });
      deliveries += await new WebhookQueueRepository(tx, event.tenantId).queueEvent({
        type: event.eventType,
        orderingKey: event.conversationId,
        webhookId: `msg_${randomUUID()}`,
        payload,
      });
    }
    await deleteWebhookEvents(tx, events.map((e) => e.id));
    return { events: events.length, deliveries };
  });
}

function payloadData(deps: AppDeps, tx: Db, event: ClaimedWebhookEvent): Promise<unknown> {
  if (event.eventType.startsWith('CONVERSATION_')) return conversationPayload(deps, event.tenantId, event.subjectId, tx);
  return messagePayload(deps, event.tenantId, event.subjectId, tx).then((loaded) => loaded?.data ?? null);
}

/** The webhook types a committed live event may have written (only a hint: the rows decide). */
function candidates(event: LiveEvent): WebhookEventType[] {
  switch (event.type) {
    case 'messageAdded':
      return [WebhookEventType.MESSAGE_RECEIVED, WebhookEventType.CONTACT_OPTED_OUT];
    case 'messageUpdated':
      return [WebhookEventType.MESSAGE_STATUS_CHANGED];
    case 'conversationUpdated':
      if (event.change === 'opened') return [WebhookEventType.CONVERSATION_OPENED];
      if (event.change === 'assigned') return [WebhookEventType.CONVERSATION_ASSIGNED];
      if (event.change === 'resolved') return [WebhookEventType.CONVERSATION_RESOLVED];
      // Transfers and blocks publish without a change hint (routing passes say 'assigned').
      return [WebhookEventType.CONVERSATION_OPENED, WebhookEventType.CONVERSATION_ASSIGNED, WebhookEventType.CONVERSATION_RESOLVED];
    default:
      return [];
  }
}

/**
 * Wakes the worker right after this instance committed a change that may have written webhook
 * events, so deliveries go out without waiting for the poll. Only a signal (the rows are written
 * with the change): filtered through the in-memory endpoint cache, so tenants without endpoints
 * cost nothing, and never on the publisher's path. Other instances' changes are found by the poll.
 */
export function wakeOnWebhookEvents(deps: AppDeps, wake: () => void): void {
  deps.events.onPublish((events) => {
    // One cache look-up per tenant of the batch (a group commit publishes many events at once).
    const typesByTenant = new Map<string, Set<WebhookEventType>>();
    for (const event of events) {
      const types = candidates(event);
      if (types.length === 0) continue;
      let set = typesByTenant.get(event.tenantId);
      if (!set) typesByTenant.set(event.tenantId, (set = new Set()));
      for (const t of types) set.add(t);
    }
    for (const [tenantId, types] of typesByTenant) {
      void deps.webhookEndpointCache.wantedTypes(tenantId).then(
        (wanted) => {
          if ([...types].some((t) => wanted.has(t))) wake();
        },
        () => wake(),
      );
    }
  });
}
