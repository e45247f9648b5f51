import { randomUUID } from 'node:crypto';
import { WebhookQueueRepository } from './webhook-queue.repository.js';
import type { LiveEvent } from '../../events/event-bus.js';
import type { AppDeps } from '../../shared/deps.js';
import { MessageDirection } from '../messages/message.enums.js';
import { conversationPayload, messagePayload } from './webhook-payloads.js';
import { WebhookEventType } from './webhook.type.js';

const MAX_BUFFERED = 100_000;

/** The webhook types a live event may become (before its row is loaded). */
function candidates(event: LiveEvent): WebhookEventType[] {
  switch (event.type) {
    case 'messageAdded':
      return event.change === 'optedOut'
        ? [WebhookEventType.MESSAGE_RECEIVED, WebhookEventType.CONTACT_OPTED_OUT]
        : [WebhookEventType.MESSAGE_RECEIVED];
    case 'messageUpdated':
      return [WebhookEventType.MESSAGE_STATUS_CHANGED];
    case 'conversationUpdated':
      if (event.change === 'opened') return [WebhookEventType.CONVERSATION_OPENED];
      if (event.change === 'assigned') return [WebhookEventType.CONVERSATION_ASSIGNED];
      if (event.change === 'resolved') return [WebhookEventType.CONVERSATION_RESOLVED];
      return [];
    default:
      return [];
  }
}

/**
 * Turns the live events this instance publishes into webhook deliveries. It listens on the event
 * bus (every module that publishes live events feeds it) and never blocks the publisher: events
 * are buffered in memory and written by one background loop, in publication order, so deliveries
 * of one conversation are queued in the order they happened.
 *
 * The window between a change's commit and its delivery rows being written is in memory: a crash
 * there loses those webhooks (the change itself is committed). Once written, delivery is durable
 * and at least once.
 */
export class WebhookEnqueuer {
  private buffer: LiveEvent[] = [];
  private running: Promise<void> | null = null;
  private closed = false;

  constructor(
    private readonly deps: AppDeps,
    private readonly onEnqueued: () => void,
  ) {
    deps.events.onPublish((events) => this.accept(events));
  }

  private accept(events: readonly LiveEvent[]): void {
    if (this.closed) return;
    for (const event of events) {
      if (candidates(event).length === 0) continue;
      if (this.buffer.length >= MAX_BUFFERED) {
        this.deps.logger.error({ tenantId: event.tenantId, type: event.type }, 'webhook buffer full: event dropped');
        continue;
      }
      this.buffer.push(event);
    }
    if (this.buffer.length > 0) this.running ??= this.drain();
  }

  private async drain(): Promise<void> {
    // Let the publisher's turn finish first: never run on its path.
    await new Promise((resolve) => setImmediate(resolve));
    try {
      while (this.buffer.length > 0) {
        const batch = this.buffer;
        this.buffer = [];
        let wrote = false;
        for (const event of batch) {
          try {
            wrote = (await this.enqueue(event)) || wrote;
          } catch (err) {
            this.deps.logger.error({ err, tenantId: event.tenantId, type: event.type, id: event.id }, 'could not queue webhook deliveries');
          }
        }
        if (wrote) this.onEnqueued();
      }
    } finally {
      this.running = null;
    }
  }

  /** Writes one delivery per interested endpoint and webhook type; true if any was written. */
  private async enqueue(event: LiveEvent): Promise<boolean> {
    const wanted = await this.deps.webhookEndpointCache.wantedTypes(event.tenantId);
    const types = candidates(event).filter((t) => wanted.has(t));
    if (types.length === 0) return false;

    let data: unknown;
    if (event.type === 'conversationUpdated') {
      data = await conversationPayload(this.deps, event.tenantId, event.id);
    } else {
      const loaded = await messagePayload(this.deps, event.tenantId, event.id);
      // Outbound messages are announced by their status changes, not their creation.
      if (loaded && event.type === 'messageAdded' && loaded.direction !== MessageDirection.INBOUND) return false;
      data = loaded?.data ?? null;
    }
    if (!data) return false; // deleted meanwhile (e.g. erased)

    const queue = new WebhookQueueRepository(this.deps.db, event.tenantId);
    for (const type of types) {
      const payload = JSON.stringify({ type, timestamp: new Date().toISOString(), data });
      await queue.queueEvent({ type, orderingKey: event.conversationId, webhookId: `msg_${randomUUID()}`, payload });
    }
    return true;
  }

  /** Writes what is buffered, then stops accepting. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.running) await this.running;
  }
}
