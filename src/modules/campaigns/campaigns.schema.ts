import { sql } from 'drizzle-orm';
import { bigserial, foreignKey, index, pgEnum, pgTable, text, timestamp, unique, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { messages } from '../messages/messages.schema.js';
import { phoneNumbers } from '../phone-numbers/phone-numbers.schema.js';
import { tenants } from '../tenants/tenants.schema.js';
import { CampaignStatus, RecipientState } from './campaign.enums.js';

export const campaignStatusEnum = pgEnum('campaign_status', CampaignStatus);
export const recipientStateEnum = pgEnum('campaign_recipient_state', RecipientState);

export const campaigns = pgTable(
  'campaigns',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    phoneNumberId: uuid('phone_number_id').notNull(),
    body: text('body').notNull(),
    status: campaignStatusEnum('status').notNull().default(CampaignStatus.DRAFT),
    scheduledAt: timestamp('scheduled_at', { withTimezone: true, mode: 'date' }),
    /** 'HH:mm'; both or neither. */
    sendWindowStart: text('send_window_start'),
    sendWindowEnd: text('send_window_end'),
    createdBy: uuid('created_by'),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    startedAt: timestamp('started_at', { withTimezone: true, mode: 'date' }),
    completedAt: timestamp('completed_at', { withTimezone: true, mode: 'date' }),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [
    index('campaigns_tenant_created_idx').on(t.tenantId, t.createdAt, t.id),
    // The runners' scan across tenants (a queue, like outbox_due_idx): campaigns that may have work.
    index('campaigns_active_idx').on(t.status, t.scheduledAt).where(sql`${t.status} in ('SCHEDULED', 'RUNNING')`),
    unique('campaigns_tenant_id_uq').on(t.tenantId, t.id),
    foreignKey({ name: 'campaigns_phone_number_fk', columns: [t.tenantId, t.phoneNumberId], foreignColumns: [phoneNumbers.tenantId, phoneNumbers.id] }).onDelete('cascade'),
  ],
);

/**
 * One recipient of a campaign. PENDING until the runner turns it into exactly one message (with
 * its outbox job, in the same transaction: QUEUED + message_id) or skips it with a reason.
 * Duplicates are kept as SKIPPED rows (reason 'duplicate'), so every submitted line is accounted for.
 */
export const campaignRecipients = pgTable(
  'campaign_recipients',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    campaignId: uuid('campaign_id').notNull(),
    phoneNumber: text('phone_number').notNull(),
    name: text('name'),
    state: recipientStateEnum('state').notNull().default(RecipientState.PENDING),
    reason: text('reason'),
    messageId: uuid('message_id').references(() => messages.id, { onDelete: 'set null' }),
    /** Outside the send window: not before this time. */
    notBefore: timestamp('not_before', { withTimezone: true, mode: 'date' }),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [
    index('campaign_recipients_tenant_campaign_idx').on(t.tenantId, t.campaignId, t.id),
    index('campaign_recipients_pending_idx').on(t.tenantId, t.campaignId, t.id).where(sql`${t.state} = 'PENDING'`),
    // One live (non-duplicate) row per number: the arbiter of duplicates across addCampaignRecipients calls.
    uniqueIndex('campaign_recipients_number_uq')
      .on(t.tenantId, t.campaignId, t.phoneNumber)
      .where(sql`${t.reason} is distinct from 'duplicate'`),
    index('campaign_recipients_message_idx').on(t.tenantId, t.messageId),
    foreignKey({ name: 'campaign_recipients_campaign_fk', columns: [t.tenantId, t.campaignId], foreignColumns: [campaigns.tenantId, campaigns.id] }).onDelete('cascade'),
    // The single-column key above does the SET NULL when a message is erased; this one keeps it in the tenant.
    foreignKey({ name: 'campaign_recipients_message_tenant_fk', columns: [t.tenantId, t.messageId], foreignColumns: [messages.tenantId, messages.id] }),
  ],
);

export type CampaignRow = typeof campaigns.$inferSelect;
export type CampaignRecipientRow = typeof campaignRecipients.$inferSelect;
