import type { Db } from '../../db/client.js';
import type { EventBus } from '../../events/event-bus.js';
import { TeamsRepository } from './teams.repository.js';

const MAX_TENANTS = 2000;

/**
 * Per-instance cache of each tenant's team memberships (user id → team ids), for the visibility
 * rule on live events: every event is checked against every AGENT subscriber's teams, which must
 * not cost a query per subscriber. Any change to a tenant's teams publishes `teamsChanged`, which
 * reaches every instance and drops that tenant's entry.
 */
export class MembershipCache {
  private readonly byTenant = new Map<string, Promise<Map<string, Set<string>>>>();

  constructor(
    private readonly db: Db,
    events: EventBus,
  ) {
    events.listen('teamsChanged', (event) => this.byTenant.delete(event.tenantId));
  }

  async teamsOf(tenantId: string, userId: string): Promise<ReadonlySet<string>> {
    let entry = this.byTenant.get(tenantId);
    if (!entry) {
      if (this.byTenant.size >= MAX_TENANTS) this.byTenant.delete(this.byTenant.keys().next().value!);
      entry = new TeamsRepository(this.db, tenantId).memberships();
      // A failed load is not kept: the next event tries again.
      entry.catch(() => this.byTenant.delete(tenantId));
      this.byTenant.set(tenantId, entry);
    }
    return (await entry).get(userId) ?? new Set();
  }

  /** This instance's own change: drop at once, before the event comes back through the transport. */
  invalidate(tenantId: string): void {
    this.byTenant.delete(tenantId);
  }
}
