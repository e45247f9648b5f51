import { eq } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { FIXTURE, functionQueries, repositoryQueries } from '../../db/query-catalog.js';
import { conversations } from '../conversations/conversations.schema.js';
import { AssignmentStrategy } from '../teams/assignment-strategy.js';
import { teamMembers, teams } from '../teams/teams.schema.js';
import { Availability } from './availability.js';
import { expirePresence, PresenceRepository, recordSeen } from './presence.repository.js';
import { routeTeams, RoutingRepository, teamsWithWorkAnywhere } from './routing.repository.js';
import { agentPresence } from './routing.schema.js';

const TEAM_ID = '00000000-0000-4000-8000-0000000c1001';
/** Another team (a team deletion moves conversations there). */
const OTHER_TEAM_ID = '00000000-0000-4000-8000-0000000c1003';

/**
 * A round-robin team whose only member (the FIXTURE user) is ONLINE, and the FIXTURE conversation
 * waiting unassigned in its queue, checked by the guards: routing finds work and assigns it.
 */
async function teamWithQueue(db: Db): Promise<void> {
  await db.insert(teams).values({ id: TEAM_ID, tenantId: FIXTURE.tenantId, name: 'Billing', strategy: AssignmentStrategy.ROUND_ROBIN });
  await db.insert(teams).values({ id: OTHER_TEAM_ID, tenantId: FIXTURE.tenantId, name: 'Sales', strategy: AssignmentStrategy.LEAST_BUSY });
  await db.insert(teamMembers).values({ tenantId: FIXTURE.tenantId, teamId: TEAM_ID, userId: FIXTURE.userId });
  await db.insert(agentPresence).values({ tenantId: FIXTURE.tenantId, userId: FIXTURE.userId, availability: Availability.ONLINE, lastSeenAt: new Date('2024-01-01T00:00:00Z') });
  // Its guards ran and let it through (route_after set in the past): a pass may assign it.
  await db
    .update(conversations)
    .set({ teamId: TEAM_ID, assigneeId: null, routeAfter: new Date('2024-01-01T00:00:00Z') })
    .where(eq(conversations.id, FIXTURE.conversationId));
}

export default [
  repositoryQueries({
    repository: RoutingRepository,
    setUp: teamWithQueue,
    calls: {
      teamsWithWork: {
        'every team': (r) => r.teamsWithWork(),
        'one team': (r) => r.teamsWithWork(TEAM_ID),
      },
      unchecked: (r) => r.unchecked(TEAM_ID),
      recordVerdicts: (r) =>
        r.recordVerdicts([
          { conversationId: FIXTURE.conversationId, holdUntil: new Date('2099-01-01T00:00:00Z') },
          { conversationId: '00000000-0000-4000-8000-0000000c1002', holdUntil: null },
        ]),
      stillQueued: (r) => r.stillQueued([FIXTURE.conversationId]),
      moveTeamAway: {
        'to another team': (r) => r.moveTeamAway(TEAM_ID, OTHER_TEAM_ID),
        'team-less': (r) => r.moveTeamAway(TEAM_ID, null),
      },
    },
  }),
  repositoryQueries({
    repository: PresenceRepository,
    setUp: teamWithQueue,
    calls: {
      setAvailability: (r) => r.setAvailability(FIXTURE.userId, Availability.AWAY, 60),
      findByUserIds: (r) => r.findByUserIds([FIXTURE.userId]),
    },
  }),
  functionQueries({
    routeTeams: {
      // The queue of one team, and openings just checked (route_after still null) of another.
      run: (db) =>
        routeTeams(db, [
          { tenantId: FIXTURE.tenantId, teamId: TEAM_ID, checked: [] },
          { tenantId: FIXTURE.tenantId, teamId: OTHER_TEAM_ID, checked: ['00000000-0000-4000-8000-0000000c1002'] },
        ]),
      setUp: teamWithQueue,
      crossTenant: "one routing pass over the teams of a burst of openings, whatever their tenants (one transaction instead of one per team); every row is matched on its (tenant, id) pair",
    },
    teamsWithWorkAnywhere: {
      run: (db) => teamsWithWorkAnywhere(db),
      setUp: teamWithQueue,
      crossTenant: "the routing sweep (a system job) finds every tenant's teams with waiting work, then routes each through a tenant-bound RoutingRepository",
    },
    recordSeen: {
      run: (db) => recordSeen(db, [{ tenantId: FIXTURE.tenantId, userId: FIXTURE.userId }]),
      crossTenant:
        "one statement for the open sockets of this instance, whatever their tenants; each (tenant, user) pair is checked against users in the statement",
    },
    expirePresence: {
      run: (db) => expirePresence(db, 60),
      setUp: teamWithQueue,
      crossTenant: "the presence sweep (a system job) turns agents of every tenant OFFLINE once unseen for the offline delay",
    },
  }),
];
