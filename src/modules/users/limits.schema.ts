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
 * Server instances holding GraphQL WebSockets (the WS_MAX_SOCKETS_PER_USER cap across instances):
 * each keeps its one row alive by heartbeat, so the heartbeat costs one row however many sockets
 * the instance holds (it used to touch every socket's row: 10,000 rows, ~175 ms of Postgres, every
 * 20 s). An instance that died stops counting when its row expires, and the next heartbeat of any
 * instance deletes the row and, by cascade, its sockets.
 */
export const liveInstances = pgTable('live_instances', {
  instanceId: uuid('instance_id').primaryKey(),
  expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }).notNull(),
});

/**
 * Open GraphQL WebSockets of users, across instances (the WS_MAX_SOCKETS_PER_USER cap): a row
 * counts while its instance's row is alive, and goes when its socket closes or with its instance.
 * No tenant_id: a socket is not tenant data (user ids are unique across tenants), and no foreign
 * key to users: a row outlives nothing but its socket.
 */
export const liveSockets = pgTable(
  'live_sockets',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    userId: uuid('user_id').notNull(),
    instanceId: uuid('instance_id')
      .notNull()
      .references(() => liveInstances.instanceId, { onDelete: 'cascade' }),
  },
  (t) => [index('live_sockets_user_idx').on(t.userId), index('live_sockets_instance_idx').on(t.instanceId)],
);
