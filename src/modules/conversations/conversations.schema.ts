import { sql } from 'drizzle-orm';
import { foreignKey, index, integer, pgEnum, pgTable, primaryKey, text, timestamp, unique, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { contacts } from '../contacts/contacts.schema.js';
import { phoneNumbers } from '../phone-numbers/phone-numbers.schema.js';
import { teams } from '../teams/teams.schema.js';
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
    /** When it was last resolved and by whom (null while open): reports count resolutions by these. */
    resolvedAt: timestamp('resolved_at', { withTimezone: true, mode: 'date' }),
    resolvedById: uuid('resolved_by_id').references(() => users.id, { onDelete: 'set null' }),
    /** The customer's first text, and the first agent reply after it (and its author): kept for reports. */
    firstInboundAt: timestamp('first_inbound_at', { withTimezone: true, mode: 'date' }),
    firstResponseAt: timestamp('first_response_at', { withTimezone: true, mode: 'date' }),
    firstResponderId: uuid('first_responder_id').references(() => users.id, { onDelete: 'set null' }),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    /** The team it is routed to (its number's team when opened); null: team-less, visible to every agent. */
    teamId: uuid('team_id'),
    /**
     * When it entered its team's queue (opened, unassigned, transferred): unassigned live
     * conversations of a team wait in this order, oldest first.
     */
    queuedAt: timestamp('queued_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    /** Automatic assignment leaves it alone until then (e.g. a number closed by its operating hours). */
    routeAfter: timestamp('route_after', { withTimezone: true, mode: 'date' }),
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
    // Reports: conversations opened / resolved in a period. The trailing columns are what the
    // report reads of each row, so it is an index-only scan (drizzle has no INCLUDE; trailing key
    // columns serve the same). Over 100,000 conversations this took the statements from reading
    // every row off the heap to a scan of the index.
    index('conversations_tenant_created_idx').on(t.tenantId, t.createdAt, t.teamId, t.firstResponderId, t.firstInboundAt, t.firstResponseAt),
    index('conversations_tenant_resolved_idx').on(t.tenantId, t.resolvedAt, t.teamId, t.resolvedById, t.createdAt),
    unique('conversations_tenant_id_uq').on(t.tenantId, t.id),
    // Parents by (tenant_id, id): the database refuses a conversation of tenant A on tenant B's rows.
    foreignKey({ name: 'conversations_contact_fk', columns: [t.tenantId, t.contactId], foreignColumns: [contacts.tenantId, contacts.id] }).onDelete('cascade'),
    foreignKey({ name: 'conversations_phone_number_fk', columns: [t.tenantId, t.phoneNumberId], foreignColumns: [phoneNumbers.tenantId, phoneNumbers.id] }).onDelete('cascade'),
    // The single-column key above nulls assignee_id when a user is deleted (a composite SET NULL
    // would null tenant_id too); this one, checked after it, keeps the assignee in the tenant.
    foreignKey({ name: 'conversations_assignee_tenant_fk', columns: [t.tenantId, t.assigneeId], foreignColumns: [users.tenantId, users.id] }),
    foreignKey({ name: 'conversations_resolved_by_tenant_fk', columns: [t.tenantId, t.resolvedById], foreignColumns: [users.tenantId, users.id] }),
    foreignKey({ name: 'conversations_first_responder_tenant_fk', columns: [t.tenantId, t.firstResponderId], foreignColumns: [users.tenantId, users.id] }),
    // Routing: a team's queue (only waiting rows, so the index stays small), ...
    index('conversations_tenant_queue_idx')
      .on(t.tenantId, t.teamId, t.queuedAt, t.id)
      .where(sql`${t.assigneeId} is null and ${t.status} <> 'RESOLVED' and ${t.teamId} is not null`),
    // ... an agent's load (capacity counts live conversations assigned to them) ...
    index('conversations_tenant_assignee_live_idx').on(t.tenantId, t.assigneeId).where(sql`${t.status} <> 'RESOLVED'`),
    // ... a reopened thread's previous assignee, and the teamId filter.
    index('conversations_tenant_thread_idx').on(t.tenantId, t.phoneNumberId, t.contactId, t.createdAt),
    index('conversations_tenant_team_idx').on(t.tenantId, t.teamId, t.lastMessageAt, t.id),
    foreignKey({ columns: [t.tenantId, t.teamId], foreignColumns: [teams.tenantId, teams.id], name: 'conversations_team_fk' }),
  ],
);

export type ConversationRow = typeof conversations.$inferSelect;

/**
 * Free-text labels of a conversation (setConversationLabels replaces them all). `key` is the
 * label lower-cased: unique per conversation, and what the `label` filter matches.
 */
export const conversationLabels = pgTable(
  'conversation_labels',
  {
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    conversationId: uuid('conversation_id').notNull(),
    label: text('label').notNull(),
    key: text('key').notNull(),
    /** The order the labels were given in. */
    position: integer('position').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.conversationId, t.key] }),
    // The `label` filter: the conversations carrying one label.
    index('conversation_labels_tenant_key_idx').on(t.tenantId, t.key, t.conversationId),
    foreignKey({ name: 'conversation_labels_conversation_fk', columns: [t.tenantId, t.conversationId], foreignColumns: [conversations.tenantId, conversations.id] }).onDelete('cascade'),
  ],
);

export type ConversationLabelRow = typeof conversationLabels.$inferSelect;
