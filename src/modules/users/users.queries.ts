import type { Db } from '../../db/client.js';
import { FIXTURE, functionQueries, repositoryQueries } from '../../db/query-catalog.js';
import { Role } from './role.js';
import { loadSessionState, SessionsRepository } from './sessions.repository.js';
import { sessions } from './sessions.schema.js';
import {
  consumeCounterPoint,
  deleteCounter,
  heartbeatLiveSockets,
  pruneCounters,
  registerLiveSocket,
  releaseInstanceSockets,
  releaseLiveSocket,
  rewardCounterPoint,
} from './limits.repository.js';
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
    consumeCounterPoint: { run: (db) => consumeCounterPoint(db, 'snapshot-key', 900), crossTenant: 'log-in and sign-up counts come before any tenant is known' },
    rewardCounterPoint: { run: (db) => rewardCounterPoint(db, 'snapshot-key'), crossTenant: 'log-in counts come before any tenant is known' },
    deleteCounter: { run: (db) => deleteCounter(db, 'snapshot-key'), crossTenant: 'log-in counts come before any tenant is known' },
    pruneCounters: { run: (db) => pruneCounters(db), crossTenant: 'expired counters of every key' },
    registerLiveSocket: {
      run: (db) => registerLiveSocket(db, { userId: FIXTURE.userId, instanceId: FIXTURE.newId, ttlSeconds: 60, max: 20 }),
      crossTenant: 'sockets per user (user ids are unique across tenants), counted across instances',
    },
    releaseLiveSocket: { run: (db) => releaseLiveSocket(db, FIXTURE.newId), crossTenant: 'a socket registration by its id' },
    heartbeatLiveSockets: { run: (db) => heartbeatLiveSockets(db, FIXTURE.newId, 60), crossTenant: 'one instance’s sockets of every tenant' },
    releaseInstanceSockets: { run: (db) => releaseInstanceSockets(db, FIXTURE.newId), crossTenant: 'one instance’s sockets of every tenant' },
    loadSessionState: {
      run: (db) => loadSessionState(db, FIXTURE.tenantId, SESSION_ID),
      setUp: insertSession,
    },
  }),
];
