import { and, eq } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { webhookEndpoints } from './webhooks.schema.js';

const TTL_MS = 5_000;
const MAX_TENANTS = 10_000;

/**
 * Per instance, which event types each tenant's enabled endpoints want, so that events of tenants
 * without endpoints (most of them) cost no query. Changes made on this instance apply at once;
 * another instance sees them within TTL_MS. Only a filter: deliveries are written from the
 * endpoints table itself.
 */
export class WebhookEndpointCache {
  private readonly entries = new Map<string, { types: Set<string>; expiresAt: number }>();
  private readonly loading = new Map<string, Promise<Set<string>>>();

  constructor(private readonly db: Db) {}

  async wantedTypes(tenantId: string): Promise<Set<string>> {
    const entry = this.entries.get(tenantId);
    if (entry && entry.expiresAt > Date.now()) return entry.types;
    let pending = this.loading.get(tenantId);
    if (!pending) {
      pending = this.load(tenantId).finally(() => this.loading.delete(tenantId));
      this.loading.set(tenantId, pending);
    }
    return pending;
  }

  invalidate(tenantId: string): void {
    this.entries.delete(tenantId);
  }

  private async load(tenantId: string): Promise<Set<string>> {
    const rows = await this.db
      .select({ events: webhookEndpoints.events })
      .from(webhookEndpoints)
      .where(and(eq(webhookEndpoints.tenantId, tenantId), eq(webhookEndpoints.enabled, true)));
    const types = new Set(rows.flatMap((r) => r.events));
    if (this.entries.size >= MAX_TENANTS) this.entries.clear();
    this.entries.set(tenantId, { types, expiresAt: Date.now() + TTL_MS });
    return types;
  }
}
