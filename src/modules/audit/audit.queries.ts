import { FIXTURE, repositoryQueries } from '../../db/query-catalog.js';
import { AuditRepository } from './audit.repository.js';

export default [
  repositoryQueries({
    repository: AuditRepository,
    calls: {
      list: {
        'first page': (r) => r.list(50, null, {}),
        'next page, by actor and action prefix': (r) => r.list(50, 1000, { actorId: FIXTURE.userId, action: 'contact.*' }),
        'exact action': (r) => r.list(50, null, { action: 'conversation.resolved' }),
      },
    },
  }),
];
