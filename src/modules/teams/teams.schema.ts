import { sql } from 'drizzle-orm';
import { foreignKey, index, integer, pgEnum, pgTable, primaryKey, text, timestamp, unique, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { tenants } from '../tenants/tenants.schema.js';
import { users } from '../users/users.schema.js';
import { AssignmentStrategy } from './assignment-strategy.js';

export const assignmentStrategyEnum = pgEnum('assignment_strategy', AssignmentStrategy);

export const teams = pgTable(
  'teams',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    strategy: assignmentStrategyEnum('strategy').notNull().default(AssignmentStrategy.ROUND_ROBIN),
    /** Most OPEN/PENDING conversations automatic assignment gives one member (across all teams); null: no limit. */
    agentCapacity: integer('agent_capacity'),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [
    // The parent key of the composite (tenant_id, team_id) references below.
    unique('teams_tenant_id_uq').on(t.tenantId, t.id),
    // Names are unique per tenant, whatever their case ("Billing" and "billing" would confuse a picker).
    uniqueIndex('teams_tenant_name_uq').on(t.tenantId, sql`lower(${t.name})`),
  ],
);

export const teamMembers = pgTable(
  'team_members',
  {
    tenantId: uuid('tenant_id').notNull(),
    teamId: uuid('team_id').notNull(),
    userId: uuid('user_id').notNull(),
    /** When automatic assignment last gave this member a conversation of this team (round robin turn, least-busy ties). */
    lastAssignedAt: timestamp('last_assigned_at', { withTimezone: true, mode: 'date' }),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.teamId, t.userId] }),
    foreignKey({ columns: [t.tenantId, t.teamId], foreignColumns: [teams.tenantId, teams.id], name: 'team_members_team_fk' }).onDelete('cascade'),
    foreignKey({ columns: [t.tenantId, t.userId], foreignColumns: [users.tenantId, users.id], name: 'team_members_user_fk' }).onDelete('cascade'),
    // "Which teams is this user in": the visibility rule and User.teams.
    index('team_members_tenant_user_idx').on(t.tenantId, t.userId),
  ],
);

export type TeamRow = typeof teams.$inferSelect;
