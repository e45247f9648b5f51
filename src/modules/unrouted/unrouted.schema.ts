import { foreignKey, index, pgTable, text, timestamp, unique, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { tenants } from '../tenants/tenants.schema.js';
import { twilioAccounts } from '../twilio-accounts/twilio-accounts.schema.js';

/**
 * Signed inbound texts to a number that is not registered (as inbound) here: kept, never dropped,
 * and listed for the tenant's admins (unroutedMessages). Keyed like messages on (account, SID),
 * so Twilio's retries are stored once.
 */
export const unroutedMessages = pgTable(
  'unrouted_messages',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    twilioAccountId: uuid('twilio_account_id').notNull(),
    fromAddress: text('from_address').notNull(),
    toAddress: text('to_address').notNull(),
    body: text('body').notNull(),
    twilioSid: text('twilio_sid').notNull(),
    receivedAt: timestamp('received_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [
    unique('unrouted_messages_tenant_id_uq').on(t.tenantId, t.id),
    foreignKey({ name: 'unrouted_messages_twilio_account_fk', columns: [t.tenantId, t.twilioAccountId], foreignColumns: [twilioAccounts.tenantId, twilioAccounts.id] }).onDelete('cascade'),
    uniqueIndex('unrouted_messages_account_sid_uq').on(t.tenantId, t.twilioAccountId, t.twilioSid),
    index('unrouted_messages_tenant_received_idx').on(t.tenantId, t.receivedAt, t.id),
  ],
);

export type UnroutedMessageRow = typeof unroutedMessages.$inferSelect;
