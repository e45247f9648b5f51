import { foreignKey, pgEnum, pgTable, primaryKey, timestamp, uuid } from 'drizzle-orm/pg-core';
import { tenants } from '../tenants/tenants.schema.js';
import { users } from '../users/users.schema.js';
import { Availability } from './availability.js';

export const availabilityEnum = pgEnum('availability', Availability);

/**
 * An agent's availability and presence. No row means OFFLINE (new users start so). Kept apart
 * from `users` because it changes often (heartbeats) and is locked by routing: a row lock here
 * serialises every automatic assignment to this agent, whichever team or instance assigns.
 */
export const agentPresence = pgTable(
  'agent_presence',
  {
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    userId: uuid('user_id').notNull(),
    availability: availabilityEnum('availability').notNull().default(Availability.OFFLINE),
    /**
     * Last proof of an open WebSocket on some instance (heartbeats, and the close of the last one).
     * Null: no socket to watch; then presence never turns the agent OFFLINE by itself.
     */
    lastSeenAt: timestamp('last_seen_at', { withTimezone: true, mode: 'date' }),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.userId] }),
    foreignKey({ columns: [t.tenantId, t.userId], foreignColumns: [users.tenantId, users.id], name: 'agent_presence_user_fk' }).onDelete('cascade'),
  ],
);

export type AgentPresenceRow = typeof agentPresence.$inferSelect;
