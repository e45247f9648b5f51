import { foreignKey, index, pgTable, timestamp, unique, uuid } from 'drizzle-orm/pg-core';
import { tenants } from '../tenants/tenants.schema.js';
import { users } from './users.schema.js';

/**
 * One row per issued token (log-in, sign-up, password change). A token names its session; the
 * session must exist, be unrevoked and unexpired, and its user active, for the token to work.
 */
export const sessions = pgTable(
  'sessions',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    userId: uuid('user_id').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }).notNull(),
    revokedAt: timestamp('revoked_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [
    unique('sessions_tenant_id_uq').on(t.tenantId, t.id),
    index('sessions_tenant_user_idx').on(t.tenantId, t.userId),
    foreignKey({ name: 'sessions_user_fk', columns: [t.tenantId, t.userId], foreignColumns: [users.tenantId, users.id] }).onDelete('cascade'),
  ],
);

export type SessionRow = typeof sessions.$inferSelect;
