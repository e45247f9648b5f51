import { FIXTURE, repositoryQueries } from '../../db/query-catalog.js';
import { WebhookEndpointsRepository } from './webhooks.repository.js';
import { webhookEndpoints } from './webhooks.schema.js';

/** An endpoint of the FIXTURE tenant (inserted by setUp). */
const ENDPOINT_ID = '00000000-0000-4000-8000-0000000a4001';

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
];
