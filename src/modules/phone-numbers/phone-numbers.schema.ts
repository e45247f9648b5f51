import { sql } from 'drizzle-orm';
import { foreignKey, index, pgEnum, pgTable, text, timestamp, unique, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { teams } from '../teams/teams.schema.js';
import { tenants } from '../tenants/tenants.schema.js';
import { twilioAccounts } from '../twilio-accounts/twilio-accounts.schema.js';
import { NumberDirection, NumberType } from './phone-number.enums.js';

export const numberTypeEnum = pgEnum('number_type', NumberType);
export const numberDirectionEnum = pgEnum('number_direction', NumberDirection);

export const phoneNumbers = pgTable(
  'phone_numbers',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    twilioAccountId: uuid('twilio_account_id').notNull(),
    /** E.164 (+14155550100), or the digits of a short code. */
    e164: text('e164').notNull(),
    type: numberTypeEnum('type').notNull().default(NumberType.LONG_CODE),
    direction: numberDirectionEnum('direction').notNull().default(NumberDirection.INBOUND_OUTBOUND),
    description: text('description'),
    messagingServiceSid: text('messaging_service_sid'),
    /** Twilio's IncomingPhoneNumber SID (PN...), when we looked the number up. */
    twilioNumberSid: text('twilio_number_sid'),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    /** Removal is soft: conversations keep pointing at the number, sending on it is refused. */
    removedAt: timestamp('removed_at', { withTimezone: true, mode: 'date' }),
    /** New conversations on this number are routed to this team; null: no team. */
    teamId: uuid('team_id'),
  },
  (t) => [
    // A number belongs to at most one tenant at a time; removing frees it.
    uniqueIndex('phone_numbers_active_e164_uq').on(t.e164).where(sql`${t.removedAt} is null`),
    index('phone_numbers_tenant_idx').on(t.tenantId, t.createdAt),
    index('phone_numbers_account_idx').on(t.twilioAccountId, t.e164),
    unique('phone_numbers_tenant_id_uq').on(t.tenantId, t.id),
    foreignKey({ name: 'phone_numbers_account_fk', columns: [t.tenantId, t.twilioAccountId], foreignColumns: [twilioAccounts.tenantId, twilioAccounts.id] }).onDelete('cascade'),
    foreignKey({ columns: [t.tenantId, t.teamId], foreignColumns: [teams.tenantId, teams.id], name: 'phone_numbers_team_fk' }),
  ],
);

export type PhoneNumberRow = typeof phoneNumbers.$inferSelect;
