import { sql } from 'drizzle-orm';
import { boolean, index, pgEnum, pgTable, text, timestamp, unique, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { tenants } from '../tenants/tenants.schema.js';
import { Role } from './role.js';

export const roleEnum = pgEnum('role', Role);

export const users = pgTable(
  'users',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    /** Stored lower-cased: emails are compared case-insensitively. */
    email: text('email').notNull(),
    name: text('name').notNull(),
    role: roleEnum('role').notNull(),
    passwordHash: text('password_hash').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    /** False once deactivated: no log-in, tokens and sockets refused. */
    active: boolean('active').notNull().default(true),
    /**
     * The row signUp created for this email (at most one per email): log-in without tenantSlug
     * checks this row only, so agents' rows other tenants create under the same email can
     * neither lock the owner out nor multiply the password hashes per attempt.
     */
    signedUp: boolean('signed_up').notNull().default(false),
  },
  (t) => [
    uniqueIndex('users_tenant_email_uq').on(t.tenantId, t.email),
    index('users_email_idx').on(t.email),
    uniqueIndex('users_signed_up_email_uq').on(t.email).where(sql`${t.signedUp}`),
    unique('users_tenant_id_uq').on(t.tenantId, t.id),
  ],
);

export type UserRow = typeof users.$inferSelect;
