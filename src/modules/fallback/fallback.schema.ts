import { foreignKey, index, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { tenants } from '../tenants/tenants.schema.js';
import { twilioAccounts } from '../twilio-accounts/twilio-accounts.schema.js';

/**
 * FAILURE texts the fallback URL answered (as TwiML), shared by every instance: one answer per
 * inbound MessageSid, and the loop guard's count per (account, contact) over the last hour.
 * Rows older than an hour serve nothing and are deleted as the contact's next answer is decided.
 */
export const fallbackAnswers = pgTable(
  'fallback_answers',
  {
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    messageSid: text('message_sid').notNull(),
    twilioAccountId: uuid('twilio_account_id').notNull(),
    /** The customer's number (E.164), as Twilio posted it in From. */
    contactPhone: text('contact_phone').notNull(),
    answeredAt: timestamp('answered_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.messageSid] }),
    index('fallback_answers_contact_idx').on(t.tenantId, t.twilioAccountId, t.contactPhone, t.answeredAt),
    foreignKey({ name: 'fallback_answers_account_fk', columns: [t.tenantId, t.twilioAccountId], foreignColumns: [twilioAccounts.tenantId, twilioAccounts.id] }).onDelete('cascade'),
  ],
);
