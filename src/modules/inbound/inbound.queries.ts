import { FIXTURE, functionQueries, repositoryQueries } from '../../db/query-catalog.js';
import { ingestBatch } from './inbound-batch.repository.js';
import { MessageStatus } from '../messages/message.enums.js';
import { InboundRepository } from './inbound.repository.js';
import type { InboundSms } from './webhook-params.js';

/** The inbound text the catalog's calls store: SID digit `d`, from the fixture's contact to its number. */
function sampleSms(d: string, geo: InboundSms['geo'] = { city: 'Austin', state: 'TX', zip: null, country: 'US' }): InboundSms {
  return { messageSid: `SM${d.repeat(32)}`, from: FIXTURE.contactPhone, to: FIXTURE.e164, body: 'Hello', geo, media: [], mediaDropped: 0, segments: 1, optChange: null };
}

export default [
  repositoryQueries({
    repository: InboundRepository,
    create: (db) => new InboundRepository(db, FIXTURE.tenantId, FIXTURE.accountId),
    calls: {
      ingestOnOutboundOnlyNumber: (r) =>
        r.ingestOnOutboundOnlyNumber(FIXTURE.newId, sampleSms('4', { city: null, state: null, zip: null, country: null })),
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
            sms: sampleSms('5'),
          },
        ]),
      crossTenant:
        "group commit: one statement stores the webhooks of several tenants; each row carries the tenant of the account its webhook key resolved to, and every join and insert uses that row's own tenant_id (the retry probe and the number look-up find their row by a unique key of the row's account, which belongs to that one tenant, and the number's tenant is compared with the row's)",
    },
  }),
];
