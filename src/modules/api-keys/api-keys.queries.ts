import type { Db } from '../../db/client.js';
import { FIXTURE, functionQueries, repositoryQueries } from '../../db/query-catalog.js';
import { Role } from '../users/role.js';
import { ApiKeysRepository, findActiveKeyByHash, touchLastUsed } from './api-keys.repository.js';
import { apiKeys } from './api-keys.schema.js';

/** A key of the FIXTURE tenant (inserted by setUp). */
const KEY_ID = '00000000-0000-4000-8000-0000000a1001';
const setUp = async (db: Db) => {
  await db.insert(apiKeys).values({ id: KEY_ID, tenantId: FIXTURE.tenantId, name: 'CI', role: Role.AGENT, prefix: 'sk_snap', secretHash: 'snapshot-hash' });
};

export default [
  repositoryQueries({
    repository: ApiKeysRepository,
    setUp,
    calls: {
      list: (r) => r.list(),
      count: (r) => r.count(),
      findByIds: (r) => r.findByIds([KEY_ID, FIXTURE.newId]),
      findById: (r) => r.findById(KEY_ID),
      create: (r) => r.create({ name: 'Zapier', role: Role.ADMIN, prefix: 'sk_new', secretHash: 'new-hash', createdByUserId: FIXTURE.userId }),
      revoke: (r) => r.revoke(KEY_ID),
    },
  }),
  functionQueries({
    findActiveKeyByHash: {
      setUp,
      run: (db) => findActiveKeyByHash(db, 'snapshot-hash'),
      crossTenant: 'API-key authentication runs before a tenant is known: the secret hash finds the key, and so the tenant',
    },
    touchLastUsed: {
      setUp,
      run: (db) => touchLastUsed(db, KEY_ID),
      crossTenant: 'right after authentication, by the key id just found by its hash (unique across tenants); the tenant is not yet bound',
    },
  }),
];
