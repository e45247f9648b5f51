import { randomBytes, randomUUID } from 'node:crypto';
import type { SecretBox } from '../../shared/secret-box.js';
import type { TenantScope } from '../../shared/deps.js';
import { badInput, conflict, notFound } from '../../shared/errors.js';
import { isUuid } from '../../shared/ids.js';
import { audit } from '../audit/audit.js';
import { WebhookEventType } from './webhook.type.js';
import { requireSafeWebhookUrl } from './url-guard.js';
import { MAX_ENDPOINTS_PER_TENANT, WebhookEndpointsRepository } from './webhooks.repository.js';
import type { WebhookEndpointRow } from './webhooks.schema.js';

const EVENT_TYPES = new Set<string>(Object.values(WebhookEventType));

export function sealSigningSecret(box: SecretBox, tenantId: string, endpointId: string, secret: string): string {
  return box.seal(secret, `webhook:${tenantId}:${endpointId}`);
}

export function openSigningSecret(box: SecretBox, endpoint: Pick<WebhookEndpointRow, 'tenantId' | 'id' | 'signingSecretSealed'>): string {
  return box.open(endpoint.signingSecretSealed, `webhook:${endpoint.tenantId}:${endpoint.id}`);
}

function requireEvents(events: readonly string[]): string[] {
  const unique = [...new Set(events)];
  if (unique.length === 0) throw badInput('events must name at least one event type', 'events');
  for (const e of unique) if (!EVENT_TYPES.has(e)) throw badInput(`unknown event type ${e}`, 'events');
  return unique;
}

export class WebhooksService {
  private readonly endpoints: WebhookEndpointsRepository;

  constructor(private readonly scope: TenantScope) {
    this.endpoints = new WebhookEndpointsRepository(scope.deps.db, scope.tenantId);
  }

  list(): Promise<WebhookEndpointRow[]> {
    return this.endpoints.list();
  }

  async create(input: { url: string; events: string[] }): Promise<{ endpoint: WebhookEndpointRow; signingSecret: string }> {
    const { deps, tenantId } = this.scope;
    const events = requireEvents(input.events);
    const url = await requireSafeWebhookUrl(input.url, deps.config.webhooks.allowPrivate);
    if ((await this.endpoints.count()) >= MAX_ENDPOINTS_PER_TENANT) {
      throw conflict(`A workspace can have at most ${MAX_ENDPOINTS_PER_TENANT} webhook endpoints`);
    }
    const id = randomUUID();
    const signingSecret = `whsec_${randomBytes(32).toString('base64')}`;
    const endpoint = await deps.db.transaction(async (tx) => {
      const row = await new WebhookEndpointsRepository(tx, tenantId).create({
        id,
        url,
        events,
        signingSecretSealed: sealSigningSecret(deps.secretBox, tenantId, id, signingSecret),
      });
      await audit(this.scope).record(tx, { action: 'webhook_endpoint.create', targetType: 'webhook_endpoint', targetId: row.id });
      return row;
    });
    deps.webhookEndpointCache.invalidate(tenantId);
    return { endpoint, signingSecret };
  }

  async update(id: string, input: { url?: string | null; events?: string[] | null; enabled?: boolean | null }): Promise<WebhookEndpointRow> {
    const { deps, tenantId } = this.scope;
    if (!isUuid(id)) throw notFound('Webhook endpoint');
    const changes: { url?: string; events?: string[]; enabled?: boolean } = {};
    if (input.url !== undefined) {
      if (input.url === null) throw badInput('url cannot be cleared', 'url');
      changes.url = await requireSafeWebhookUrl(input.url, deps.config.webhooks.allowPrivate);
    }
    if (input.events !== undefined) {
      if (input.events === null) throw badInput('events cannot be cleared', 'events');
      changes.events = requireEvents(input.events);
    }
    if (input.enabled !== undefined && input.enabled !== null) changes.enabled = input.enabled;
    const row = await deps.db.transaction(async (tx) => {
      const updated = await new WebhookEndpointsRepository(tx, tenantId).update(id, changes);
      if (updated) await audit(this.scope).record(tx, { action: 'webhook_endpoint.update', targetType: 'webhook_endpoint', targetId: id });
      return updated;
    });
    if (!row) throw notFound('Webhook endpoint');
    deps.webhookEndpointCache.invalidate(tenantId);
    return row;
  }

  /** Its pending deliveries go with it. */
  async delete(id: string): Promise<boolean> {
    const { deps, tenantId } = this.scope;
    if (!isUuid(id)) throw notFound('Webhook endpoint');
    const deleted = await deps.db.transaction(async (tx) => {
      const done = await new WebhookEndpointsRepository(tx, tenantId).delete(id);
      if (done) await audit(this.scope).record(tx, { action: 'webhook_endpoint.delete', targetType: 'webhook_endpoint', targetId: id });
      return done;
    });
    if (!deleted) throw notFound('Webhook endpoint');
    deps.webhookEndpointCache.invalidate(tenantId);
    return true;
  }
}
