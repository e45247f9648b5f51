import { sql } from 'drizzle-orm';
import { foreignKey, index, integer, jsonb, pgEnum, pgTable, text, timestamp, unique, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { conversations } from '../conversations/conversations.schema.js';
import { tenants } from '../tenants/tenants.schema.js';
import { twilioAccounts } from '../twilio-accounts/twilio-accounts.schema.js';
import { users } from '../users/users.schema.js';
import { MessageDirection, MessageSource, MessageStatus } from './message.enums.js';

export const messageDirectionEnum = pgEnum('message_direction', MessageDirection);
export const messageStatusEnum = pgEnum('message_status', MessageStatus);
export const messageSourceEnum = pgEnum('message_source', MessageSource);

/** A media item as Twilio gave it (inbound) or as the agent sent it (outbound). */
export interface StoredMedia {
  /** Twilio's media URL (inbound; fetched with the account's credentials) or the public URL sent. */
  url: string;
  contentType: string;
  /**
   * Our stored copy (media_files): an agent's upload (outbound, sent through a signed link made
   * at send time) or the copy of an inbound item, served instead of Twilio's once it exists.
   */
  fileId?: string;
}

export const messages = pgTable(
  'messages',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    conversationId: uuid('conversation_id').notNull(),
    /**
     * The conversation's team now, copied by the database (migration 0019_report_indexes: a trigger
     * fills it on insert and another follows the conversation's team_id when it changes), never
     * written by the application: a team's report counts its messages with one index-only scan
     * instead of joining every message of the period to the team's conversations (measured over
     * 290,000 messages: 33 ms against 100–140 ms).
     */
    teamId: uuid('team_id'),
    twilioAccountId: uuid('twilio_account_id').notNull(),
    direction: messageDirectionEnum('direction').notNull(),
    body: text('body').notNull(),
    media: jsonb('media').$type<StoredMedia[]>().notNull().default([]),
    /** Inbound media items not exposed (media disabled or type not accepted). */
    mediaDropped: integer('media_dropped').notNull().default(0),
    status: messageStatusEnum('status').notNull(),
    twilioSid: text('twilio_sid'),
    errorCode: integer('error_code'),
    errorMessage: text('error_message'),
    /** Inbound rows are the customer's (the ingest statement relies on this default). */
    source: messageSourceEnum('source').notNull().default(MessageSource.CUSTOMER),
    authorId: uuid('author_id').references(() => users.id, { onDelete: 'set null' }),
    segments: integer('segments').notNull(),
    idempotencyKey: text('idempotency_key'),
    /** The campaign that sent it (source CAMPAIGN). */
    campaignId: uuid('campaign_id'),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [
    // Twilio's retries of one MessageSid never store a second row.
    uniqueIndex('messages_account_sid_uq').on(t.twilioAccountId, t.twilioSid),
    uniqueIndex('messages_tenant_idempotency_uq')
      .on(t.tenantId, t.idempotencyKey)
      .where(sql`${t.idempotencyKey} is not null`),
    // Ascending: scanned backwards it serves ORDER BY created_at DESC, id DESC (see conversations).
    index('messages_tenant_conversation_idx').on(t.tenantId, t.conversationId, t.createdAt, t.id),
    // Per-tenant time ranges: the retention job and reports (team_id: a team's report, index-only).
    index('messages_tenant_created_idx').on(t.tenantId, t.createdAt, t.direction, t.teamId),
    // Search: a generated body_folded column and its trigram index are hand-written SQL (migration inbox_search_sql).
    unique('messages_tenant_id_uq').on(t.tenantId, t.id),
    // Parents by (tenant_id, id): a message can never sit in another tenant's conversation.
    foreignKey({ name: 'messages_conversation_fk', columns: [t.tenantId, t.conversationId], foreignColumns: [conversations.tenantId, conversations.id] }).onDelete('cascade'),
    foreignKey({ name: 'messages_twilio_account_fk', columns: [t.tenantId, t.twilioAccountId], foreignColumns: [twilioAccounts.tenantId, twilioAccounts.id] }).onDelete('cascade'),
    // See conversations_assignee_tenant_fk: the single-column key does the SET NULL.
    foreignKey({ name: 'messages_author_tenant_fk', columns: [t.tenantId, t.authorId], foreignColumns: [users.tenantId, users.id] }),
  ],
);

export type MessageRow = typeof messages.$inferSelect;
