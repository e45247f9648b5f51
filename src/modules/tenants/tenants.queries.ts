import { FIXTURE, repositoryQueries } from '../../db/query-catalog.js';
import { TenantsRepository } from './tenants.repository.js';

export default [
  repositoryQueries({
    repository: TenantsRepository,
    create: (db) => new TenantsRepository(db),
    crossTenant:
      'tenants are the root of isolation: sign-up and log-in run before there is a tenant, update takes the caller\'s own tenant id from the verified token, and the retention job lists every tenant with a retention period',
    calls: {
      create: (r) => r.create('Snapshot Two', 'snapshot-two'),
      findByIds: (r) => r.findByIds([FIXTURE.tenantId]),
      update: (r) => r.update(FIXTURE.tenantId, { name: 'Snapshot renamed', retentionDays: 30 }),
      withRetention: (r) => r.withRetention(),
      slugsLike: (r) => r.slugsLike('snapshot'),
    },
  }),
];
