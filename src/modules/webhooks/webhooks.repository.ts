import { and, desc, eq, lt, sql } from 'drizzle-orm';
import { TenantRepository } from '../../db/tenant-repository.js';
import { webhookDeliveries, webhookEndpoints, type WebhookDeliveryRow, type WebhookEndpointRow } from './webhooks.schema.js';

export const MAX_ENDPOINTS_PER_TENANT = 20;

export class WebhookEndpointsRepository extends TenantRepository {
  list(): Promise<WebhookEndpointRow[]> {
    return this.db
      .select()
      .from(webhookEndpoints)
      .where(this.scoped(webhookEndpoints))
      .orderBy(desc(webhookEndpoints.createdAt))
      .limit(MAX_ENDPOINTS_PER_TENANT);
  }

  async count(): Promise<number> {
    const [row] = await this.db.select({ n: sql<number>`count(*)::int` }).from(webhookEndpoints).where(this.scoped(webhookEndpoints));
    return row?.n ?? 0;
  }

  async findById(id: string): Promise<WebhookEndpointRow | undefined> {
    const [row] = await this.db.select().from(webhookEndpoints).where(this.scoped(webhookEndpoints, eq(webhookEndpoints.id, id))).limit(1);
    return row;
  }

  async create(values: { id: string; url: string; events: string[]; signingSecretSealed: string }): Promise<WebhookEndpointRow> {
    const [row] = await this.db.insert(webhookEndpoints).values({ ...values, tenantId: this.tenantId }).returning();
    return row!;
  }

  async update(id: string, changes: { url?: string; events?: string[]; enabled?: boolean }): Promise<WebhookEndpointRow | undefined> {
    const set: Record<string, unknown> = { ...changes, updatedAt: sql`now()` };
    // Turned on again by an admin: a fresh start for the failure clock.
    if (changes.enabled === true) Object.assign(set, { failingSince: null, disabledReason: null });
    if (changes.enabled === false) Object.assign(set, { disabledReason: 'disabled by an admin' });
    const [row] = await this.db.update(webhookEndpoints).set(set).where(this.scoped(webhookEndpoints, eq(webhookEndpoints.id, id))).returning();
    return row;
  }

  async delete(id: string): Promise<boolean> {
    const rows = await this.db.delete(webhookEndpoints).where(this.scoped(webhookEndpoints, eq(webhookEndpoints.id, id))).returning({ id: webhookEndpoints.id });
    return rows.length > 0;
  }

  /** Newest first, keyset on id. */
  deliveries(endpointId: string, limit: number, beforeId: number | null): Promise<WebhookDeliveryRow[]> {
    return this.db
      .select()
      .from(webhookDeliveries)
      .where(
        and(
          this.scoped(webhookDeliveries, eq(webhookDeliveries.endpointId, endpointId)),
          beforeId !== null ? lt(webhookDeliveries.id, beforeId) : undefined,
        ),
      )
      .orderBy(desc(webhookDeliveries.id))
      .limit(limit);
  }
}
