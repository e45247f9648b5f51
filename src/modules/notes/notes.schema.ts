import { foreignKey, index, pgTable, text, timestamp, unique, uuid } from 'drizzle-orm/pg-core';
import { conversations } from '../conversations/conversations.schema.js';
import { tenants } from '../tenants/tenants.schema.js';
import { users } from '../users/users.schema.js';

/** Agents' internal notes on a conversation: never sent, never counted as messages. */
export const notes = pgTable(
  'notes',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    conversationId: uuid('conversation_id').notNull(),
    authorId: uuid('author_id').notNull(),
    body: text('body').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  // Oldest-first pages of one conversation's notes.
  (t) => [
    index('notes_tenant_conversation_idx').on(t.tenantId, t.conversationId, t.createdAt, t.id),
    unique('notes_tenant_id_uq').on(t.tenantId, t.id),
    // Parents by (tenant_id, id): a note can never sit in another tenant's conversation or name its users.
    foreignKey({ name: 'notes_conversation_fk', columns: [t.tenantId, t.conversationId], foreignColumns: [conversations.tenantId, conversations.id] }).onDelete('cascade'),
    foreignKey({ name: 'notes_author_fk', columns: [t.tenantId, t.authorId], foreignColumns: [users.tenantId, users.id] }).onDelete('cascade'),
  ],
);

export type NoteRow = typeof notes.$inferSelect;
