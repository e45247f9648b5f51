import { FIXTURE, functionQueries, repositoryQueries } from '../../db/query-catalog.js';
import { ingestBatch } from './inbound-batch.repository.js';
import { MessageStatus } from '../messages/message.enums.js';
import { InboundRepository } from './inbound.repository.js';

export default [
  repositoryQueries({
    repository: InboundRepository,
    create: (db) => new InboundRepository(db, FIXTURE.tenantId, FIXTURE.accountId),
    calls: {
      ingest: (r) =>
        r.ingest(FIXTURE.newId, {
          messageSid: `SM${'2'.repeat(32)}`,
          from: FIXTURE.contactPhone,
          to: FIXTURE.e164,
          body: 'Hello',
          geo: { city: 'Austin', state: 'TX', zip: null, country: 'US' },
          media: [],
          mediaDropped: 0,
          segments: 1,
          optChange: null,
        }),
      ingestOnOutboundOnlyNumber: (r) =>
        r.ingestOnOutboundOnlyNumber(FIXTURE.newId, {
          messageSid: `SM${'4'.repeat(32)}`,
          from: FIXTURE.contactPhone,
          to: FIXTURE.e164,
          body: 'Hello',
          geo: { city: null, state: null, zip: null, country: null },
          media: [],
          mediaDropped: 0,
          segments: 1,
          optChange: null,
        }),
      findBySid: (r) => r.findBySid(`SM${'3'.repeat(32)}`),
      applyStatus: (r) =>
        r.applyStatus({
          messageId: FIXTURE.outboundMessageId,
          messageSid: `SM${'3'.repeat(32)}`,
          status: MessageStatus.DELIVERED,
          errorCode: null,
          errorMessage: null,
          optOut: false,
        }),
    },
  }),
  functionQueries({
    ingestBatch: {
      run: (db) =>
        ingestBatch(db, [
          {
            tenantId: FIXTURE.tenantId,
            accountId: FIXTURE.accountId,
            messageId: FIXTURE.newId,
            copyMedia: 0,
            sms: {
              messageSid: `SM${'5'.repeat(32)}`,
              from: FIXTURE.contactPhone,
              to: FIXTURE.e164,
              body: 'Hello',
              geo: { city: 'Austin', state: 'TX', zip: null, country: 'US' },
              media: [],
              mediaDropped: 0,
              segments: 1,
              optChange: null,
            },
          },
        ]),
      crossTenant:
        "group commit: one statement stores the webhooks of several tenants; each row carries the tenant of the account its webhook key resolved to, and every join and insert uses that row's own tenant_id",
    },
  }),
];
