import { FIXTURE, repositoryQueries } from '../../db/query-catalog.js';
import { AssignmentStrategy } from './assignment-strategy.js';
import { TeamsRepository } from './teams.repository.js';
import { teamMembers, teams } from './teams.schema.js';

/** A team with the FIXTURE user as its member (inserted by setUp). */
const TEAM_ID = '00000000-0000-4000-8000-0000000c1001';

export default [
  repositoryQueries({
    repository: TeamsRepository,
    setUp: async (db) => {
      await db.insert(teams).values({ id: TEAM_ID, tenantId: FIXTURE.tenantId, name: 'Billing', strategy: AssignmentStrategy.ROUND_ROBIN });
      await db.insert(teamMembers).values({ tenantId: FIXTURE.tenantId, teamId: TEAM_ID, userId: FIXTURE.userId });
    },
    calls: {
      list: (r) => r.list(),
      findById: (r) => r.findById(TEAM_ID),
      findByIds: (r) => r.findByIds([TEAM_ID, FIXTURE.newId]),
      insert: (r) => r.insert({ name: 'Sales', strategy: AssignmentStrategy.LEAST_BUSY, agentCapacity: 5 }),
      update: (r) => r.update(TEAM_ID, { name: 'Billing & refunds', agentCapacity: null }),
      replaceMembers: {
        'keep some': (r) => r.replaceMembers(TEAM_ID, [FIXTURE.userId]),
        'remove all': (r) => r.replaceMembers(TEAM_ID, []),
      },
      delete: (r) => r.delete(TEAM_ID),
      usersAmong: (r) => r.usersAmong([FIXTURE.userId, FIXTURE.newId]),
      isMember: (r) => r.isMember(TEAM_ID, FIXTURE.userId),
      memberIds: (r) => r.memberIds(TEAM_ID),
      membersOf: (r) => r.membersOf([TEAM_ID]),
      teamsOf: (r) => r.teamsOf([FIXTURE.userId]),
      memberships: (r) => r.memberships(),
    },
  }),
];
