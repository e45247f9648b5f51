import { foreignKey, index, pgTable, text, timestamp, unique, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { tenants } from '../tenants/tenants.schema.js';
import { roleEnum, users } from '../users/users.schema.js';

/** Server-to-server credentials: the secret is never stored, only its SHA-256 (it is 256 random bits). */
export const apiKeys = pgTable(
  'api_keys',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    role: roleEnum('role').notNull(),
    /** The first characters of the secret (sk_live_ + 4), shown in lists to recognise a key. */
    prefix: text('prefix').notNull(),
    /** Hex SHA-256 of the whole secret; the lookup key of every authenticated request. */
    secretHash: text('secret_hash').notNull(),
    createdByUserId: uuid('created_by_user_id').references(() => users.id, { onDelete: 'set null' }),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    lastUsedAt: timestamp('last_used_at', { withTimezone: true, mode: 'date' }),
    revokedAt: timestamp('revoked_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [
    // Looked up by hash before the tenant is known (like log-in by email).
    uniqueIndex('api_keys_secret_hash_uq').on(t.secretHash),
    index('api_keys_tenant_created_idx').on(t.tenantId, t.createdAt),
    unique('api_keys_tenant_id_uq').on(t.tenantId, t.id),
    // The single-column key nulls the creator when a user is deleted; this one keeps it in the tenant.
    foreignKey({ name: 'api_keys_created_by_tenant_fk', columns: [t.tenantId, t.createdByUserId], foreignColumns: [users.tenantId, users.id] }),
  ],
);

export type ApiKeyRow = typeof apiKeys.$inferSelect;
