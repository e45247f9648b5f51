import { eq } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { webhookEndpoints } from './webhooks.schema.js';

const REFRESH_MS = 5_000;

/**
 * Per instance, which event types each tenant's enabled endpoints want, so that deciding whether a
 * live event should wake the webhook worker (its webhook_events row, if any, was written with the
 * change) costs no query for the (many) tenants without endpoints, and none on the publisher's path: the whole map is reloaded in the background every REFRESH_MS (one small
 * query: endpoints are few), and a tenant whose endpoints changed on this instance is reloaded at
 * once (invalidate). Another instance sees a change within REFRESH_MS. Only a wake-up filter:
 * events and deliveries are gated on the endpoints table itself.
 */
export class WebhookEndpointCache {
  private byTenant = new Map<string, Set<string>>();
  private loaded: Promise<void> | null = null;
  private readonly reloading = new Map<string, Promise<void>>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly db: Db,
    private readonly onError: (err: unknown) => void = () => {},
  ) {}

  /** Starts the periodic reload (the first load happens on first use or here). */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      this.loaded = this.loadAll();
    }, REFRESH_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  async wantedTypes(tenantId: string): Promise<ReadonlySet<string>> {
    this.loaded ??= this.loadAll();
    await this.loaded;
    await this.reloading.get(tenantId);
    return this.byTenant.get(tenantId) ?? EMPTY;
  }

  /** The tenant's endpoints changed here: reload them before the next event of theirs is looked at. */
  invalidate(tenantId: string): void {
    const reload = this.db
      .select({ events: webhookEndpoints.events, enabled: webhookEndpoints.enabled })
      .from(webhookEndpoints)
      .where(eq(webhookEndpoints.tenantId, tenantId))
      .then((rows) => {
        const types = new Set(rows.filter((r) => r.enabled).flatMap((r) => r.events));
        if (types.size > 0) this.byTenant.set(tenantId, types);
        else this.byTenant.delete(tenantId);
      })
      .catch(this.onError)
      .finally(() => {
        if (this.reloading.get(tenantId) === reload) this.reloading.delete(tenantId);
      });
    this.reloading.set(tenantId, reload);
  }

  private async loadAll(): Promise<void> {
    try {
      const rows = await this.db
        .select({ tenantId: webhookEndpoints.tenantId, events: webhookEndpoints.events })
        .from(webhookEndpoints)
        .where(eq(webhookEndpoints.enabled, true));
      const next = new Map<string, Set<string>>();
      for (const row of rows) {
        let types = next.get(row.tenantId);
        if (!types) next.set(row.tenantId, (types = new Set()));
        for (const e of row.events) types.add(e);
      }
      this.byTenant = next;
    } catch (err) {
      this.onError(err);
    }
  }
}

const EMPTY: ReadonlySet<string> = new Set();
