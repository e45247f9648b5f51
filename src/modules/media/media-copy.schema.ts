import { bigserial, foreignKey, index, integer, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { messages } from '../messages/messages.schema.js';
import { tenants } from '../tenants/tenants.schema.js';

/** One inbound media item to copy into our storage; the row goes once copied (or given up). */
export const mediaCopyJobs = pgTable(
  'media_copy_jobs',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    messageId: uuid('message_id').notNull(),
    mediaIndex: integer('media_index').notNull(),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    lockedUntil: timestamp('locked_until', { withTimezone: true, mode: 'date' }),
    lockedBy: text('locked_by'),
    lastError: text('last_error'),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('media_copy_jobs_item_uq').on(t.tenantId, t.messageId, t.mediaIndex),
    // The workers' scan across tenants (a queue, like outbox_due_idx).
    index('media_copy_jobs_due_idx').on(t.nextAttemptAt),
    foreignKey({ name: 'media_copy_jobs_message_fk', columns: [t.tenantId, t.messageId], foreignColumns: [messages.tenantId, messages.id] }).onDelete('cascade'),
  ],
);

export type MediaCopyJobRow = typeof mediaCopyJobs.$inferSelect;
