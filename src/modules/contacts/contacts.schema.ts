import { sql } from 'drizzle-orm';
import { boolean, index, pgTable, text, timestamp, unique, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
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
    /** Inbound texts of a blocked contact are stored but open nothing and notify no one. */
    blocked: boolean('blocked').notNull().default(false),
    /** The latest message to or from the contact: the order of the contacts list. */
    lastActivityAt: timestamp('last_activity_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('contacts_tenant_phone_uq').on(t.tenantId, t.phoneNumber),
    // Ascending: scanned backwards it serves ORDER BY last_activity_at DESC, id DESC (see conversations).
    index('contacts_tenant_activity_idx').on(t.tenantId, t.lastActivityAt, t.id),
    // Few rows: lets the inbox list leave blocked contacts' conversations out cheaply.
    index('contacts_tenant_blocked_idx').on(t.tenantId, t.id).where(sql`${t.blocked}`),
    // Search indexes (pg_trgm, GIN) are hand-written SQL: drizzle/00xx_inbox_search_sql.sql.
    // Target of the composite (tenant_id, contact_id) foreign keys: a child row cannot name another tenant's contact.
    unique('contacts_tenant_id_uq').on(t.tenantId, t.id),
  ],
);

export type ContactRow = typeof contacts.$inferSelect;
