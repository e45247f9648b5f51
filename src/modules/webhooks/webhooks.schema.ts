import { sql } from 'drizzle-orm';
import { bigserial, boolean, foreignKey, index, integer, jsonb, pgTable, text, timestamp, unique, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { tenants } from '../tenants/tenants.schema.js';

/** A tenant's URL for signed event deliveries (Standard Webhooks). */
export const webhookEndpoints = pgTable(
  'webhook_endpoints',
  {
    id: uuid('id').primaryKey(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    url: text('url').notNull(),
    /** WebhookEventType values. */
    events: text('events').array().notNull(),
    /** whsec_… sealed with ENCRYPTION_KEY (bound to tenant and endpoint): needed to sign, never shown again. */
    signingSecretSealed: text('signing_secret_sealed').notNull(),
    enabled: boolean('enabled').notNull().default(true),
    /** Since when every delivery attempt has failed; null after a success. */
    failingSince: timestamp('failing_since', { withTimezone: true, mode: 'date' }),
    disabledReason: text('disabled_reason'),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [index('webhook_endpoints_tenant_idx').on(t.tenantId, t.createdAt), unique('webhook_endpoints_tenant_id_uq').on(t.tenantId, t.id)],
);

/**
 * One event for one endpoint: a durable queue like the outbox (leases, SKIP LOCKED), delivered in
 * order per (endpoint, ordering key = conversation), retried with backoff within the retry window.
 */
export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    endpointId: uuid('endpoint_id').notNull(),
    /** The `webhook-id` header: the same on every retry, so receivers can drop duplicates. */
    webhookId: text('webhook_id').notNull(),
    eventType: text('event_type').notNull(),
    orderingKey: text('ordering_key').notNull(),
    payload: jsonb('payload').notNull(),
    /** PENDING, DELIVERED or FAILED. */
    status: text('status').notNull().default('PENDING'),
    attempts: integer('attempts').notNull().default(0),
    lastResponseStatus: integer('last_response_status'),
    lastError: text('last_error'),
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    lockedUntil: timestamp('locked_until', { withTimezone: true, mode: 'date' }),
    lockedBy: text('locked_by'),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    deliveredAt: timestamp('delivered_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [
    uniqueIndex('webhook_deliveries_endpoint_webhook_id_uq').on(t.endpointId, t.webhookId),
    foreignKey({ name: 'webhook_deliveries_endpoint_fk', columns: [t.tenantId, t.endpointId], foreignColumns: [webhookEndpoints.tenantId, webhookEndpoints.id] }).onDelete('cascade'),
    index('webhook_deliveries_tenant_endpoint_idx').on(t.tenantId, t.endpointId, t.id),
    index('webhook_deliveries_due_idx').on(t.nextAttemptAt).where(sql`${t.status} = 'PENDING'`),
    index('webhook_deliveries_chain_idx').on(t.endpointId, t.orderingKey, t.id).where(sql`${t.status} = 'PENDING'`),
  ],
);

export type WebhookEndpointRow = typeof webhookEndpoints.$inferSelect;
export type WebhookDeliveryRow = typeof webhookDeliveries.$inferSelect;
