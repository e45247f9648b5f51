import { FIXTURE, repositoryQueries } from '../../db/query-catalog.js';
import { NumberType } from '../phone-numbers/phone-number.enums.js';
import { OutboxQueue, OutboxRepository } from './outbox.repository.js';
import { OutboxBatchRepository } from './outbox-send.repository.js';

const job = { id: FIXTURE.outboxJobId, tenantId: FIXTURE.tenantId, messageId: FIXTURE.outboundMessageId };

export default [
  repositoryQueries({
    repository: OutboxRepository,
    calls: {
      enqueue: (r) => r.enqueue(FIXTURE.messageId, FIXTURE.phoneNumberId),
    },
  }),
  repositoryQueries({
    repository: OutboxQueue,
    create: (db) => new OutboxQueue(db, FIXTURE.workerId),
    crossTenant: "the dispatchers' queue claims due jobs of every tenant; each job is then handled by repositories bound to its tenant",
    calls: {
      claim: {
        unpaced: (q) => q.claim({ limit: 10, leaseSeconds: 30, pacing: null }),
        paced: (q) =>
          q.claim({
            limit: 10,
            leaseSeconds: 30,
            pacing: { mps: { [NumberType.LONG_CODE]: 1, [NumberType.SHORT_CODE]: 100, [NumberType.TOLL_FREE]: 3 }, horizonMs: 2000 },
          }),
      },
      complete: (q) => q.complete(FIXTURE.outboxJobId),
      reschedule: (q) => q.reschedule(FIXTURE.outboxJobId, 1000, 'timeout'),
      releaseHeld: (q) => q.releaseHeld([FIXTURE.outboxJobId]),
    },
  }),
  repositoryQueries({
    repository: OutboxBatchRepository,
    create: (db) => new OutboxBatchRepository(db, FIXTURE.workerId),
    crossTenant: "a dispatcher's batch spans tenants; every row is matched on its job's (tenant_id, id) pair, and joined rows on the message's tenant",
    calls: {
      load: (r) => r.load([job]),
      markSending: (r) => r.markSending([{ ...job, holdMs: 30_000 }]),
      recordSent: (r) => r.recordSent([{ ...job, twilioSid: `SM${'4'.repeat(32)}` }]),
    },
  }),
];
