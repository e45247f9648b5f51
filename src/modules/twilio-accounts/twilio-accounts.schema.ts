import { boolean, pgTable, text, timestamp, unique, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { tenants } from '../tenants/tenants.schema.js';

export const twilioAccounts = pgTable(
  'twilio_accounts',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    accountSid: text('account_sid').notNull(),
    /** AES-256-GCM sealed auth token (see src/shared/secret-box.ts); never the clear token. */
    authTokenSealed: text('auth_token_sealed').notNull(),
    friendlyName: text('friendly_name').notNull(),
    apiBaseUrl: text('api_base_url').notNull(),
    /** Unguessable key in this account's webhook and status-callback URLs. */
    webhookKey: text('webhook_key').notNull().unique(),
    mediaEnabled: boolean('media_enabled').notNull().default(true),
    acceptedMediaTypes: text('accepted_media_types').array().notNull().default([]),
    /**
     * After a token rotation: the token Twilio may still sign webhooks with (it signs with its
     * primary token until the new one is promoted). Accepted until the first webhook that
     * validates with the new token, or until previousTokenExpiresAt; then cleared.
     */
    previousAuthTokenSealed: text('previous_auth_token_sealed'),
    previousTokenExpiresAt: timestamp('previous_token_expires_at', { withTimezone: true, mode: 'date' }),
    /** Set by disconnectTwilioAccount: its webhook URLs answer 404, its numbers are removed; history stays. */
    disconnectedAt: timestamp('disconnected_at', { withTimezone: true, mode: 'date' }),
    /** Connected to the built-in Twilio simulator (SANDBOX=true), whose loopback URL changes per start. */
    sandbox: boolean('sandbox').notNull().default(false),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('twilio_accounts_tenant_sid_uq').on(t.tenantId, t.accountSid),
    unique('twilio_accounts_tenant_id_uq').on(t.tenantId, t.id),
  ],
);

export type TwilioAccountRow = typeof twilioAccounts.$inferSelect;
