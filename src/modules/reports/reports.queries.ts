import { repositoryQueries } from '../../db/query-catalog.js';
import { ReportsRepository } from './reports.repository.js';

const FROM = new Date('2024-03-01T00:00:00.000Z');
const TO = new Date('2024-04-01T00:00:00.000Z');

export default [
  repositoryQueries({
    repository: ReportsRepository,
    calls: {
      totals: (r) => r.totals(FROM, TO),
      byAgent: (r) => r.byAgent(FROM, TO),
    },
  }),
];
