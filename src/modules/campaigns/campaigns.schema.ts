import { sql } from 'drizzle-orm';
import { bigserial, index, pgEnum, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
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
    phoneNumberId: uuid('phone_number_id')
      .notNull()
      .references(() => phoneNumbers.id, { onDelete: 'cascade' }),
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
    // The runners' scan: campaigns that may have work.
    index('campaigns_active_idx').on(t.status, t.scheduledAt).where(sql`${t.status} in ('SCHEDULED', 'RUNNING')`),
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
    campaignId: uuid('campaign_id')
      .notNull()
      .references(() => campaigns.id, { onDelete: 'cascade' }),
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
    index('campaign_recipients_pending_idx').on(t.campaignId, t.id).where(sql`${t.state} = 'PENDING'`),
    // One live (non-duplicate) row per number: the arbiter of duplicates across addCampaignRecipients calls.
    uniqueIndex('campaign_recipients_number_uq')
      .on(t.tenantId, t.campaignId, t.phoneNumber)
      .where(sql`${t.reason} is distinct from 'duplicate'`),
    index('campaign_recipients_message_idx').on(t.tenantId, t.messageId),
  ],
);

export type CampaignRow = typeof campaigns.$inferSelect;
export type CampaignRecipientRow = typeof campaignRecipients.$inferSelect;
