import { bigserial, foreignKey, index, integer, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { tenants } from '../tenants/tenants.schema.js';
import { twilioAccounts } from '../twilio-accounts/twilio-accounts.schema.js';

/**
 * Messages (and their media) to delete at Twilio after an erasure or by retention: a durable
 * queue, because Twilio refuses to delete a message still being sent ("retry later") and its API
 * may be unreachable when the rows are deleted here.
 */
export const twilioDeletions = pgTable(
  'twilio_deletions',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    twilioAccountId: uuid('twilio_account_id').notNull(),
    messageSid: text('message_sid').notNull(),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    lockedUntil: timestamp('locked_until', { withTimezone: true, mode: 'date' }),
    lastError: text('last_error'),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('twilio_deletions_account_sid_uq').on(t.twilioAccountId, t.messageSid),
    index('twilio_deletions_due_idx').on(t.nextAttemptAt),
    foreignKey({ name: 'twilio_deletions_account_fk', columns: [t.tenantId, t.twilioAccountId], foreignColumns: [twilioAccounts.tenantId, twilioAccounts.id] }).onDelete('cascade'),
  ],
);
