import { FIXTURE, repositoryQueries } from '../../db/query-catalog.js';
import { OperatingHoursRepository } from './operating-hours.repository.js';
import { operatingHours } from './operating-hours.schema.js';
import { Weekday, type Schedule } from './schedule.js';

/** A schedule of the FIXTURE tenant (inserted by setUp). */
const HOURS_ID = '00000000-0000-4000-8000-0000000a3001';
const schedule: Schedule = { timeZone: 'America/New_York', weekly: [{ day: Weekday.MONDAY, opens: '09:00', closes: '17:00' }], closedDates: ['2024-12-25'] };

export default [
  repositoryQueries({
    repository: OperatingHoursRepository,
    setUp: async (db) => {
      await db.insert(operatingHours).values({ id: HOURS_ID, tenantId: FIXTURE.tenantId, name: 'Office', ...schedule });
    },
    calls: {
      list: (r) => r.list(),
      count: (r) => r.count(),
      findById: (r) => r.findById(HOURS_ID),
      findByIds: (r) => r.findByIds([HOURS_ID, FIXTURE.newId]),
      insert: (r) => r.insert('Weekend', schedule),
      replace: (r) => r.replace(HOURS_ID, 'Office (summer)', schedule),
      delete: (r) => r.delete(HOURS_ID),
    },
  }),
];
