import { bigserial, index, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { tenants } from '../tenants/tenants.schema.js';

/**
 * The transactional outbox of outgoing webhooks: one row per change that a tenant's enabled
 * endpoint subscribed to, written by the same statement or transaction as the change (so a crash
 * after the commit cannot lose it). The webhook worker turns each row into delivery rows and
 * deletes it in one transaction; rows of tenants without a subscribed endpoint are never written.
 */
export const webhookEvents = pgTable(
  'webhook_events',
  {
    /** Write order: a conversation's events become deliveries in this order. */
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    /** WebhookEventType. */
    eventType: text('event_type').notNull(),
    /** The message (MESSAGE_*, CONTACT_OPTED_OUT) or the conversation (CONVERSATION_*) the payload is loaded from. */
    subjectId: uuid('subject_id').notNull(),
    /** The deliveries' ordering key. */
    conversationId: uuid('conversation_id').notNull(),
    /** The change's time: the payload's `timestamp`. */
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [index('webhook_events_conversation_idx').on(t.conversationId, t.id)],
);
