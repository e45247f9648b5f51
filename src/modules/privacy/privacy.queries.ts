import { FIXTURE, functionQueries, repositoryQueries } from '../../db/query-catalog.js';
import { claimTwilioDeletions, finishTwilioDeletion, PrivacyRepository, retryTwilioDeletion } from './privacy.repository.js';
import { twilioDeletions } from './privacy.schema.js';

const CUTOFF = new Date('2024-03-15T00:00:00.000Z');
/** A queued Twilio deletion of the FIXTURE tenant (inserted by setUp). */
const DELETION_ID = 9000;

export default [
  repositoryQueries({
    repository: PrivacyRepository,
    calls: {
      contact: (r) => r.contact(FIXTURE.contactId),
      threadsOf: (r) => r.threadsOf(FIXTURE.contactId),
      conversationIdsOf: (r) => r.conversationIdsOf(FIXTURE.contactId),
      messagesOf: (r) => r.messagesOf([FIXTURE.conversationId], 50_000),
      notesOf: (r) => r.notesOf([FIXTURE.conversationId]),
      queueTwilioDeletions: (r) => r.queueTwilioDeletions([FIXTURE.conversationId]),
      deleteConversations: (r) => r.deleteConversations([FIXTURE.conversationId]),
      clearContactDetails: (r) => r.clearContactDetails(FIXTURE.contactId),
      deleteMessagesBefore: (r) => r.deleteMessagesBefore(CUTOFF, 500),
      deleteWebhookDeliveriesBefore: (r) => r.deleteWebhookDeliveriesBefore(CUTOFF, 500),
    },
  }),
  functionQueries({
    claimTwilioDeletions: {
      setUp: async (db) => {
        await db.insert(twilioDeletions).values({ id: DELETION_ID, tenantId: FIXTURE.tenantId, twilioAccountId: FIXTURE.accountId, messageSid: `SM${'2'.repeat(32)}` });
      },
      run: (db) => claimTwilioDeletions(db, 20, 120),
      crossTenant: 'the maintenance worker deletes messages at Twilio for every tenant',
    },
    finishTwilioDeletion: { run: (db) => finishTwilioDeletion(db, DELETION_ID), crossTenant: 'by the leased job id (claimed across tenants)' },
    retryTwilioDeletion: { run: (db) => retryTwilioDeletion(db, DELETION_ID, 'HTTP 500', 10_000), crossTenant: 'by the leased job id (claimed across tenants)' },
  }),
];
