import { FIXTURE, functionQueries, repositoryQueries } from '../../db/query-catalog.js';
import { and, eq } from 'drizzle-orm';
import { contacts } from '../contacts/contacts.schema.js';
import { ingestBatch, type IngestItem } from './inbound-batch.repository.js';
import { MessageStatus } from '../messages/message.enums.js';
import { InboundRepository } from './inbound.repository.js';
import type { InboundSms } from './webhook-params.js';

/** The inbound text the catalog's calls store: SID digit `d`, from the fixture's contact to its number. */
function sampleSms(d: string, geo: InboundSms['geo'] = { city: 'Austin', state: 'TX', zip: null, country: 'US' }): InboundSms {
  return { messageSid: `SM${d.repeat(32)}`, from: FIXTURE.contactPhone, to: FIXTURE.e164, body: 'Hello', geo, media: [], mediaDropped: 0, segments: 1, optChange: null };
}

function sampleItem(sms: InboundSms, copyMedia: number): IngestItem {
  return { tenantId: FIXTURE.tenantId, accountId: FIXTURE.accountId, messageId: FIXTURE.newId, copyMedia, sms };
}

const GROUP_COMMIT =
  "group commit: one statement stores the webhooks of several tenants; each row carries the tenant of the account its webhook key resolved to, and every join and insert uses that row's own tenant_id (the retry probe and the number look-up find their row by a unique key of the row's account, which belongs to that one tenant, and the number's tenant is compared with the row's)";

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
    // The common case: the lean statement.
    ingestBatch: {
      run: (db) => ingestBatch(db, [sampleItem(sampleSms('5'), 0)]),
      crossTenant: GROUP_COMMIT,
    },
    // A text with media: the full statement (its media copy jobs).
    ingestBatchWithMedia: {
      run: (db) => ingestBatch(db, [sampleItem({ ...sampleSms('6'), media: [{ url: 'https://api.twilio.com/media/ME1', contentType: 'image/png' }] }, 1)]),
      crossTenant: GROUP_COMMIT,
    },
    // A blocked contact's text: the lean statement (which stops at its contact), then the full one.
    ingestBatchBlockedContact: {
      setUp: async (db) => {
        await db.update(contacts).set({ blocked: true }).where(and(eq(contacts.tenantId, FIXTURE.tenantId), eq(contacts.id, FIXTURE.contactId)));
      },
      run: (db) => ingestBatch(db, [sampleItem(sampleSms('7'), 0)]),
      crossTenant: GROUP_COMMIT,
    },
  }),
];
