import { index, integer, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';

/**
 * Attempt counters shared by every instance on this database (log-in per email and per address,
 * sign-up per address): a fixed window per key. The key is a SHA-256 of the kind and the
 * email/address, so no email or address is stored. Expired rows are pruned by the instances.
 */
export const rateLimitCounters = pgTable(
  'rate_limit_counters',
  {
    key: text('key').primaryKey(),
    points: integer('points').notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }).notNull(),
  },
  (t) => [index('rate_limit_counters_expires_idx').on(t.expiresAt)],
);

/**
 * Open GraphQL WebSockets of users, across instances (the WS_MAX_SOCKETS_PER_USER cap). Each
 * instance keeps its rows alive by heartbeat and deletes a row when its socket closes; the rows of
 * an instance that died expire by themselves. No tenant_id: a socket is not tenant data (user ids
 * are unique across tenants), and no foreign key: a row outlives nothing but its socket.
 */
export const liveSockets = pgTable(
  'live_sockets',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    userId: uuid('user_id').notNull(),
    instanceId: uuid('instance_id').notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }).notNull(),
  },
  (t) => [index('live_sockets_user_idx').on(t.userId), index('live_sockets_instance_idx').on(t.instanceId)],
);
