import { and, eq, isNull } from 'drizzle-orm';
import type { AppDeps, NumbersOpenedListener, OpenedNumber } from '../../shared/deps.js';
import { phoneNumbers } from '../phone-numbers/phone-numbers.schema.js';
import { operatingHours } from '../operating-hours/operating-hours.schema.js';
import { isOpenAt } from '../operating-hours/schedule.js';

export type { NumbersOpenedListener, OpenedNumber };

/**
 * Whether a number takes automatic assignment now: no schedule, or its schedule is open on the
 * server's clock. The check routing makes before assigning (closed → the conversation waits).
 */
export async function isNumberOpen(deps: AppDeps, tenantId: string, phoneNumberId: string): Promise<boolean> {
  const [row] = await deps.db
    .select({ hours: operatingHours })
    .from(phoneNumbers)
    .leftJoin(operatingHours, and(eq(operatingHours.id, phoneNumbers.operatingHoursId), eq(operatingHours.tenantId, phoneNumbers.tenantId)))
    .where(and(eq(phoneNumbers.tenantId, tenantId), eq(phoneNumbers.id, phoneNumberId)))
    .limit(1);
  return !row?.hours || isOpenAt(row.hours, deps.clock.now());
}

/**
 * Watches the numbers that have a schedule and tells the listeners, once per opening, which
 * went from closed to open on the server's clock since the last look. Each instance watches;
 * listeners must be safe to run on several instances (routing assigns under row locks).
 */
export class OpeningWatcher {
  private readonly wasOpen = new Map<string, boolean>();

  constructor(
    private readonly deps: AppDeps,
    /** Who hears of openings (the engine's listeners, AppDeps.automations.onNumbersOpened). */
    private readonly listeners: () => Iterable<NumbersOpenedListener>,
  ) {}

  async tick(): Promise<OpenedNumber[]> {
    const rows = await this.deps.db
      .select({ tenantId: phoneNumbers.tenantId, phoneNumberId: phoneNumbers.id, hours: operatingHours })
      .from(phoneNumbers)
      .innerJoin(operatingHours, and(eq(operatingHours.id, phoneNumbers.operatingHoursId), eq(operatingHours.tenantId, phoneNumbers.tenantId)))
      .where(isNull(phoneNumbers.removedAt));
    const now = this.deps.clock.now();
    const opened: OpenedNumber[] = [];
    const seen = new Set<string>();
    for (const { tenantId, phoneNumberId, hours } of rows) {
      seen.add(phoneNumberId);
      const open = isOpenAt(hours, now);
      if (open && this.wasOpen.get(phoneNumberId) === false) opened.push({ tenantId, phoneNumberId });
      this.wasOpen.set(phoneNumberId, open);
    }
    for (const id of this.wasOpen.keys()) if (!seen.has(id)) this.wasOpen.delete(id);
    if (opened.length > 0) {
      for (const listener of this.listeners()) {
        try {
          await listener(opened);
        } catch (err) {
          this.deps.logger.error({ err }, 'a numbers-opened listener failed');
        }
      }
    }
    return opened;
  }
}
