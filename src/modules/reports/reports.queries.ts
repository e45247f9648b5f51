import { repositoryQueries } from '../../db/query-catalog.js';
import { ReportsRepository } from './reports.repository.js';

const PERIOD = { from: new Date('2024-03-01T00:00:00.000Z'), to: new Date('2024-04-01T00:00:00.000Z') };
/** Any uuid: the statement's shape is what matters (no such team: zeros). */
const TEAM_ID = '00000000-0000-4000-8000-00000000beef';

export default [
  repositoryQueries({
    repository: ReportsRepository,
    calls: {
      report: { tenant: (r) => r.report({ ...PERIOD, teamId: null }), 'one team': (r) => r.report({ ...PERIOD, teamId: TEAM_ID }) },
    },
  }),
];
