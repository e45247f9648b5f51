import { boolean, pgTable, text, timestamp, unique, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { tenants } from '../tenants/tenants.schema.js';

export const contacts = pgTable(
  'contacts',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    phoneNumber: text('phone_number').notNull(),
    name: text('name'),
    optedOut: boolean('opted_out').notNull().default(false),
    optedOutAt: timestamp('opted_out_at', { withTimezone: true, mode: 'date' }),
    city: text('city'),
    state: text('state'),
    zip: text('zip'),
    country: text('country'),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('contacts_tenant_phone_uq').on(t.tenantId, t.phoneNumber),
    // Target of the composite (tenant_id, contact_id) foreign keys: a child row cannot name another tenant's contact.
    unique('contacts_tenant_id_uq').on(t.tenantId, t.id),
  ],
);

export type ContactRow = typeof contacts.$inferSelect;
