import { pgTable, text, timestamp, unique, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { tenants } from '../tenants/tenants.schema.js';

/** A tenant's saved replies; placeholders are checked when saved (src/shared/templates.ts). */
export const quickReplies = pgTable(
  'quick_replies',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    title: text('title').notNull(),
    /** The title lower-cased: titles are unique per tenant whatever their case. */
    titleKey: text('title_key').notNull(),
    body: text('body').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('quick_replies_tenant_title_uq').on(t.tenantId, t.titleKey), unique('quick_replies_tenant_id_uq').on(t.tenantId, t.id)],
);

export type QuickReplyRow = typeof quickReplies.$inferSelect;
