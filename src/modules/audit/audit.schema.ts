import { bigserial, index, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { tenants } from '../tenants/tenants.schema.js';

/**
 * Who changed what, written in the transaction of the change. No foreign keys to users or keys:
 * the trail outlives them, and message retention never touches it.
 */
export const auditEvents = pgTable(
  'audit_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    /** Null with actorApiKeyId for a key, null with it for the system (automations, Twilio). */
    actorUserId: uuid('actor_user_id'),
    actorApiKeyId: uuid('actor_api_key_id'),
    /** e.g. team.create, user.deactivate, contact.erase, api_key.revoke. */
    action: text('action').notNull(),
    targetType: text('target_type').notNull(),
    targetId: text('target_id'),
    clientAddress: text('client_address'),
    at: timestamp('at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [
    index('audit_events_tenant_id_idx').on(t.tenantId, t.id),
    index('audit_events_tenant_user_idx').on(t.tenantId, t.actorUserId, t.id),
    index('audit_events_tenant_key_idx').on(t.tenantId, t.actorApiKeyId, t.id),
    index('audit_events_tenant_action_idx').on(t.tenantId, t.action, t.id),
  ],
);

export type AuditEventRow = typeof auditEvents.$inferSelect;
