import { jsonb, pgTable, text, timestamp, unique, uuid } from 'drizzle-orm/pg-core';
import { tenants } from '../tenants/tenants.schema.js';
import type { OpeningPeriod } from './schedule.js';

/** A weekly schedule in one time zone; numbers point at it (phone_numbers.operating_hours_id). */
export const operatingHours = pgTable(
  'operating_hours',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    /** IANA name, checked on write. */
    timeZone: text('time_zone').notNull(),
    /** Normalised by normalizeSchedule: sorted, HH:mm, no overlaps. */
    weekly: jsonb('weekly').$type<OpeningPeriod[]>().notNull(),
    /** YYYY-MM-DD, sorted. */
    closedDates: jsonb('closed_dates').$type<string[]>().notNull().default([]),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  // Also the target of phone_numbers' composite (tenant_id, operating_hours_id) foreign key.
  (t) => [unique('operating_hours_tenant_id_uq').on(t.tenantId, t.id)],
);

export type OperatingHoursRow = typeof operatingHours.$inferSelect;
