import type { Db } from '../../db/client.js';
import { FIXTURE, functionQueries, repositoryQueries } from '../../db/query-catalog.js';
import { webhookEvents } from '../webhook-events/webhook-events.schema.js';
import { claimDueDeliveries, claimWebhookEvents, deleteWebhookEvents, markDelivered, markFailed, WebhookQueueRepository } from './webhook-queue.repository.js';
import { WebhookEndpointsRepository } from './webhooks.repository.js';
import { webhookDeliveries, webhookEndpoints } from './webhooks.schema.js';

/** An endpoint of the FIXTURE tenant (inserted by setUp). */
const ENDPOINT_ID = '00000000-0000-4000-8000-0000000a4001';

/** One pending delivery of the FIXTURE tenant. */
async function oneDelivery(db: Db): Promise<void> {
  await db.insert(webhookEndpoints).values({ id: ENDPOINT_ID, tenantId: FIXTURE.tenantId, url: 'https://example.com/hook', events: ['MESSAGE_RECEIVED'], signingSecretSealed: 'sealed' });
  await db.insert(webhookDeliveries).values({ id: 5000, tenantId: FIXTURE.tenantId, endpointId: ENDPOINT_ID, webhookId: 'msg_1', eventType: 'MESSAGE_RECEIVED', orderingKey: FIXTURE.conversationId, payload: {} });
}

/** One webhook event of the FIXTURE tenant, not yet converted. */
async function oneEvent(db: Db): Promise<void> {
  await db.insert(webhookEvents).values({ id: 6000, tenantId: FIXTURE.tenantId, eventType: 'MESSAGE_RECEIVED', subjectId: FIXTURE.messageId, conversationId: FIXTURE.conversationId });
}

export default [
  repositoryQueries({
    repository: WebhookEndpointsRepository,
    setUp: async (db) => {
      await db.insert(webhookEndpoints).values({ id: ENDPOINT_ID, tenantId: FIXTURE.tenantId, url: 'https://example.com/hook', events: ['message.received'], signingSecretSealed: 'sealed' });
    },
    calls: {
      list: (r) => r.list(),
      count: (r) => r.count(),
      findById: (r) => r.findById(ENDPOINT_ID),
      create: (r) => r.create({ id: FIXTURE.newId, url: 'https://example.com/other', events: ['conversation.resolved'], signingSecretSealed: 'sealed' }),
      update: {
        'enabled again': (r) => r.update(ENDPOINT_ID, { url: 'https://example.com/new', enabled: true }),
        'disabled by an admin': (r) => r.update(ENDPOINT_ID, { enabled: false }),
      },
      delete: (r) => r.delete(ENDPOINT_ID),
      deliveries: {
        'first page': (r) => r.deliveries(ENDPOINT_ID, 20, null),
        'next page': (r) => r.deliveries(ENDPOINT_ID, 20, 1000),
      },
    },
  }),
  repositoryQueries({
    repository: WebhookQueueRepository,
    setUp: async (db) => {
      await db.insert(webhookEndpoints).values({ id: ENDPOINT_ID, tenantId: FIXTURE.tenantId, url: 'https://example.com/hook', events: ['CAMPAIGN_COMPLETED'], signingSecretSealed: 'sealed' });
    },
    calls: {
      queueEvent: (r) => r.queueEvent({ type: 'CAMPAIGN_COMPLETED', orderingKey: 'campaign:x', webhookId: 'msg_x', payload: '{"type":"CAMPAIGN_COMPLETED"}' }),
    },
  }),
  functionQueries({
    claimWebhookEvents: { setUp: oneEvent, run: (db) => claimWebhookEvents(db, 100), crossTenant: 'the converter serves every tenant' },
    deleteWebhookEvents: { setUp: oneEvent, run: (db) => deleteWebhookEvents(db, [6000]), crossTenant: 'by the claimed event ids (claimed across tenants)' },
    claimDueDeliveries: { setUp: oneDelivery, run: (db) => claimDueDeliveries(db, FIXTURE.workerId, 8), crossTenant: 'the delivery worker serves every tenant' },
    markDelivered: { setUp: oneDelivery, run: (db) => markDelivered(db, FIXTURE.workerId, { id: 5000, endpointId: ENDPOINT_ID }, 200), crossTenant: 'by the leased delivery id (claimed across tenants)' },
    markFailed: {
      setUp: oneDelivery,
      run: (db) => markFailed(db, FIXTURE.workerId, { id: 5000, endpointId: ENDPOINT_ID }, { status: 500, error: 'HTTP 500', delayMs: 5000, retryWindowSeconds: 86400 }),
      crossTenant: 'by the leased delivery id (claimed across tenants)',
    },
  }),
];
