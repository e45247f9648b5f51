import { FIXTURE, repositoryQueries } from '../../db/query-catalog.js';
import { FallbackAnswersRepository } from './fallback.repository.js';

export default [
  repositoryQueries({
    repository: FallbackAnswersRepository,
    calls: {
      decide: (r) => r.decide(FIXTURE.accountId, FIXTURE.contactPhone, 'SM00000000000000000000000000000001', 10),
    },
  }),
];
