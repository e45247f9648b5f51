import { asc, count, eq, inArray, sql } from 'drizzle-orm';
import { TenantRepository } from '../../db/tenant-repository.js';
import { isUuid } from '../../shared/ids.js';
import type { Schedule } from './schedule.js';
import { operatingHours, type OperatingHoursRow } from './operating-hours.schema.js';

export class OperatingHoursRepository extends TenantRepository {
  async list(): Promise<OperatingHoursRow[]> {
    return this.db
      .select()
      .from(operatingHours)
      .where(this.scoped(operatingHours))
      .orderBy(asc(operatingHours.name), asc(operatingHours.id));
  }

  async count(): Promise<number> {
    const [row] = await this.db.select({ n: count() }).from(operatingHours).where(this.scoped(operatingHours));
    return Number(row?.n ?? 0);
  }

  async findById(id: string): Promise<OperatingHoursRow | undefined> {
    if (!isUuid(id)) return undefined;
    const [row] = await this.db.select().from(operatingHours).where(this.scoped(operatingHours, eq(operatingHours.id, id))).limit(1);
    return row;
  }

  async findByIds(ids: readonly string[]): Promise<OperatingHoursRow[]> {
    const valid = ids.filter(isUuid);
    if (valid.length === 0) return [];
    return this.db.select().from(operatingHours).where(this.scoped(operatingHours, inArray(operatingHours.id, valid)));
  }

  async insert(name: string, schedule: Schedule): Promise<OperatingHoursRow> {
    const [row] = await this.db
      .insert(operatingHours)
      .values({ tenantId: this.tenantId, name, ...schedule })
      .returning();
    return row!;
  }

  async replace(id: string, name: string, schedule: Schedule): Promise<OperatingHoursRow | undefined> {
    if (!isUuid(id)) return undefined;
    const [row] = await this.db
      .update(operatingHours)
      .set({ name, ...schedule, updatedAt: sql`now()` })
      .where(this.scoped(operatingHours, eq(operatingHours.id, id)))
      .returning();
    return row;
  }

  /**
   * The numbers using it become always open: phone_numbers_operating_hours_fk is ON DELETE SET
   * NULL (operating_hours_id) (migration 0005), which keeps their tenant_id.
   */
  async delete(id: string): Promise<boolean> {
    if (!isUuid(id)) return false;
    const rows = await this.db
      .delete(operatingHours)
      .where(this.scoped(operatingHours, eq(operatingHours.id, id)))
      .returning({ id: operatingHours.id });
    return rows.length > 0;
  }
}
