import type { Db } from '../../db/client.js';
import { FIXTURE, functionQueries, repositoryQueries } from '../../db/query-catalog.js';
import { AutomatedMessageTrigger, SurveyState } from './automation.enums.js';
import { AutomatedMessagesRepository, AutomationSendsRepository, hoursOfConversations, OperatingHoldsRepository } from './automations.repository.js';
import { csatSurveys } from './automations.schema.js';
import { CsatRepository, surveysReadyToSend } from './csat.repository.js';

/** A team id for the average; no row needed (the query only compares it). */
const TEAM_ID = '00000000-0000-4000-8000-0000000c1001';
const SINCE = new Date('2024-03-01T00:00:00.000Z');

/** A waiting survey of the FIXTURE conversation, after its resolution text (the outbound FIXTURE message). */
const survey = async (db: Db) => {
  await db.insert(csatSurveys).values({
    tenantId: FIXTURE.tenantId,
    conversationId: FIXTURE.conversationId,
    state: SurveyState.WAITING,
    resolvedById: FIXTURE.userId,
    resolvedAt: SINCE,
    resolvedMessageId: FIXTURE.outboundMessageId,
  });
};

export default [
  repositoryQueries({
    repository: AutomatedMessagesRepository,
    calls: {
      listByNumbers: (r) => r.listByNumbers([FIXTURE.phoneNumberId]),
      findEnabled: (r) => r.findEnabled(FIXTURE.phoneNumberId, [AutomatedMessageTrigger.GREETING, AutomatedMessageTrigger.OUT_OF_HOURS]),
      upsert: (r) => r.upsert(FIXTURE.phoneNumberId, AutomatedMessageTrigger.GREETING, 'Hi! We will answer shortly.', true),
    },
  }),
  repositoryQueries({
    repository: AutomationSendsRepository,
    calls: {
      inboundContext: (r) => r.inboundContext(FIXTURE.conversationId),
      lockRecipient: (r) => r.lockRecipient(FIXTURE.conversationId),
      countLastHour: (r) => r.countLastHour(FIXTURE.contactId),
      record: (r) => r.record(FIXTURE.outboundMessageId, FIXTURE.contactId, AutomatedMessageTrigger.GREETING, FIXTURE.messageId),
      answered: (r) => r.answered(FIXTURE.messageId),
    },
  }),
  repositoryQueries({
    repository: OperatingHoldsRepository,
    calls: {
      releaseHolds: (r) => r.releaseHolds([FIXTURE.phoneNumberId]),
    },
  }),
  repositoryQueries({
    repository: CsatRepository,
    setUp: survey,
    calls: {
      create: (r) => r.create({ conversationId: FIXTURE.conversationId, resolvedById: FIXTURE.userId, resolvedAt: SINCE, resolvedMessageId: FIXTURE.outboundMessageId }),
      lockWaiting: (r) => r.lockWaiting(FIXTURE.conversationId),
      markRequested: (r) => r.markRequested(FIXTURE.conversationId, FIXTURE.outboundMessageId, SINCE),
      markSkipped: (r) => r.markSkipped(FIXTURE.conversationId),
      ratingsOf: (r) => r.ratingsOf([FIXTURE.conversationId]),
      averageForTeam: {
        'all time': (r) => r.averageForTeam(TEAM_ID, null),
        since: (r) => r.averageForTeam(TEAM_ID, SINCE),
      },
      averageForResolver: {
        'all time': (r) => r.averageForResolver(FIXTURE.userId, null),
        since: (r) => r.averageForResolver(FIXTURE.userId, SINCE),
      },
      ingestRating: (r) =>
        r.ingestRating({
          messageId: FIXTURE.newId,
          twilioAccountId: FIXTURE.accountId,
          messageSid: `SM${'5'.repeat(32)}`,
          from: FIXTURE.contactPhone,
          to: FIXTURE.e164,
          body: '5',
          segments: 1,
          rating: 5,
          now: new Date('2024-03-01T12:00:00.000Z'),
        }),
    },
  }),
  functionQueries({
    hoursOfConversations: {
      run: (db) => hoursOfConversations(db, [{ tenantId: FIXTURE.tenantId, conversationId: FIXTURE.conversationId }]),
      crossTenant: "routing's operating-hours guard for a burst of openings of every tenant at once; each (tenant, conversation) pair is matched on both",
    },
    surveysReadyToSend: {
      setUp: survey,
      run: (db) => surveysReadyToSend(db, 50),
      crossTenant: "the CSAT sweeper of every instance finds waiting surveys of every tenant; each is then handled by repositories bound to its tenant",
    },
  }),
];
