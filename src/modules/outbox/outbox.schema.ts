import { bigserial, boolean, foreignKey, index, integer, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { messages } from '../messages/messages.schema.js';
import { phoneNumbers } from '../phone-numbers/phone-numbers.schema.js';
import { tenants } from '../tenants/tenants.schema.js';

/** One row per outbound message still to be handed to Twilio; deleted once it is SENT or FAILED. */
export const outbox = pgTable(
  'outbox',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    messageId: uuid('message_id').notNull().unique(),
    /** The sending number; pacing is per sender. */
    phoneNumberId: uuid('phone_number_id').notNull(),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    lockedUntil: timestamp('locked_until', { withTimezone: true, mode: 'date' }),
    lockedBy: text('locked_by'),
    lastError: text('last_error'),
    /**
     * An attempt may have reached Twilio without our recording its answer (set when the message
     * goes SENDING; cleared when Twilio answered an error, or the job was given back unstarted):
     * the next attempt looks for the message at Twilio before sending it.
     */
    maybeSent: boolean('maybe_sent').notNull().default(false),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [
    index('outbox_due_idx').on(t.nextAttemptAt),
    foreignKey({ name: 'outbox_message_fk', columns: [t.tenantId, t.messageId], foreignColumns: [messages.tenantId, messages.id] }).onDelete('cascade'),
    foreignKey({ name: 'outbox_phone_number_fk', columns: [t.tenantId, t.phoneNumberId], foreignColumns: [phoneNumbers.tenantId, phoneNumbers.id] }).onDelete('cascade'),
  ],
);

/** Per-sender pacing shared by every dispatcher instance: the earliest time the sender may send again. */
export const senderPacing = pgTable('sender_pacing', {
  phoneNumberId: uuid('phone_number_id').primaryKey(),
  nextSendAt: timestamp('next_send_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
});
