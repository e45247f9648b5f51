import { sql } from 'drizzle-orm';
import { foreignKey, index, integer, pgEnum, pgTable, timestamp, unique, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { contacts } from '../contacts/contacts.schema.js';
import { phoneNumbers } from '../phone-numbers/phone-numbers.schema.js';
import { tenants } from '../tenants/tenants.schema.js';
import { users } from '../users/users.schema.js';
import { ConversationStatus } from './conversation-status.js';

export const conversationStatusEnum = pgEnum('conversation_status', ConversationStatus);

export const conversations = pgTable(
  'conversations',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    contactId: uuid('contact_id').notNull(),
    phoneNumberId: uuid('phone_number_id').notNull(),
    status: conversationStatusEnum('status').notNull().default(ConversationStatus.OPEN),
    assigneeId: uuid('assignee_id').references(() => users.id, { onDelete: 'set null' }),
    /** Inbound messages since the last markConversationRead; kept as a counter so lists never count rows. */
    unreadCount: integer('unread_count').notNull().default(0),
    lastMessageAt: timestamp('last_message_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    lastMessageId: uuid('last_message_id'),
    lastReadAt: timestamp('last_read_at', { withTimezone: true, mode: 'date' }),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [
    // One live (not RESOLVED) conversation per (tenant, our number, contact): concurrent first
    // messages from a new customer thread into one conversation by this index, not by luck.
    uniqueIndex('conversations_live_uq')
      .on(t.tenantId, t.phoneNumberId, t.contactId)
      .where(sql`${t.status} <> 'RESOLVED'`),
    // Ascending on purpose: scanned backwards they serve ORDER BY last_message_at DESC, id DESC.
    // drizzle's .desc() emits DESC NULLS LAST, which that ORDER BY (NULLS FIRST) cannot use: the
    // planner fell back to sorting the tenant's every conversation (measured 38 ms at 10,000).
    index('conversations_tenant_activity_idx').on(t.tenantId, t.lastMessageAt, t.id),
    index('conversations_tenant_assignee_idx').on(t.tenantId, t.assigneeId, t.lastMessageAt, t.id),
    unique('conversations_tenant_id_uq').on(t.tenantId, t.id),
    // Parents by (tenant_id, id): the database refuses a conversation of tenant A on tenant B's rows.
    foreignKey({ name: 'conversations_contact_fk', columns: [t.tenantId, t.contactId], foreignColumns: [contacts.tenantId, contacts.id] }).onDelete('cascade'),
    foreignKey({ name: 'conversations_phone_number_fk', columns: [t.tenantId, t.phoneNumberId], foreignColumns: [phoneNumbers.tenantId, phoneNumbers.id] }).onDelete('cascade'),
    // The single-column key above nulls assignee_id when a user is deleted (a composite SET NULL
    // would null tenant_id too); this one, checked after it, keeps the assignee in the tenant.
    foreignKey({ name: 'conversations_assignee_tenant_fk', columns: [t.tenantId, t.assigneeId], foreignColumns: [users.tenantId, users.id] }),
  ],
);

export type ConversationRow = typeof conversations.$inferSelect;
