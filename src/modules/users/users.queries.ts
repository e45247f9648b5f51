import type { Db } from '../../db/client.js';
import { FIXTURE, functionQueries, repositoryQueries } from '../../db/query-catalog.js';
import { Role } from './role.js';
import { loadSessionState, SessionsRepository } from './sessions.repository.js';
import { sessions } from './sessions.schema.js';
import { emailExistsAnywhere, findLoginCandidate, UsersRepository } from './users.repository.js';

/** A live session of the FIXTURE user (inserted by the sessions entry's setUp). */
const SESSION_ID = '00000000-0000-4000-8000-0000000b1001';

const insertSession = async (db: Db): Promise<void> => {
  await db.insert(sessions).values({ id: SESSION_ID, tenantId: FIXTURE.tenantId, userId: FIXTURE.userId, expiresAt: new Date('2099-01-01T00:00:00Z') });
};

export default [
  repositoryQueries({
    repository: UsersRepository,
    calls: {
      findById: (r) => r.findById(FIXTURE.userId),
      findByIds: (r) => r.findByIds([FIXTURE.userId]),
      list: {
        all: (r) => r.list({}),
        'active agents': (r) => r.list({ role: Role.AGENT, active: true }),
      },
      lockActiveAdmins: (r) => r.lockActiveAdmins(),
      update: (r) => r.update(FIXTURE.userId, { name: 'Renamed', active: true }),
      create: (r) => r.create({ email: 'new@example.com', name: 'New', role: Role.AGENT, passwordHash: 'hash' }),
    },
  }),
  repositoryQueries({
    repository: SessionsRepository,
    setUp: insertSession,
    calls: {
      create: (r) => r.create(FIXTURE.userId, new Date('2099-01-01T00:00:00Z')),
      revoke: (r) => r.revoke(SESSION_ID),
      revokeAllOf: {
        every: (r) => r.revokeAllOf(FIXTURE.userId),
        'all but one': (r) => r.revokeAllOf(FIXTURE.userId, SESSION_ID),
      },
    },
  }),
  functionQueries({
    findLoginCandidate: {
      run: async (db) => {
        await findLoginCandidate(db, 'admin@example.com', 'snapshot');
        await findLoginCandidate(db, 'admin@example.com', null);
      },
      crossTenant: 'log-in happens before a tenant is known (by the tenant slug given, or the signed-up row)',
    },
    emailExistsAnywhere: {
      run: (db) => emailExistsAnywhere(db, 'admin@example.com'),
      crossTenant: 'sign-up checks the email across tenants',
    },
    loadSessionState: {
      run: (db) => loadSessionState(db, FIXTURE.tenantId, SESSION_ID),
      setUp: insertSession,
    },
  }),
];
