import { FIXTURE, repositoryQueries } from '../../db/query-catalog.js';
import { TenantsRepository } from './tenants.repository.js';

export default [
  repositoryQueries({
    repository: TenantsRepository,
    create: (db) => new TenantsRepository(db),
    crossTenant: 'tenants are the root of isolation: sign-up and log-in run before there is a tenant',
    calls: {
      create: (r) => r.create('Snapshot Two', 'snapshot-two'),
      findByIds: (r) => r.findByIds([FIXTURE.tenantId]),
      slugsLike: (r) => r.slugsLike('snapshot'),
    },
  }),
];
