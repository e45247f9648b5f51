import type { TenantScope } from '../../shared/deps.js';
import { badInput, notFound } from '../../shared/errors.js';
import { OperatingHoursRepository } from './operating-hours.repository.js';
import type { OperatingHoursRow } from './operating-hours.schema.js';
import { isOpenAt, normalizeSchedule, SCHEDULE_LIMITS, type OpeningPeriod } from './schedule.js';

export interface OperatingHoursArgs {
  name: string;
  timeZone: string;
  weekly: OpeningPeriod[];
  closedDates?: string[] | null;
}

/** Schedules per tenant; a tenant needs a handful (one per office or team), not thousands. */
export const MAX_SCHEDULES_PER_TENANT = 100;

export class OperatingHoursService {
  private readonly hours: OperatingHoursRepository;

  constructor(private readonly scope: TenantScope) {
    this.hours = new OperatingHoursRepository(scope.deps.db, scope.tenantId);
  }

  list(): Promise<OperatingHoursRow[]> {
    return this.hours.list();
  }

  findByIds(ids: readonly string[]): Promise<OperatingHoursRow[]> {
    return this.hours.findByIds(ids);
  }

  /** A schedule of this tenant, else NOT_FOUND (another tenant's id included). */
  async require(id: string): Promise<OperatingHoursRow> {
    const row = await this.hours.findById(id);
    if (!row) throw notFound('Operating hours');
    return row;
  }

  async create(input: OperatingHoursArgs): Promise<OperatingHoursRow> {
    const { name, schedule } = validated(input);
    if ((await this.hours.count()) >= MAX_SCHEDULES_PER_TENANT) {
      throw badInput(`A tenant can have at most ${MAX_SCHEDULES_PER_TENANT} operating hours schedules`);
    }
    const row = await this.hours.insert(name, schedule);
    this.scope.deps.logger.info({ tenantId: this.scope.tenantId, userId: this.scope.user.userId, operatingHoursId: row.id }, 'operating hours created');
    return row;
  }

  /** Replaces the whole schedule (name, zone, periods, closed dates). */
  async update(id: string, input: OperatingHoursArgs): Promise<OperatingHoursRow> {
    const { name, schedule } = validated(input);
    const row = await this.hours.replace(id, name, schedule);
    if (!row) throw notFound('Operating hours');
    return row;
  }

  /** The numbers using it become always open. */
  async delete(id: string): Promise<boolean> {
    const deleted = await this.hours.delete(id);
    if (!deleted) throw notFound('Operating hours');
    return true;
  }

  /** On the server's clock (deps.clock), so tests can set the time. */
  openNow(row: OperatingHoursRow): boolean {
    return isOpenAt(row, this.scope.deps.clock.now());
  }
}

function validated(input: OperatingHoursArgs) {
  const name = input.name.trim();
  if (name.length === 0 || name.length > SCHEDULE_LIMITS.nameMax) throw badInput(`name must be 1–${SCHEDULE_LIMITS.nameMax} characters`, 'name');
  return { name, schedule: normalizeSchedule(input) };
}
